<?php

declare(strict_types=1);

/**
 * The HTTP side of the orders service: routes, handlers and the error shape.
 */
final class Api
{
    private const STATUS = [
        'validation_failed' => 422, 'not_found' => 404, 'unknown_product' => 422, 'sku_taken' => 409,
        'insufficient_stock' => 409, 'idempotency_key_reused' => 409, 'already_cancelled' => 409,
    ];
    private const ID = '(?P<id>[1-9][0-9]{0,17})';

    /**
     * The API over $store.
     */
    public function __construct(private Store $store)
    {
    }

    /**
     * Answer one request: [status, body].
     *
     * @param array<string, mixed> $query
     * @return array{0: int, 1: mixed}
     */
    public function handle(string $method, string $path, array $query, callable $body, ?string $key): array
    {
        try {
            return $this->route($method, $path, $query, $body, $key);
        } catch (Invalid $e) {
            return self::error('validation_failed', $e->getMessage());
        } catch (Refused $e) {
            return self::error($e->getMessage(), $e->getMessage());
        }
    }

    /**
     * @param array<string, mixed> $query
     * @return array{0: int, 1: mixed}
     */
    private function route(string $method, string $path, array $query, callable $body, ?string $key): array
    {
        $store = $this->store;
        $id = preg_match('#^/(?:products|orders)/' . self::ID . '(?:/|$)#', $path, $m) === 1 ? (int) $m['id'] : 0;
        $route = "$method " . preg_replace('#^/(products|orders)/[^/]+#', '/$1/{id}', $path);
        if (str_contains($route, '{id}') && $id === 0) {
            throw new Refused('not_found');
        }
        return match ($route) {
            'GET /healthz' => [200, ['status' => 'ok']],
            'POST /products' => [201, $store->insertProduct(Validation::newProduct($body()))],
            'GET /products' => $this->listProducts($query),
            'GET /products/{id}' => [200, $store->product($id)],
            'POST /products/{id}/stock' => [200, $store->changeStock($id, Validation::stockDelta($body()))],
            'POST /orders' => $this->placeOrder($body(), $key),
            'GET /orders' => $this->listOrders($query),
            'GET /orders/{id}' => [200, $store->order($id)],
            'POST /orders/{id}/cancel' => [200, $store->cancel($id)],
            default => self::error('not_found', "no route $method $path"),
        };
    }

    /**
     * @param array<string, mixed> $query
     * @return array{0: int, 1: mixed}
     */
    private function listProducts(array $query): array
    {
        [$limit, $offset] = Validation::page($query);
        $inStock = Validation::flag($query['in_stock'] ?? null, 'in_stock');
        [$items, $total] = $this->store->products($limit, $offset, $inStock);
        return [200, ['items' => $items, 'total' => $total, 'limit' => $limit, 'offset' => $offset]];
    }

    /**
     * @param array<string, mixed> $body
     * @return array{0: int, 1: mixed}
     */
    private function placeOrder(array $body, ?string $key): array
    {
        [$customer, $items] = Validation::newOrder($body);
        if ($key !== null && strlen($key) > 200) {
            throw new Invalid('Idempotency-Key: at most 200 characters');
        }
        // BUG (known-bad): the Idempotency-Key is checked, then never used: a client's
        // retry places a second order and takes the stock again.
        [$order, $replayed] = $this->store->placeOrder($customer, $items, null);
        return [$replayed ? 200 : 201, $order];
    }

    /**
     * @param array<string, mixed> $query
     * @return array{0: int, 1: mixed}
     */
    private function listOrders(array $query): array
    {
        [$limit, $offset] = Validation::page($query);
        $status = Validation::orderStatus($query['status'] ?? null);
        $customer = Validation::optionalText($query['customer'] ?? null, 'customer');
        [$items, $total] = $this->store->orders($limit, $offset, $customer, $status);
        return [200, ['items' => $items, 'total' => $total, 'limit' => $limit, 'offset' => $offset]];
    }

    /**
     * @return array{0: int, 1: mixed}
     */
    private static function error(string $code, string $message): array
    {
        return [self::STATUS[$code] ?? 500, ['error' => ['code' => $code, 'message' => $message]]];
    }
}
