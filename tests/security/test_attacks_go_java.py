"""Tampering with the grade in Go and Java, whose tests share a process with the
candidate's code (the runner makes forging hard and visible, not impossible).

Every attack is the honest-but-failing baseline (every test fails) plus the attack,
so any pass it earns is forged. None may raise the correctness score above that
baseline, and each must leave evidence: a ``tamper-suspect`` flag (from the static
scan or from the run itself), or, for a crash that forges nothing, the tests it
touched failing. The forgers know every test name.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from support import (
    HIDDEN_MARKER,
    Graded,
    TrackingRunner,
    expected_for,
    grade_files,
    grade_many,
    write_tree,
)

from grader.challenge import Challenge, load_challenge
from grader.report import Report
from grader.views import candidate_view
from runners.images import ensure

pytestmark = [pytest.mark.security, pytest.mark.docker]

# --- Go -------------------------------------------------------------------------------

GO_TESTS = ("TestAdd", "TestAnswer", "TestAddNegative", "TestAddBig")
GO_CHALLENGE = {
    "challenge.toml": """\
        title = "Go vault"
        language = "go"
        [limits]
        wall_seconds = 60
        test_seconds = 10
        """,
    "solution/go.mod": "module vault\n\ngo 1.26\n",
    "solution/vault.go": """\
        // Package vault holds two small functions.
        package vault

        // Answer returns the answer.
        func Answer() int { return 42 }

        // Add returns a + b.
        func Add(a, b int) int { return a + b }
        """,
    "starter/vault.go": "package vault\n",
    "tests/public/vault_test.go": """\
        package vault

        import "testing"

        func TestAdd(t *testing.T) {
        \tif Add(2, 2) != 4 {
        \t\tt.Fatal("2 + 2")
        \t}
        }
        """,
    "tests/hidden/vault_hidden_test.go": f"""\
        package vault

        // {HIDDEN_MARKER}

        import "testing"

        func TestAnswer(t *testing.T) {{
        \tif Answer() != 42 {{
        \t\tt.Fatal("{HIDDEN_MARKER}")
        \t}}
        }}

        func TestAddNegative(t *testing.T) {{
        \tif Add(-5, 3) != -2 {{
        \t\tt.Fatal("-5 + 3")
        \t}}
        }}

        func TestAddBig(t *testing.T) {{
        \tif Add(1<<40, 1) != 1<<40+1 {{
        \t\tt.Fatal("big")
        \t}}
        }}
        """,
}

# Framing lines test2json reads as results (0x16 first), one PASS per test, then a
# package PASS: what `go test -json` would print for an all-passing run.
GO_FRAMING = (
    "".join(f"\\x16=== RUN   {t}\\n\\x16--- PASS: {t} (0.00s)\\n" for t in GO_TESTS)
    + "\\x16PASS\\n"
)
GO_FORGED_XML = (
    '<testsuites><testsuite name="vault" tests="4" failures="0" errors="0">'
    + "".join(f'<testcase classname="vault" name="{t}" time="0.001"/>' for t in GO_TESTS)
    + "</testsuite></testsuites>"
)


def go_vault(*, imports: tuple[str, ...] = (), add: str = "", extra: str = "") -> dict[str, str]:
    """The failing baseline (Answer 0, Add 0) with the attack's code in it."""
    imps = "".join(f'import "{i}"\n' for i in imports)
    return {
        "go.mod": "module vault\n\ngo 1.26\n",
        "vault.go": f"// Package vault holds two small functions.\npackage vault\n\n{imps}\n"
        "// Answer returns the answer.\nfunc Answer() int { return 0 }\n\n"
        f"// Add returns a + b.\nfunc Add(a, b int) int {{\n{add}\n\treturn 0\n}}\n\n"
        f"{textwrap.dedent(extra)}\n",
    }


GO_ATTACKS: dict[str, dict[str, str]] = {
    "go_baseline": go_vault(),
    "go_exit_in_init": go_vault(imports=("os",), extra="func init() {\n\tos.Exit(0)\n}\n"),
    "go_framing_then_syscall_exit": go_vault(
        imports=("fmt", "syscall"), add=f'\tfmt.Print("{GO_FRAMING}")\n\tsyscall.Exit(0)'
    ),
    "go_junit_file_on_disk": go_vault(
        imports=("os",),
        add='\tfor _, p := range []string{"/grader/out/results", "/tmp/junit.xml", '
        '"/work/results.xml"} {\n'
        f"\t\t_ = os.WriteFile(p, []byte(`{GO_FORGED_XML}`), 0o644)\n\t}}",
    ),
    "go_junit_on_fd3": go_vault(
        imports=("os",),
        add=f'\tif f := os.NewFile(3, "results"); f != nil {{\n'
        f"\t\t_, _ = f.WriteString(`{GO_FORGED_XML}`)\n\t}}\n"
        '\tif f, err := os.OpenFile("/proc/self/fd/3", os.O_WRONLY, 0); err == nil {\n'
        f"\t\t_, _ = f.WriteString(`{GO_FORGED_XML}`)\n\t}}",
    ),
    "go_fake_reporter_output": go_vault(
        imports=("fmt",),
        add="".join(f'\tfmt.Println("--- PASS: {t} (0.00s)")\n' for t in GO_TESTS)
        + f'\tfmt.Println(`{GO_FORGED_XML}`)\n\tfmt.Println("PASS")\n'
        '\tfmt.Println("ok  \\tvault\\t0.010s")',
    ),
    # A goroutine started by the first call (in TestAddNegative: Go runs
    # vault_hidden_test.go before vault_test.go) forges every result during the next
    # test, after its own test ended, then leaves past the testing package.
    "go_goroutine_forges_later": go_vault(
        imports=("fmt", "syscall", "time"),
        add="\tcalls++\n\tif calls == 1 {\n\t\tgo func() {\n\t\t\t<-later\n"
        f'\t\t\tfmt.Print("{GO_FRAMING}")\n\t\t\tsyscall.Exit(0)\n\t\t}}()\n\t}}\n'
        "\tif calls == 2 {\n\t\tlater <- true\n\t\ttime.Sleep(time.Second)\n\t}",
        extra="var (\n\tcalls int\n\tlater = make(chan bool)\n)\n",
    ),
    # The same goroutine crashes the test binary instead: the test it crashes fails.
    "go_goroutine_panics_later": go_vault(
        imports=("time",),
        add="\tcalls++\n\tif calls == 1 {\n\t\tgo func() {\n\t\t\t<-later\n"
        '\t\t\tpanic("long after its test")\n\t\t}()\n\t}\n'
        "\tif calls == 2 {\n\t\tlater <- true\n\t\ttime.Sleep(time.Second)\n\t}",
        extra="var (\n\tcalls int\n\tlater = make(chan bool)\n)\n",
    ),
}

# --- Java -----------------------------------------------------------------------------

JAVA_TESTS = (
    ("VaultTest", "add", "VaultTest.java"),
    ("VaultHiddenTest", "answer", "VaultHiddenTest.java"),
    ("VaultHiddenTest", "addNegative", "VaultHiddenTest.java"),
    ("VaultHiddenTest", "addBig", "VaultHiddenTest.java"),
)
JAVA_CHALLENGE = {
    "challenge.toml": """\
        title = "Java vault"
        language = "java"
        [limits]
        wall_seconds = 60
        test_seconds = 10
        memory_mb = 384
        """,
    "solution/Vault.java": """\
        /** Two small functions. */
        public final class Vault {
            private Vault() {
            }

            /** @return the answer */
            public static int answer() {
                return 42;
            }

            /** @param a a number @param b a number @return a + b */
            public static long add(long a, long b) {
                return a + b;
            }
        }
        """,
    "starter/Vault.java": "/** Two small functions. */\npublic final class Vault {\n}\n",
    "tests/public/VaultTest.java": """\
        import static org.assertj.core.api.Assertions.assertThat;

        import org.junit.jupiter.api.Test;

        class VaultTest {
            @Test
            void add() {
                assertThat(Vault.add(2, 2)).isEqualTo(4);
            }
        }
        """,
    "tests/hidden/VaultHiddenTest.java": f"""\
        import static org.assertj.core.api.Assertions.assertThat;

        import org.junit.jupiter.api.MethodOrderer;
        import org.junit.jupiter.api.Order;
        import org.junit.jupiter.api.Test;
        import org.junit.jupiter.api.TestMethodOrder;

        // {HIDDEN_MARKER}
        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        class VaultHiddenTest {{
            @Test
            @Order(1)
            void answer() {{
                assertThat(Vault.answer()).as("{HIDDEN_MARKER}").isEqualTo(42);
            }}

            @Test
            @Order(2)
            void addNegative() {{
                assertThat(Vault.add(-5, 3)).isEqualTo(-2);
            }}

            @Test
            @Order(3)
            void addBig() {{
                assertThat(Vault.add(1L << 40, 1)).isEqualTo((1L << 40) + 1);
            }}
        }}
        """,
}
JAVA_FORGED_XML = (
    '<testsuite name="forged" tests="4" failures="0" errors="0" skipped="0"><properties>'
    '<property name="grader_run" value="0123456789abcdef0123456789abcdef"/></properties>'
    + "".join(
        f'<testcase classname="{c}" name="{n}" file="{f}" time="0.001"/>' for c, n, f in JAVA_TESTS
    )
    + "</testsuite>"
).replace('"', '\\"')

JAVA_WRITE = """\
    private static void write(String path, String text) {
        try (java.io.FileOutputStream out = new java.io.FileOutputStream(path, true)) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            // keep going
        }
    }
"""

# Builds a GraderLauncher of its own through reflection, fills it with passing cases
# and has it write them to the results pipe.
JAVA_REFLECTION = """\
    private static void forge() {
        try {
            Class<?> launcher = Class.forName("grader.harness.GraderLauncher");
            java.lang.reflect.Constructor<?> make = launcher.getDeclaredConstructor(String.class);
            make.setAccessible(true);
            Object fake = make.newInstance("0123456789abcdef0123456789abcdef");
            Class<?> caseType = Class.forName("grader.harness.GraderLauncher$Case");
            java.lang.reflect.Constructor<?> newCase = caseType.getDeclaredConstructor();
            newCase.setAccessible(true);
            java.lang.reflect.Field cases = launcher.getDeclaredField("cases");
            cases.setAccessible(true);
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> map = (java.util.Map<String, Object>) cases.get(fake);
            String[][] tests = TESTS;
            for (String[] t : tests) {
                Object c = newCase.newInstance();
                for (String[] kv : new String[][] {{"classname", t[0]}, {"name", t[1]},
                        {"file", t[2]}, {"status", "passed"}}) {
                    java.lang.reflect.Field f = caseType.getDeclaredField(kv[0]);
                    f.setAccessible(true);
                    f.set(c, kv[1]);
                }
                map.put(t[0] + "#" + t[1], c);
            }
            java.lang.reflect.Method write = launcher.getDeclaredMethod("writeOnce", boolean.class);
            write.setAccessible(true);
            write.invoke(fake, false);
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.out.println("reflection failed: " + e);
        }
    }
""".replace("TESTS", "{" + ", ".join(f'{{"{c}", "{n}", "{f}"}}' for c, n, f in JAVA_TESTS) + "}")


def java_vault(*, answer: str = "", extra: str = "") -> dict[str, str]:
    """The failing baseline (answer 0, add 0) with the attack's code in it."""
    return {
        "Vault.java": "/** Two small functions. */\npublic final class Vault {\n"
        f"{textwrap.indent(textwrap.dedent(extra), '    ')}\n"
        "    private Vault() {\n    }\n\n"
        f"    /** @return the answer */\n    public static int answer() {{\n{answer}\n"
        "        return 0;\n    }\n\n"
        "    /** @param a a number @param b a number @return a + b */\n"
        "    public static long add(long a, long b) {\n        return 0;\n    }\n}\n"
    }


JAVA_ATTACKS: dict[str, dict[str, str]] = {
    "java_baseline": java_vault(),
    "java_exit_in_static_initialiser": java_vault(extra="static {\n    System.exit(0);\n}\n"),
    "java_halt": java_vault(answer="        Runtime.getRuntime().halt(0);"),
    "java_shutdown_hook_prints_fake_results": java_vault(
        extra="static {\n    Runtime.getRuntime().addShutdownHook(new Thread(() -> {\n"
        f'        System.out.println("{JAVA_FORGED_XML}");\n'
        '        System.out.println("Tests run: 4, Failures: 0, Errors: 0, Skipped: 0");\n'
        f'        write("/proc/self/fd/3", "{JAVA_FORGED_XML}");\n'
        "    }));\n}\n" + JAVA_WRITE,
        answer="        System.exit(0);",
    ),
    "java_forged_xml_to_proc_self_fd3": java_vault(
        answer=f'        write("/proc/self/fd/3", "{JAVA_FORGED_XML}");', extra=JAVA_WRITE
    ),
    "java_forged_xml_to_a_file": java_vault(
        answer=f'        write("/grader/out/results", "{JAVA_FORGED_XML}");\n'
        f'        write("/tmp/TEST-junit.xml", "{JAVA_FORGED_XML}");',
        extra=JAVA_WRITE,
    ),
    "java_reflection_on_the_harness": java_vault(answer="        forge();", extra=JAVA_REFLECTION),
}


@dataclass(frozen=True)
class Expect:
    """What a report of the attack must show besides the score bound."""

    # The report carries a tamper-suspect flag (static scan or run-time anomaly).
    flagged: bool = True
    # ... and which of the two at least (None: either).
    source: str | None = None
    # Outcomes the tests it touched must have (id suffix -> outcome).
    touched: tuple[tuple[str, str], ...] = ()


EXPECT: dict[str, Expect] = {
    "go_exit_in_init": Expect(source="run"),
    "go_framing_then_syscall_exit": Expect(source="both"),
    "go_junit_file_on_disk": Expect(source="static"),
    "go_junit_on_fd3": Expect(source="static"),
    "go_fake_reporter_output": Expect(source="static"),
    "go_goroutine_forges_later": Expect(source="both"),
    "go_goroutine_panics_later": Expect(
        flagged=False, touched=(("::TestAddBig", "error"), ("::TestAdd", "not_reported"))
    ),
    "java_exit_in_static_initialiser": Expect(
        source="static",
        touched=(("VaultTest::add", "error"), ("VaultHiddenTest::answer", "not_reported")),
    ),
    "java_halt": Expect(source="both"),
    "java_shutdown_hook_prints_fake_results": Expect(
        source="both", touched=(("VaultHiddenTest::answer", "error"),)
    ),
    "java_forged_xml_to_proc_self_fd3": Expect(source="both"),
    "java_forged_xml_to_a_file": Expect(source="static"),
    "java_reflection_on_the_harness": Expect(source="both"),
}


@dataclass
class Runs:
    graded: dict[str, Graded]
    challenges: dict[str, Challenge]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, docker_runner: Any) -> Runs:
    base = tmp_path_factory.mktemp("attacks-go-java")
    cache = base / "cache"
    challenges = {
        "go": load_challenge(write_tree(base / "go-vault", GO_CHALLENGE)),
        "java": load_challenge(write_tree(base / "java-vault", JAVA_CHALLENGE)),
    }
    expected = {lang: expected_for(ch, cache) for lang, ch in challenges.items()}
    jobs: dict[str, Callable[[], Graded]] = {}
    for name, files in {**GO_ATTACKS, **JAVA_ATTACKS}.items():
        lang = name.split("_", 1)[0]
        label = f"test-sec-gj-{hashlib.sha1(name.encode()).hexdigest()[:10]}"

        def job(
            name: str = name, files: dict[str, str] = files, lang: str = lang, label: str = label
        ) -> Graded:
            return grade_files(
                challenges[lang],
                files,
                base / name,
                label=label,
                expected=expected[lang],
                cache_dir=cache,
                # This checkout's image (by content hash), not the last one built.
                runner=TrackingRunner(image_for=ensure),
            )

        jobs[name] = job
    return Runs(grade_many(jobs), challenges)


def _checked(runs: Runs, name: str) -> Report:
    g = runs.graded[name]
    report = g.get()
    assert report.status == "graded", report.error
    assert len(report.tests) == 4, "every test the challenge defines is in the report"
    assert g.leftovers == [], f"containers left behind: {g.leftovers}"
    assert g.processes == [], f"processes left behind: {g.processes}"
    # It ran: an attack that does not build scores 0 for the wrong reason.
    assert "build-failed" not in {f.code for f in report.flags}, report.run
    view = json.dumps(
        candidate_view(report, runs.challenges[name[: name.index("_")]].config.feedback)
    )
    assert HIDDEN_MARKER not in view, "hidden test text reached the candidate"
    assert "flags" not in json.loads(view)
    return report


def _shown(report: Report) -> tuple[dict[str, str], list[str]]:
    return (
        {t.id: t.outcome for t in report.tests},
        [f"{f.code}: {f.message[:200]}" for f in report.flags],
    )


@pytest.mark.parametrize("lang", ["go", "java"])
def test_the_failing_baseline_scores_0_and_is_not_flagged(lang: str, runs: Runs) -> None:
    """The zeros below are the attacks' doing, not a broken harness."""
    report = _checked(runs, f"{lang}_baseline")
    assert report.scores.correctness == 0, _shown(report)
    assert {t.outcome for t in report.tests} == {"failed"}
    assert not {f.code for f in report.flags} & {"tamper-suspect", "results-missing"}


@pytest.mark.parametrize(
    "attack", sorted(n for n in {**GO_ATTACKS, **JAVA_ATTACKS} if not n.endswith("_baseline"))
)
def test_attack_earns_nothing_and_is_evident(attack: str, runs: Runs) -> None:
    report = _checked(runs, attack)
    baseline = _checked(runs, attack[: attack.index("_")] + "_baseline")
    spec = EXPECT[attack]
    shown = _shown(report)
    assert report.scores.correctness <= baseline.scores.correctness, shown
    assert not any(t.outcome == "passed" for t in report.tests), shown
    tamper = [f.message for f in report.flags if f.code == "tamper-suspect"]
    # Static findings name the file and line; the run's own evidence does not.
    static = [m for m in tamper if m.startswith(("vault.go:", "Vault.java:"))]
    run = [m for m in tamper if m not in static]
    if spec.flagged:
        assert tamper, shown
        if spec.source in ("static", "both"):
            assert static, shown
        if spec.source in ("run", "both"):
            assert run, shown
    else:
        assert not tamper, shown
    outcomes = {t.id: t.outcome for t in report.tests}
    for suffix, outcome in spec.touched:
        matching = [o for i, o in outcomes.items() if i.endswith(suffix)]
        assert matching == [outcome], (suffix, shown)
