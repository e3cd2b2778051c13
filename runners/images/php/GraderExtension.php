<?php declare(strict_types=1);
/*
 * The grader's PHPUnit 11 extension (see runners/images/base/grader_driver.py for
 * the contract). bootstrap.php, loaded with --bootstrap before any test file (so
 * before candidate code), takes the run token from fd 4; this extension records every
 * test through PHPUnit's events and writes <testsuite> elements, one per test class,
 * each carrying the token, to fd 3. A shutdown function writes what is known when
 * candidate code calls exit: the test that was running is reported as an error.
 */

namespace GraderHarness;

use PHPUnit\Event\Code\TestMethod;
use PHPUnit\Event\Code\Throwable;
use PHPUnit\Event\Test\Errored;
use PHPUnit\Event\Test\ErroredSubscriber;
use PHPUnit\Event\Test\Failed;
use PHPUnit\Event\Test\FailedSubscriber;
use PHPUnit\Event\Test\Finished;
use PHPUnit\Event\Test\FinishedSubscriber;
use PHPUnit\Event\Test\MarkedIncomplete;
use PHPUnit\Event\Test\MarkedIncompleteSubscriber;
use PHPUnit\Event\Test\Passed;
use PHPUnit\Event\Test\PassedSubscriber;
use PHPUnit\Event\Test\Prepared;
use PHPUnit\Event\Test\PreparedSubscriber;
use PHPUnit\Event\Test\Skipped;
use PHPUnit\Event\Test\SkippedSubscriber;
use PHPUnit\Event\TestRunner\ExecutionFinished;
use PHPUnit\Event\TestRunner\ExecutionFinishedSubscriber;
use PHPUnit\Runner\Extension\Extension;
use PHPUnit\Runner\Extension\Facade;
use PHPUnit\Runner\Extension\ParameterCollection;
use PHPUnit\TextUI\Configuration\Configuration;

final class Results
{
    // Private: candidate code in this process reaches them only through Reflection or
    // closure binding, which the host's tamper scan flags.
    private static string $token = '';
    private static string $src = '';
    /** @var array<string, array<string, mixed>> */
    private static array $cases = [];
    private static ?string $current = null;
    private static bool $written = false;

    /** Called once, by bootstrap.php, before any test file loads. */
    public static function init(string $token, string $src): void
    {
        if (self::$token === '') {
            self::$token = $token;
            self::$src = $src;
        }
    }

    public static function id(TestMethod $t): string
    {
        return $t->className() . '::' . $t->name();
    }

    public static function start(TestMethod $t): void
    {
        $id = self::id($t);
        self::$current = $id;
        $file = $t->file();
        $sentinel = str_starts_with($file, '/opt/grader/php/sentinel/');
        $prefix = rtrim(self::$src, '/') . '/';
        self::$cases[$id] = [
            'classname' => $sentinel ? 'grader.sentinel' : $t->className(),
            'name' => $t->name(),
            'file' => $sentinel ? '<sentinel>' : (str_starts_with($file, $prefix) ? substr($file, strlen($prefix)) : $file),
            'status' => null,
            'message' => '',
            'detail' => '',
            'started' => microtime(true),
            'time' => 0.0,
        ];
    }

    public static function outcome(TestMethod $t, string $status, string $message = '', ?Throwable $e = null): void
    {
        $id = self::id($t);
        if (!isset(self::$cases[$id])) {
            self::start($t);
        }
        // The first outcome counts (a failure in tearDown after a pass makes it an error).
        if (self::$cases[$id]['status'] === null || self::$cases[$id]['status'] === 'passed') {
            self::$cases[$id]['status'] = $status;
            self::$cases[$id]['message'] = $e !== null ? $e->className() . ': ' . $e->message() : $message;
            self::$cases[$id]['detail'] = $e !== null ? $e->asString() : $message;
        }
    }

    public static function finish(TestMethod $t): void
    {
        $id = self::id($t);
        if (isset(self::$cases[$id])) {
            self::$cases[$id]['time'] = microtime(true) - self::$cases[$id]['started'];
            if (self::$cases[$id]['status'] === null) {
                self::$cases[$id]['status'] = 'passed';
            }
        }
        self::$current = null;
    }

    public static function write(): void
    {
        if (self::$written) {
            return;
        }
        self::$written = true;
        if (self::$current !== null && isset(self::$cases[self::$current])) {
            $c = &self::$cases[self::$current];
            $c['status'] = 'error';
            $c['message'] = 'the process exited while this test ran (exit or a fatal error)';
            $error = error_get_last();
            $c['detail'] = $error !== null ? $error['message'] . ' in ' . $error['file'] . ':' . $error['line'] : '';
            unset($c);
        }
        $byClass = [];
        foreach (self::$cases as $c) {
            if ($c['status'] !== null) {
                $byClass[$c['classname']][] = $c;
            }
        }
        $out = '';
        foreach ($byClass as $class => $list) {
            $n = ['failed' => 0, 'error' => 0, 'skipped' => 0, 'passed' => 0];
            foreach ($list as $c) {
                $n[$c['status']]++;
            }
            $out .= sprintf('<testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d"><properties>'
                . '<property name="grader_run" value="%s"/></properties>' . "\n",
                self::esc((string) $class), count($list), $n['failed'], $n['error'], $n['skipped'], self::esc(self::$token));
            foreach ($list as $c) {
                $attrs = sprintf('classname="%s" name="%s" file="%s" time="%.3f"', self::esc($c['classname']),
                    self::esc($c['name']), self::esc($c['file']), $c['time']);
                $tag = ['failed' => 'failure', 'error' => 'error', 'skipped' => 'skipped'][$c['status']] ?? null;
                if ($tag === null) {
                    $out .= " <testcase $attrs/>\n";
                } else {
                    $out .= sprintf(" <testcase %s><%s message=\"%s\">%s</%s></testcase>\n", $attrs, $tag,
                        self::esc(self::cut($c['message'], 500)), self::esc(self::cut($c['detail'], 8192)), $tag);
                }
            }
            $out .= "</testsuite>\n";
        }
        $fh = @fopen('php://fd/3', 'wb');
        if ($fh === false) {
            fwrite(STDERR, "grader: cannot write the results to fd 3\n");
            return;
        }
        fwrite($fh, $out);
        fclose($fh);
    }

    private static function cut(string $s, int $max): string
    {
        return strlen($s) <= $max ? $s : substr($s, 0, intdiv($max, 2)) . "\n[...]\n" . substr($s, -intdiv($max, 2));
    }

    private static function esc(string $s): string
    {
        $s = mb_convert_encoding($s, 'UTF-8', 'UTF-8');
        $s = (string) preg_replace('/[^\x{9}\x{A}\x{D}\x{20}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]/u', '', $s);
        return htmlspecialchars($s, ENT_QUOTES | ENT_XML1, 'UTF-8');
    }
}

final class GraderExtension implements Extension
{
    public function bootstrap(Configuration $configuration, Facade $facade, ParameterCollection $parameters): void
    {
        $facade->registerSubscribers(
            new class implements PreparedSubscriber {
                public function notify(Prepared $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::start($t);
                    }
                }
            },
            new class implements PassedSubscriber {
                public function notify(Passed $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::outcome($t, 'passed');
                    }
                }
            },
            new class implements FailedSubscriber {
                public function notify(Failed $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::outcome($t, 'failed', '', $event->throwable());
                    }
                }
            },
            new class implements ErroredSubscriber {
                public function notify(Errored $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::outcome($t, 'error', '', $event->throwable());
                    }
                }
            },
            new class implements SkippedSubscriber {
                public function notify(Skipped $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::outcome($t, 'skipped', $event->message());
                    }
                }
            },
            new class implements MarkedIncompleteSubscriber {
                public function notify(MarkedIncomplete $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::outcome($t, 'skipped', 'incomplete: ' . $event->throwable()->message());
                    }
                }
            },
            new class implements FinishedSubscriber {
                public function notify(Finished $event): void
                {
                    $t = $event->test();
                    if ($t instanceof TestMethod) {
                        Results::finish($t);
                    }
                }
            },
            new class implements ExecutionFinishedSubscriber {
                public function notify(ExecutionFinished $event): void
                {
                    Results::write();
                }
            },
        );
    }
}
