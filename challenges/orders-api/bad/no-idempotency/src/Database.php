<?php

declare(strict_types=1);

/**
 * A PostgreSQL connection (PDO) with the few helpers the store needs.
 */
final class Database
{
    /**
     * The helpers over $pdo.
     */
    public function __construct(private PDO $pdo)
    {
    }

    /**
     * A connection to $url (postgresql://user:password@host:port/name), kept open by the
     * worker process between requests (a persistent connection).
     */
    public static function connect(string $url): self
    {
        $parts = parse_url($url);
        $dsn = sprintf(
            'pgsql:host=%s;port=%d;dbname=%s;sslmode=disable',
            $parts['host'] ?? '127.0.0.1',
            $parts['port'] ?? 5432,
            ltrim($parts['path'] ?? '', '/')
        );
        return new self(new PDO($dsn, urldecode($parts['user'] ?? ''), urldecode($parts['pass'] ?? ''), [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
            PDO::ATTR_PERSISTENT => true,
        ]));
    }

    /**
     * Run several statements (no parameters).
     */
    public function script(string $sql): void
    {
        $this->pdo->exec($sql);
    }

    /**
     * Run $work in a transaction: committed when it returns, rolled back if it throws.
     *
     * @template T
     * @param callable(): T $work
     * @return T
     */
    public function transaction(callable $work): mixed
    {
        $this->pdo->beginTransaction();
        try {
            $result = $work();
            $this->pdo->commit();
            return $result;
        } catch (Throwable $e) {
            $this->pdo->rollBack();
            throw $e;
        }
    }

    /**
     * Run one statement with positional parameters (ints bound as ints).
     *
     * @param list<mixed> $args
     */
    public function run(string $sql, array $args = []): PDOStatement
    {
        $statement = $this->pdo->prepare($sql);
        foreach ($args as $i => $arg) {
            $type = match (true) {
                is_int($arg) => PDO::PARAM_INT,
                $arg === null => PDO::PARAM_NULL,
                default => PDO::PARAM_STR,
            };
            $statement->bindValue($i + 1, $arg, $type);
        }
        $statement->execute();
        return $statement;
    }

    /**
     * The first row of a query, or null.
     *
     * @param list<mixed> $args
     * @return array<string, mixed>|null
     */
    public function row(string $sql, array $args = []): ?array
    {
        $row = $this->run($sql, $args)->fetch();
        return $row === false ? null : $row;
    }

    /**
     * Every row of a query.
     *
     * @param list<mixed> $args
     * @return list<array<string, mixed>>
     */
    public function rows(string $sql, array $args = []): array
    {
        return $this->run($sql, $args)->fetchAll();
    }

    /**
     * The first column of the first row of a query, or null.
     *
     * @param list<mixed> $args
     */
    public function value(string $sql, array $args = []): mixed
    {
        $value = $this->run($sql, $args)->fetchColumn();
        return $value === false ? null : $value;
    }
}
