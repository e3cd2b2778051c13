<?php

// The front controller: `php -S 0.0.0.0:$PORT -t public public/index.php` sends every
// request here (PHP's built-in server, one request at a time per worker process).

declare(strict_types=1);

require __DIR__ . '/../src/Invalid.php';
require __DIR__ . '/../src/Refused.php';
require __DIR__ . '/../src/Validation.php';
require __DIR__ . '/../src/Database.php';
require __DIR__ . '/../src/Store.php';
require __DIR__ . '/../src/Api.php';

header('Content-Type: application/json');
try {
    $store = new Store(Database::connect((string) getenv('DATABASE_URL')));
    $store->ensureSchema();
    [$status, $body] = (new Api($store))->handle(
        $_SERVER['REQUEST_METHOD'],
        (string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH),
        $_GET,
        fn () => Validation::body((string) file_get_contents('php://input')),
        $_SERVER['HTTP_IDEMPOTENCY_KEY'] ?? null
    );
} catch (Throwable $e) {
    error_log(get_class($e) . ': ' . $e->getMessage());
    [$status, $body] = [500, ['error' => ['code' => 'internal', 'message' => 'internal error']]];
}
http_response_code($status);
echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
