<?php

// Hello, one front controller at the top of the submission.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/healthz') {
    echo 'ok';
} elseif ($path === '/hello') {
    header('Content-Type: application/json');
    echo json_encode(['hello' => $_GET['name'] ?? '']);
} else {
    http_response_code(404);
}
