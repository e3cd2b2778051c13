<?php

// Orders and inventory over HTTP: your service starts here. PHP's built-in server
// (`php -S 0.0.0.0:$PORT -t public public/index.php`, 4 workers) sends every request to
// this file. PDO with its pgsql and mysql drivers is installed, and phpredis.
// DATABASE_URL is postgresql://user:password@host:port/name.

declare(strict_types=1);

header('Content-Type: application/json');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($_SERVER['REQUEST_METHOD'] === 'GET' && $path === '/healthz') {
    echo json_encode(['status' => 'ok']);
    return;
}

// TODO: /products, /products/{id}, /products/{id}/stock, /orders, /orders/{id},
// /orders/{id}/cancel, as README.md describes (PHP keeps nothing between requests:
// make sure your tables exist before you use them).
http_response_code(404);
echo json_encode(['error' => ['code' => 'not_found', 'message' => "no route $path"]]);
