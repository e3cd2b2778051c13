<?php

declare(strict_types=1);

/**
 * The SQL of the orders service (PDO, PostgreSQL).
 *
 * Stock changes are single conditional UPDATEs, so concurrent requests never lose a write
 * or oversell; an order's items are taken in product order inside one transaction, all
 * or nothing.
 */
final class Store
{
    private const SCHEMA = <<<'SQL'
        CREATE TABLE IF NOT EXISTS products (
            id          BIGSERIAL PRIMARY KEY,
            sku         TEXT NOT NULL UNIQUE,
            name        TEXT NOT NULL,
            price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
            stock       INTEGER NOT NULL CHECK (stock >= 0)
        );
        CREATE TABLE IF NOT EXISTS orders (
            id              BIGSERIAL PRIMARY KEY,
            customer        TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'placed'
                            CHECK (status IN ('placed', 'cancelled')),
            total_cents     BIGINT NOT NULL,
            created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            idempotency_key TEXT UNIQUE,
            request_hash    TEXT
        );
        CREATE INDEX IF NOT EXISTS orders_customer_status_idx ON orders (customer, status);
        CREATE TABLE IF NOT EXISTS order_items (
            order_id         BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
            product_id       BIGINT NOT NULL REFERENCES products (id),
            quantity         INTEGER NOT NULL CHECK (quantity > 0),
            unit_price_cents INTEGER NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );
        SQL;
    private const PRODUCT = 'id, sku, name, price_cents, stock';
    private const ORDER = 'id, customer, status, total_cents, created_at';

    /**
     * The store over a database connection.
     */
    public function __construct(private Database $db)
    {
    }

    /**
     * Create the tables unless they exist.
     *
     * PHP keeps nothing between requests, so each request asks whether the tables are
     * there (one cheap query); the first to find them missing creates them, under a lock.
     */
    public function ensureSchema(): void
    {
        if ($this->db->value("SELECT to_regclass('public.order_items') IS NOT NULL")) {
            return;
        }
        $this->db->transaction(function (): void {
            $this->db->run('SET LOCAL client_min_messages = warning');
            $this->db->run('SELECT pg_advisory_xact_lock(4242)');
            $this->db->script(self::SCHEMA);
        });
    }

    /**
     * The new product; Refused('sku_taken') when its SKU exists.
     *
     * @param array{sku: string, name: string, price_cents: int, stock: int} $product
     * @return array<string, mixed>
     */
    public function insertProduct(array $product): array
    {
        $row = $this->db->row(
            'INSERT INTO products (sku, name, price_cents, stock) VALUES (?, ?, ?, ?) '
            . 'ON CONFLICT (sku) DO NOTHING RETURNING ' . self::PRODUCT,
            [$product['sku'], $product['name'], $product['price_cents'], $product['stock']]
        );
        return $row === null ? throw new Refused('sku_taken') : self::productView($row);
    }

    /**
     * One product; Refused('not_found') when there is none.
     *
     * @return array<string, mixed>
     */
    public function product(int $id): array
    {
        $row = $this->db->row('SELECT ' . self::PRODUCT . ' FROM products WHERE id = ?', [$id]);
        return $row === null ? throw new Refused('not_found') : self::productView($row);
    }

    /**
     * A page of products in id order, and how many match.
     *
     * @return array{0: list<array<string, mixed>>, 1: int}
     */
    public function products(int $limit, int $offset, bool $inStock): array
    {
        $where = $inStock ? 'WHERE stock > 0' : '';
        $rows = $this->db->rows(
            'SELECT ' . self::PRODUCT . " FROM products $where ORDER BY id LIMIT ? OFFSET ?",
            [$limit, $offset]
        );
        $total = (int) $this->db->value("SELECT count(*) FROM products $where");
        return [array_map(self::productView(...), $rows), $total];
    }

    /**
     * Add $delta in one conditional UPDATE: concurrent changes all apply, never below 0.
     *
     * @return array<string, mixed>
     */
    public function changeStock(int $id, int $delta): array
    {
        $row = $this->db->row(
            'UPDATE products SET stock = stock + ? WHERE id = ? AND stock + ? >= 0 RETURNING ' . self::PRODUCT,
            [$delta, $id, $delta]
        );
        if ($row !== null) {
            return self::productView($row);
        }
        $this->product($id);
        throw new Refused('insufficient_stock');
    }

    /**
     * One order with its items; Refused('not_found') when there is none.
     *
     * @return array<string, mixed>
     */
    public function order(int $id): array
    {
        $row = $this->db->row('SELECT ' . self::ORDER . ' FROM orders WHERE id = ?', [$id]);
        return $row === null ? throw new Refused('not_found') : $this->withItems($row);
    }

    /**
     * Place an order: every item is taken from stock in one transaction, or none is. With
     * a key, a repeat of the same request finds the order the first one made.
     *
     * @param list<array{product_id: int, quantity: int}> $items
     * @return array{0: array<string, mixed>, 1: bool} the order, and whether it was replayed
     */
    public function placeOrder(string $customer, array $items, ?string $key): array
    {
        $hash = hash('sha256', json_encode([$customer, $items], JSON_THROW_ON_ERROR));
        return $this->db->transaction(function () use ($customer, $items, $key, $hash): array {
            $id = $this->db->value(
                'INSERT INTO orders (customer, total_cents, idempotency_key, request_hash) '
                . 'VALUES (?, 0, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id',
                [$customer, $key, $hash]
            );
            if ($id === null) {
                // Another request with this key committed first (PostgreSQL waited for it).
                return [$this->replay((string) $key, $hash), true];
            }
            return [$this->fill((int) $id, $items), false];
        });
    }

    /**
     * A page of orders in id order, filtered by customer and status, and how many match.
     *
     * @return array{0: list<array<string, mixed>>, 1: int}
     */
    public function orders(int $limit, int $offset, ?string $customer, ?string $status): array
    {
        $filters = array_filter(['customer' => $customer, 'status' => $status], fn ($v) => $v !== null);
        $where = $filters === [] ? '' : 'WHERE ' . implode(' AND ', array_map(
            fn ($column) => "$column = ?",
            array_keys($filters)
        ));
        $args = array_values($filters);
        $total = (int) $this->db->value("SELECT count(*) FROM orders $where", $args);
        $rows = $this->db->rows(
            'SELECT ' . self::ORDER . " FROM orders $where ORDER BY id LIMIT ? OFFSET ?",
            [...$args, $limit, $offset]
        );
        return [array_map($this->withItems(...), $rows), $total];
    }

    /**
     * Cancel a placed order and put its items back in stock.
     *
     * @return array<string, mixed>
     */
    public function cancel(int $id): array
    {
        return $this->db->transaction(function () use ($id): array {
            $status = $this->db->value('SELECT status FROM orders WHERE id = ? FOR UPDATE', [$id]);
            if ($status === null) {
                throw new Refused('not_found');
            }
            if ($status === 'cancelled') {
                throw new Refused('already_cancelled');
            }
            $this->db->run(
                'UPDATE products p SET stock = p.stock + i.quantity FROM order_items i '
                . 'WHERE i.order_id = ? AND p.id = i.product_id',
                [$id]
            );
            $this->db->run("UPDATE orders SET status = 'cancelled' WHERE id = ?", [$id]);
            return $this->order($id);
        });
    }

    /**
     * Take each item from stock (in product order: two orders never wait on each other's
     * rows in a cycle), record it, and set the order's total.
     *
     * @param list<array{product_id: int, quantity: int}> $items
     * @return array<string, mixed>
     */
    private function fill(int $id, array $items): array
    {
        usort($items, fn ($a, $b) => $a['product_id'] <=> $b['product_id']);
        $total = 0;
        foreach ($items as ['product_id' => $productId, 'quantity' => $quantity]) {
            $price = $this->db->value(
                'UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ? RETURNING price_cents',
                [$quantity, $productId, $quantity]
            );
            if ($price === null) {
                $exists = $this->db->value('SELECT 1 FROM products WHERE id = ?', [$productId]) !== null;
                throw new Refused($exists ? 'insufficient_stock' : 'unknown_product');
            }
            $this->db->run(
                'INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)',
                [$id, $productId, $quantity, $price]
            );
            $total += (int) $price * $quantity;
        }
        $this->db->run('UPDATE orders SET total_cents = ? WHERE id = ?', [$total, $id]);
        return $this->order($id);
    }

    /**
     * @return array<string, mixed>
     */
    private function replay(string $key, string $hash): array
    {
        $row = $this->db->row('SELECT id, request_hash FROM orders WHERE idempotency_key = ?', [$key]);
        if ($row === null || $row['request_hash'] !== $hash) {
            throw new Refused('idempotency_key_reused');
        }
        return $this->order((int) $row['id']);
    }

    /**
     * @param array<string, mixed> $row
     * @return array<string, mixed>
     */
    private function withItems(array $row): array
    {
        $items = $this->db->rows(
            'SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = ? ORDER BY product_id',
            [$row['id']]
        );
        return [
            'id' => (int) $row['id'],
            'customer' => $row['customer'],
            'status' => $row['status'],
            'total_cents' => (int) $row['total_cents'],
            'created_at' => (new DateTimeImmutable($row['created_at']))
                ->setTimezone(new DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.uP'),
            'items' => array_map(fn ($item) => array_map('intval', $item), $items),
        ];
    }

    /**
     * @param array<string, mixed> $row
     * @return array<string, mixed>
     */
    private static function productView(array $row): array
    {
        return [
            'id' => (int) $row['id'],
            'sku' => $row['sku'],
            'name' => $row['name'],
            'price_cents' => (int) $row['price_cents'],
            'stock' => (int) $row['stock'],
        ];
    }
}
