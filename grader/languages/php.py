"""PHP: PHPUnit (9-style tests run on PHPUnit 11), PHP_CodeSniffer PSR-12, docblocks."""

from __future__ import annotations

from typing import ClassVar

from grader.languages.base import DocRule
from grader.languages.driver import DriverLanguage, TamperPattern


class Php(DriverLanguage):
    name: ClassVar[str] = "php"
    title: ClassVar[str] = "PHP"
    versions: ClassVar[str] = "PHP 8.4, PHPUnit 11 (runs PHPUnit 9-style tests)"
    image: ClassVar[str] = "php"
    pygments_lexer: ClassVar[str] = "php"
    source_suffixes: ClassVar[tuple[str, ...]] = (".php",)
    test_patterns: ClassVar[tuple[str, ...]] = ("*Test.php",)
    config_names: ClassVar[frozenset[str]] = frozenset(
        {
            "vendor",
            "phpunit.xml",
            "phpunit.xml.dist",
            "phpunit.dist.xml",
            ".phpcs.xml",
            "phpcs.xml",
            "phpcs.xml.dist",
            ".phpcs.xml.dist",
        }
    )
    framework: ClassVar[str] = "PHPUnit 11 (JUnit through the grader's extension)"
    linter: ClassVar[str] = "PHP_CodeSniffer, PSR-12"
    doc_rule: ClassVar[str] = "a /** docblock */ above each public function, class and method"
    libraries: ClassVar[tuple[str, ...]] = ("PDO (pgsql, mysql, sqlite)", "phpredis")

    service_libraries: ClassVar[tuple[str, ...]] = (
        "PHP's built-in web server (php -S, 4 workers)",
        "PDO with pgsql and mysql drivers",
        "phpredis 6.2",
    )
    # Every request goes to the front controller (public/index.php or index.php). -q
    # drops the server's two log lines per connection (a run's requests would fill the
    # service's log, bounded by the output limit); error_log() and PHP's errors, which
    # -q would drop as well, go to stderr instead.
    service_start: ClassVar[str] = (
        "export PHP_CLI_SERVER_WORKERS=4; "
        'for f in public/index.php index.php; do if [ -f "$f" ]; then '
        'exec php -d error_log=/dev/stderr -q -S "0.0.0.0:$PORT" -t "$(dirname "$f")" "$f"; '
        "fi; done; "
        'echo "grader: no public/index.php or index.php to start" >&2; exit 2'
    )
    markers: ClassVar[tuple[str, ...]] = ("composer.json",)
    # Take-home solutions rarely declare a namespace: PSR-1's rule for it is left out.
    lint_ignore: ClassVar[tuple[str, ...]] = ("PSR1.Classes.ClassDeclaration.MissingNamespace",)
    docs: ClassVar[DocRule] = DocRule(
        items=(
            (
                "class",
                r"^\s*(?:(?:final|abstract|readonly)\s+)*(?:class|interface|trait|enum)\s+(?P<name>\w+)",
            ),
            ("function", r"^\s*(?:(?:public|static|final|abstract)\s+)*function\s+&?(?P<name>\w+)"),
        ),
        comment="block",
        skip=r"^\s*#\[",
    )
    tamper_patterns: ClassVar[tuple[TamperPattern, ...]] = (
        TamperPattern(r"\b(exit|die)\b\s*[(;]", "ends the test process"),
        TamperPattern(r"register_shutdown_function|pcntl_", "hooks the process's end"),
        TamperPattern(r"GraderHarness|Grader\w+", "names the grader's harness"),
        TamperPattern(r"php://fd|/proc/self|/dev/fd", "opens the harness's pipes"),
        TamperPattern(r"['\"`]/grader(/|['\"`])", "names the sandbox's grader folder"),
        TamperPattern(r"\bFFI\b|Reflection\w*|declare\s*\(\s*ticks", "reaches past the language"),
        TamperPattern(r"Closure::bind|\bbindTo\s*\(", "binds code into another class's scope"),
        TamperPattern(r"PHPUnit\\", "solution code uses the test framework"),
    )
    scaffold_entrypoint: ClassVar[str] = "word_count.php"
    scaffold_weighted_test: ClassVar[str] = (
        "tests/hidden/WordCountHiddenTest.php::WordCountHiddenTest::testLargeInput"
    )

    def scaffold(self, title: str) -> dict[str, str]:
        return dict(_SCAFFOLD)


_SCAFFOLD = {
    "README.md": """# {title}

Write `word_count.php` with the function `word_count(string $text): array`: how many
times each word occurs in `$text`, as `word => count`. Words are separated by white
space and compared case-insensitively (keys are lower-case), in the order they first
occur.

```php
word_count('the cat and The hat'); // ['the' => 2, 'cat' => 1, 'and' => 1, 'hat' => 1]
```
""",
    "starter/word_count.php": """<?php

declare(strict_types=1);

/**
 * How many times each word occurs in $text, case-insensitively.
 *
 * @return array<string, int>
 */
function word_count(string $text): array
{
    return [];
}
""",
    "solution/word_count.php": """<?php

declare(strict_types=1);

/**
 * How many times each word occurs in $text, case-insensitively.
 *
 * @return array<string, int>
 */
function word_count(string $text): array
{
    $counts = [];
    foreach (preg_split('/\\s+/', trim($text), -1, PREG_SPLIT_NO_EMPTY) as $word) {
        $key = strtolower($word);
        $counts[$key] = ($counts[$key] ?? 0) + 1;
    }
    return $counts;
}
""",
    "tests/public/WordCountTest.php": """<?php

declare(strict_types=1);

use PHPUnit\\Framework\\TestCase;

require_once __DIR__ . '/word_count.php';

final class WordCountTest extends TestCase
{
    public function testCountsWords(): void
    {
        $this->assertSame(['a' => 2, 'b' => 1], word_count('a b a'));
    }

    public function testEmptyTextHasNoWords(): void
    {
        $this->assertSame([], word_count(''));
    }
}
""",
    "tests/hidden/WordCountHiddenTest.php": """<?php

declare(strict_types=1);

use PHPUnit\\Framework\\TestCase;

require_once __DIR__ . '/word_count.php';

final class WordCountHiddenTest extends TestCase
{
    public function testCaseInsensitive(): void
    {
        $this->assertSame(['go' => 3], word_count('Go go GO'));
    }

    public function testAnyWhitespaceSeparates(): void
    {
        $this->assertSame(['a' => 2, 'b' => 1], word_count("a\\tb\\n a"));
    }

    public function testFirstOccurrenceOrder(): void
    {
        $this->assertSame(['b' => 1, 'a' => 2], word_count('b a A'));
    }

    public function testLargeInput(): void
    {
        $this->assertSame(['x' => 100000], word_count(str_repeat('x ', 100000)));
    }
}
""",
}
