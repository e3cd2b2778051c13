"""Java: JUnit 5 (AssertJ available) on the JUnit Platform, checkstyle, Javadoc."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from grader.languages.base import DocRule
from grader.languages.driver import DriverLanguage, TamperPattern

if TYPE_CHECKING:
    from grader.challenge import Challenge
    from runners.base import Job


class Java(DriverLanguage):
    name: ClassVar[str] = "java"
    title: ClassVar[str] = "Java"
    versions: ClassVar[str] = "OpenJDK 21, JUnit 5.10, AssertJ 3.26"
    image: ClassVar[str] = "java"
    pygments_lexer: ClassVar[str] = "java"
    source_suffixes: ClassVar[tuple[str, ...]] = (".java",)
    test_patterns: ClassVar[tuple[str, ...]] = ("*Test.java",)
    config_names: ClassVar[frozenset[str]] = frozenset({"module-info.java"})
    framework: ClassVar[str] = "JUnit 5 on the JUnit Platform (one JVM, per-test timeout)"
    linter: ClassVar[str] = "checkstyle (naming, imports, braces, blocks, whitespace, sizes)"
    doc_rule: ClassVar[str] = "a /** Javadoc */ comment above each public type and method"
    libraries: ClassVar[tuple[str, ...]] = (
        "com.sun.net.httpserver (the JDK's HTTP server)",
        "PostgreSQL JDBC 42.7",
        "MariaDB Connector/J 2.7",
        "Jackson databind 2.14",
    )

    service_libraries: ClassVar[tuple[str, ...]] = (
        "com.sun.net.httpserver (the JDK's HTTP server)",
        "PostgreSQL JDBC 42.7",
        "MariaDB Connector/J 2.7 (MySQL/MariaDB)",
        "Jackson 2.14 (databind, core, annotations)",
        "no Redis client (Debian 13 packages none for Java)",
    )
    service_build: ClassVar[str] = (
        "set -e; mkdir -p /tmp/classes; find . -name '*.java' > /tmp/grader-sources; "
        'javac -encoding UTF-8 -d /tmp/classes -cp "$CLASSPATH" @/tmp/grader-sources'
    )
    # The class with a main method (the first in path order), in its package.
    service_start: ClassVar[str] = (
        "main=$(grep -rlE --include='*.java' 'static[[:space:]]+void[[:space:]]+main' . "
        "| sort | head -n 1); "
        'if [ -z "$main" ]; then echo "grader: no class with a main method" >&2; exit 2; fi; '
        'cls=$(basename "$main" .java); '
        "pkg=$(sed -n "
        "'s/^[[:space:]]*package[[:space:]]*\\([A-Za-z0-9_.]*\\)[[:space:]]*;.*/\\1/p' "
        '"$main" | head -n 1); '
        "exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:MaxRAMPercentage=60 "
        '-cp "/tmp/classes:$CLASSPATH" "${pkg:+$pkg.}$cls"'
    )
    service_env: ClassVar[dict[str, str]] = {
        "CLASSPATH": ":".join(
            f"/usr/share/java/{jar}.jar"
            for jar in (
                "postgresql",
                "mariadb-java-client",
                "jackson-databind",
                "jackson-core",
                "jackson-annotations",
            )
        ),
        "JAVA_HOME": "/usr/lib/jvm/java-21-openjdk-amd64",
        "PATH": "/usr/lib/jvm/java-21-openjdk-amd64/bin:/usr/local/bin:/usr/bin:/bin",
    }
    markers: ClassVar[tuple[str, ...]] = ("pom.xml", "build.gradle")
    docs: ClassVar[DocRule] = DocRule(
        items=(
            (
                "class",
                r"^\s*public\s+(?:(?:abstract|final|static|sealed|non-sealed|strictfp)\s+)*"
                r"(?:class|interface|enum|record|@interface)\s+(?P<name>\w+)",
            ),
            ("function", r"^\s*public\s+(?P<name>[A-Z]\w*)\s*\("),
            (
                "function",
                r"^\s*public\s+(?:(?:static|final|abstract|synchronized|default|native)\s+)*"
                r"(?:<[^>]*>\s+)?[\w$.<>\[\], ?]+?\s+(?P<name>[a-z_$][\w$]*)\s*\(",
            ),
        ),
        comment="block",
        skip=r"^\s*@",
    )
    tamper_patterns: ClassVar[tuple[TamperPattern, ...]] = (
        TamperPattern(r"System\s*\.\s*exit|\.halt\s*\(", "exits the JVM from inside a test"),
        TamperPattern(
            r"setAccessible|sun\.misc\.Unsafe|jdk\.internal", "reaches past access rules"
        ),
        TamperPattern(r"\bgrader\.|GraderLauncher", "names the grader's harness"),
        TamperPattern(r"/proc/self|/dev/fd|FileDescriptor", "reads its own process's files"),
        TamperPattern(r"org\.junit|org\.opentest4j", "solution code uses the test framework"),
        TamperPattern(r"Runtime\.getRuntime\(\)\.addShutdownHook", "adds a JVM shutdown hook"),
        TamperPattern(r"/grader\b", "names the sandbox's /grader folder"),
    )
    scaffold_entrypoint: ClassVar[str] = "WordCount.java"
    scaffold_weighted_test: ClassVar[str] = (
        "tests/hidden/WordCountHiddenTest.java::WordCountHiddenTest::largeInput"
    )

    def job(
        self,
        challenge: Challenge,
        submission_dir: Path,
        submission_files: tuple[str, ...],
        *,
        token: str,
        label: str,
    ) -> Job:
        # Only the challenge's tests run: the submission's own tests (and the helpers
        # beside them) stay out of the sandbox, so one that does not compile, or needs a
        # library the image lacks, never stops the build.
        kept = tuple(f for f in submission_files if not self.own_test(f))
        return super().job(challenge, submission_dir, kept, token=token, label=label)

    def source_files(self, files: tuple[str, ...] | list[str]) -> list[str]:
        """The submitted sources, without the candidate's own tests and their helpers."""
        return [f for f in super().source_files(files) if not self.own_test(f)]

    def own_test(self, rel_path: str) -> bool:
        """A submitted file that belongs to the candidate's own tests."""
        if rel_path.startswith("src/test/"):
            return True
        return self.is_test_file(rel_path) and not rel_path.startswith("src/main/")

    def scaffold(self, title: str) -> dict[str, str]:
        return dict(_SCAFFOLD)


_SCAFFOLD = {
    "README.md": """# {title}

Write the class `WordCount` (default package, file `WordCount.java`) with
`public static Map<String, Integer> count(String text)`: how many times each word
occurs in `text`. Words are separated by white space and compared
case-insensitively (keys are lower-case). A `null` text throws
`IllegalArgumentException`.

```java
WordCount.count("the cat and The hat"); // {the=2, cat=1, and=1, hat=1}
```
""",
    "starter/WordCount.java": """import java.util.HashMap;
import java.util.Map;

/** Counts words. */
public final class WordCount {
    private WordCount() {
    }

    /**
     * How many times each word occurs in the text, case-insensitively.
     *
     * @param text the text
     * @return each lower-cased word and its count
     */
    public static Map<String, Integer> count(String text) {
        return new HashMap<>();
    }
}
""",
    "solution/WordCount.java": """import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Counts words. */
public final class WordCount {
    private WordCount() {
    }

    /**
     * How many times each word occurs in the text, case-insensitively.
     *
     * @param text the text
     * @return each lower-cased word and its count
     */
    public static Map<String, Integer> count(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
        Map<String, Integer> counts = new HashMap<>();
        for (String word : text.trim().split("\\\\s+")) {
            if (!word.isEmpty()) {
                counts.merge(word.toLowerCase(Locale.ROOT), 1, Integer::sum);
            }
        }
        return counts;
    }
}
""",
    "tests/public/WordCountTest.java": """import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WordCountTest {
    @Test
    void countsWords() {
        assertThat(WordCount.count("a b a")).isEqualTo(Map.of("a", 2, "b", 1));
    }

    @Test
    void emptyTextHasNoWords() {
        assertThat(WordCount.count("")).isEmpty();
    }
}
""",
    "tests/hidden/WordCountHiddenTest.java": """\
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class WordCountHiddenTest {
    @Test
    void caseInsensitive() {
        assertThat(WordCount.count("Go go GO")).isEqualTo(Map.of("go", 3));
    }

    @Test
    void anyWhitespaceSeparates() {
        assertThat(WordCount.count("a\\tb\\n a")).isEqualTo(Map.of("a", 2, "b", 1));
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> WordCount.count(null))
            .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void largeInput() {
        assertThat(WordCount.count("x ".repeat(100_000))).containsEntry("x", 100_000).hasSize(1);
    }
}
""",
}
