<?php

declare(strict_types=1);

/**
 * Checks of request bodies and query strings: each returns the clean value or throws Invalid.
 */
final class Validation
{
    private const SKU = '/^[A-Z0-9-]{3,32}$/';
    private const INT_MAX = 2147483647;
    private const FLAGS = ['true' => true, '1' => true, 'false' => false, '0' => false];

    /**
     * The request body as a JSON object (a list, a scalar or broken JSON is not one).
     *
     * @return array<string, mixed>
     */
    public static function body(string $raw): array
    {
        try {
            $value = json_decode($raw, true, 64, JSON_THROW_ON_ERROR);
        } catch (JsonException) {
            throw new Invalid('body: not JSON');
        }
        return self::object($value, 'body');
    }

    /**
     * An int (not a float, a string or a boolean) from $min to $max.
     */
    public static function integer(mixed $value, string $name, int $min, int $max): int
    {
        if (!is_int($value) || $value < $min || $value > $max) {
            throw new Invalid("$name: an integer from $min to $max is required");
        }
        return $value;
    }

    /**
     * A string of $min to $max characters.
     */
    public static function text(mixed $value, string $name, int $min, int $max): string
    {
        $length = is_string($value) ? mb_strlen($value, 'UTF-8') : -1;
        if ($length < $min || $length > $max) {
            throw new Invalid("$name: a string of $min to $max characters is required");
        }
        return $value;
    }

    /**
     * The body of POST /products: sku, name, price_cents and stock (default 0).
     *
     * @param array<string, mixed> $body
     * @return array{sku: string, name: string, price_cents: int, stock: int}
     */
    public static function newProduct(array $body): array
    {
        $sku = self::text($body['sku'] ?? null, 'sku', 3, 32);
        if (preg_match(self::SKU, $sku) !== 1) {
            throw new Invalid('sku: A-Z, 0-9 and - only');
        }
        return [
            'sku' => $sku,
            'name' => self::text($body['name'] ?? null, 'name', 1, 200),
            'price_cents' => self::integer($body['price_cents'] ?? null, 'price_cents', 0, self::INT_MAX),
            'stock' => array_key_exists('stock', $body)
                ? self::integer($body['stock'], 'stock', 0, self::INT_MAX) : 0,
        ];
    }

    /**
     * The delta of POST /products/{id}/stock.
     *
     * @param array<string, mixed> $body
     */
    public static function stockDelta(array $body): int
    {
        return self::integer($body['delta'] ?? null, 'delta', -self::INT_MAX, self::INT_MAX);
    }

    /**
     * The body of POST /orders: a customer and 1 to 50 items, each product once.
     *
     * @param array<string, mixed> $body
     * @return array{0: string, 1: list<array{product_id: int, quantity: int}>}
     */
    public static function newOrder(array $body): array
    {
        $customer = self::text($body['customer'] ?? null, 'customer', 1, 100);
        $items = $body['items'] ?? null;
        if (!is_array($items) || !array_is_list($items) || count($items) < 1 || count($items) > 50) {
            throw new Invalid('items: a list of 1 to 50 items is required');
        }
        $clean = [];
        foreach ($items as $i => $item) {
            $line = self::object($item, "items[$i]");
            $id = self::integer($line['product_id'] ?? null, "items[$i].product_id", 1, PHP_INT_MAX);
            if (isset($clean[$id])) {
                throw new Invalid("items: product $id appears twice");
            }
            $quantity = self::integer($line['quantity'] ?? null, "items[$i].quantity", 1, 10000);
            $clean[$id] = ['product_id' => $id, 'quantity' => $quantity];
        }
        return [$customer, array_values($clean)];
    }

    /**
     * limit (1-100, default 20) and offset (>= 0, default 0) of a list request.
     *
     * @param array<string, mixed> $query
     * @return array{0: int, 1: int}
     */
    public static function page(array $query): array
    {
        return [
            self::queryInteger($query['limit'] ?? null, 'limit', 1, 100, 20),
            self::queryInteger($query['offset'] ?? null, 'offset', 0, self::INT_MAX, 0),
        ];
    }

    /**
     * A boolean query parameter: true or false (1 or 0; absent: false).
     */
    public static function flag(mixed $value, string $name): bool
    {
        if ($value === null) {
            return false;
        }
        if (!is_string($value) || !array_key_exists($value, self::FLAGS)) {
            throw new Invalid("$name: true or false");
        }
        return self::FLAGS[$value];
    }

    /**
     * The status filter of GET /orders: placed, cancelled or absent.
     */
    public static function orderStatus(mixed $value): ?string
    {
        if ($value !== null && $value !== 'placed' && $value !== 'cancelled') {
            throw new Invalid('status: placed or cancelled');
        }
        return $value;
    }

    /**
     * A filter holding one string, or null when it is absent.
     */
    public static function optionalText(mixed $value, string $name): ?string
    {
        if ($value !== null && !is_string($value)) {
            throw new Invalid("$name: one value");
        }
        return $value;
    }

    /**
     * A JSON object decoded as an array (a list is not one).
     *
     * @return array<string, mixed>
     */
    private static function object(mixed $value, string $name): array
    {
        if (!is_array($value) || ($value !== [] && array_is_list($value))) {
            throw new Invalid("$name: a JSON object is required");
        }
        return $value;
    }

    private static function queryInteger(mixed $value, string $name, int $min, int $max, int $fallback): int
    {
        if ($value === null) {
            return $fallback;
        }
        if (!is_string($value) || preg_match('/^\d{1,9}$/', $value) !== 1) {
            throw new Invalid("$name: an integer from $min to $max is required");
        }
        return self::integer((int) $value, $name, $min, $max);
    }
}
