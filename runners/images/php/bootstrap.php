<?php declare(strict_types=1);
// Loaded by PHPUnit (--bootstrap) before any test file: the run token from fd 4.
require __DIR__ . '/GraderExtension.php';

$grader_fh = @fopen('php://fd/4', 'rb');
if ($grader_fh !== false) {
    \GraderHarness\Results::$token = trim((string) stream_get_contents($grader_fh, 4096));
    fclose($grader_fh);
}
unset($grader_fh);
\GraderHarness\Results::$src = (string) getenv('GRADER_SRC');
register_shutdown_function([\GraderHarness\Results::class, 'write']);
