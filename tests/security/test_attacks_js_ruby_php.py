"""Tampering with the grade in JavaScript, Ruby and PHP, whose tests share a process
with the candidate's code.

Every attack is the conformance challenge's starter (an honest, mostly wrong attempt)
plus the attack. None may score above the starter, and each must leave evidence: a
``tamper-suspect`` flag (from the static scan or from the run itself), or the tests it
touched failing. The forgers know every test id (in one process they could read them).

Two attacks get past the run-time checks and are only flagged (SECURITY.md, "What is
not promised"): code that reads the run token out of its own process (Ruby's
``ObjectSpace``, PHP's Reflection), writes a complete forged report with it and stops
the real reporter from writing. They are here so the flag stays.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import Graded, TrackingRunner, grade_files, grade_many

from grader.challenge import Challenge, load_challenge
from grader.engine import ExpectedTests, expected_tests
from grader.views import candidate_view

pytestmark = [pytest.mark.security, pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]
CHALLENGES = {
    "javascript": "conformance-javascript",
    "ruby": "conformance-ruby",
    "php": "conformance-php",
}
# The file of each starter every test file of the challenge loads (where an attack
# goes), and the text an attack is appended to or inserted before.
TARGET = {"javascript": "mathx.js", "ruby": "calc.rb", "php": "Calc.php"}


@dataclass(frozen=True)
class Attack:
    """One way to forge a grade: the code, and whether it ends flagged or only fails."""

    language: str
    code: str
    # Where the code goes in the target file: "end" (appended), "top" (first), or a
    # marker of the starter the code replaces (run during a test).
    where: str = "end"
    flagged: bool = True
    # Only flagged: in one process this cannot be stopped (see the module's doc).
    known_limit: bool = False
    # Removed from the target file first (e.g. "'use strict';"), and files added.
    remove: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def forged_suites(ids: list[str], token: str, lang: str) -> str:
    """JUnit suites in the shape the image's reporter writes: every test passed, the
    sentinel failed, each suite carrying ``token``."""
    by_file: dict[str, list[str]] = {}
    for test_id in ids:
        file, _, rest = test_id.partition("::")
        classname, _, name = rest.rpartition("::")
        rel = file.split("/", 2)[2]
        by_file.setdefault(rel, []).append(
            f'<testcase classname="{_esc(classname)}" name="{_esc(name)}" file="{rel}" '
            'time="0.001"/>'
        )
    by_file["<sentinel>"] = [
        '<testcase classname="grader.sentinel" name="sentinel" file="&lt;sentinel&gt;" '
        'time="0.001"><failure message="always">always</failure></testcase>'
    ]
    out = ""
    for rel, cases in by_file.items():
        out += (
            f'<testsuite name="{_esc(rel)}" tests="{len(cases)}"><properties>'
            f'<property name="grader_run" value="{token}"/></properties>{"".join(cases)}'
            "</testsuite>"
        )
    return out


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


FAKE_MINITEST = "14 runs, 14 assertions, 0 failures, 0 errors, 0 skips"


def attacks(ids: dict[str, list[str]]) -> dict[str, Attack]:
    """Every attack, built for the challenges' test ids."""
    js_forged = json.dumps(forged_suites(ids["javascript"], "forged", "javascript"))
    rb_forged = forged_suites(ids["ruby"], "TOKEN", "ruby").replace("'", "\\'")
    php_forged = forged_suites(ids["php"], "forged", "php").replace("'", "\\'")
    php_forged_token = forged_suites(ids["php"], "TOKEN", "php").replace("'", "\\'")
    return {
        # -- JavaScript --------------------------------------------------------------
        "js_exit_at_import": Attack("javascript", "process.exit(0);\n", where="top"),
        "js_exit_in_a_test": Attack("javascript", "  process.exit(0);\n", where="  return a + b;"),
        "js_override_expect": Attack(
            "javascript",
            "global.expect = () => new Proxy({}, { get: () => () => undefined });\n",
        ),
        # In sloppy code (no 'use strict') the assignments fail silently; in an ES
        # module (strict) they throw, so the test files that load it fail.
        "js_override_globals_sloppy": Attack(
            "javascript",
            "expect = () => new Proxy({}, { get: () => () => undefined });\n"
            "test = (name) => globalThis.it.skip(name, () => {});\n",
            remove="'use strict';\n",
            extra={
                "strings.js": "export function slugify(t) { return t; }\n"
                "export default function shout(t) { return t; }\n"
                "globalThis.test = () => {};\n"
            },
        ),
        "js_matchers_always_pass": Attack(
            "javascript",
            "const pass = () => ({ pass: true, message: () => '' });\n"
            "expect.extend({ toBe: pass, toEqual: pass, toThrow: pass, toBeCloseTo: pass });\n",
        ),
        "js_object_is_always_true": Attack("javascript", "Object.is = () => true;\n"),
        "js_forge_fd3": Attack("javascript", f"require('fs').writeSync(3, {js_forged});\n"),
        "js_forge_fd3_then_exit": Attack(
            "javascript", f"require('fs').writeSync(3, {js_forged});\nprocess.exit(0);\n"
        ),
        "js_forge_files": Attack(
            "javascript",
            "const fs = require('fs');\n"
            f"for (const p of ['/grader/out/results', '/tmp/results.xml', 'junit.xml']) {{\n"
            f"  try {{ fs.writeFileSync(p, {js_forged}); }} catch {{ /* read-only */ }}\n"
            "}\n",
        ),
        "js_fake_reporter_output": Attack(
            "javascript",
            "console.log('PASS mathx.test.js\\nTests: 14 passed, 14 total');\n"
            "process.stderr.write('Test Suites: 3 passed, 3 total\\n');\n",
            flagged=False,
        ),
        # -- Ruby ----------------------------------------------------------------------
        "rb_at_exit_fake_output": Attack("ruby", f"at_exit {{ puts '{FAKE_MINITEST}' }}\n"),
        "rb_at_exit_forge_fd3": Attack(
            "ruby",
            "at_exit do\n"
            "  io = IO.for_fd(3, autoclose: false)\n"
            f"  io.write('{rb_forged}'.gsub('TOKEN', 'forged'))\n"
            "  io.flush\n"
            "end\n",
        ),
        "rb_exit_bang": Attack("ruby", "    exit!(0)\n", where="    dividend / divisor"),
        "rb_patch_assertions": Attack(
            "ruby",
            "module Minitest\n  module Assertions\n"
            "    def assert_equal(*) = true\n    def assert_in_delta(*) = true\n"
            "    def assert_raises(*) = true\n  end\nend\n",
        ),
        "rb_patch_test_run": Attack(
            "ruby",
            "Minitest::Test.prepend(Module.new do\n"
            "  def run\n    result = super\n    result.failures.clear\n    result\n  end\n"
            "end)\n",
        ),
        "rb_patch_reporter": Attack(
            "ruby",
            "Minitest::GraderReporter.prepend(Module.new do\n"
            "  def record(result)\n    result.failures.clear\n    super\n  end\n"
            "end)\n",
        ),
        "rb_patch_rspec_matcher": Attack(
            "ruby",
            "if defined?(RSpec::Matchers::BuiltIn::Eq)\n"
            "  RSpec::Matchers::BuiltIn::Eq.prepend(Module.new { def matches?(*) = true })\n"
            "end\n",
        ),
        # Finds the token and writes forged results beside the real ones.
        "rb_objectspace_token_hunt": Attack(
            "ruby",
            "token = ObjectSpace.each_object(String).find { |s| s.match?(/\\A\\h{32}\\z/) }\n"
            "io = IO.for_fd(3, autoclose: false)\n"
            f"io.write('{rb_forged}'.gsub('TOKEN', token.to_s))\n"
            "io.flush\n",
        ),
        # ... and stops the real reporter from writing: only flagged.
        "rb_objectspace_token_hunt_exit_bang": Attack(
            "ruby",
            "token = ObjectSpace.each_object(String).find { |s| s.match?(/\\A\\h{32}\\z/) }\n"
            "io = IO.for_fd(3, autoclose: false)\n"
            f"io.write('{rb_forged}'.gsub('TOKEN', token.to_s))\n"
            "io.flush\n"
            "exit!(0)\n",
            known_limit=True,
        ),
        # -- PHP -----------------------------------------------------------------------
        "php_exit_at_load": Attack("php", "exit(0);\n", where="top"),
        "php_exit_in_a_test": Attack("php", "        exit(0);\n", where="        return 0.0;"),
        "php_shutdown_forge_fd3": Attack(
            "php",
            "register_shutdown_function(static function (): void {\n"
            "    $fh = fopen('php://fd/3', 'wb');\n"
            f"    fwrite($fh, '{php_forged}');\n"
            "    fclose($fh);\n"
            "});\n",
        ),
        # The token is a private static now: reading it fails.
        "php_shutdown_forge_with_token": Attack(
            "php",
            "register_shutdown_function(static function (): void {\n"
            "    $token = \\GraderHarness\\Results::$token;\n"
            "    $fh = fopen('php://fd/3', 'wb');\n"
            f"    fwrite($fh, str_replace('TOKEN', $token, '{php_forged_token}'));\n"
            "    fclose($fh);\n"
            "});\n",
        ),
        "php_forge_files": Attack(
            "php",
            "foreach (['/grader/out/results', '/tmp/results.xml', 'junit.xml'] as $p) {\n"
            f"    @file_put_contents($p, '{php_forged}');\n"
            "}\n",
        ),
        "php_fake_output": Attack(
            "php", 'echo "OK (12 tests, 12 assertions)\\n";\n', flagged=False
        ),
        # Reads the private token with Reflection, silences the real writer while the
        # tests load, and writes a forged report at shutdown: only flagged.
        "php_reflection_forge": Attack(
            "php",
            "$class = new ReflectionClass(\\GraderHarness\\Results::class);\n"
            "$class->getProperty('written')->setValue(null, true);\n"
            "register_shutdown_function(static function () use ($class): void {\n"
            "    $token = $class->getProperty('token')->getValue();\n"
            "    $fh = fopen('php://fd/3', 'wb');\n"
            f"    fwrite($fh, str_replace('TOKEN', $token, '{php_forged_token}'));\n"
            "    fclose($fh);\n"
            "});\n",
            known_limit=True,
        ),
    }


def _submission(challenge: Challenge, attack: Attack) -> dict[str, str]:
    """The starter's files with the attack placed in the target file."""
    files = {
        p.relative_to(challenge.starter_dir).as_posix(): p.read_text()
        for p in challenge.starter_dir.rglob("*")
        if p.is_file()
    }
    target = TARGET[attack.language]
    text = files[target]
    if attack.remove:
        assert attack.remove in text, attack.remove
        text = text.replace(attack.remove, "", 1)
    if attack.where == "end":
        text += "\n" + attack.code
    elif attack.where == "top":
        # PHP: after the strict_types declaration, which must come first.
        opening = "<?php\n\ndeclare(strict_types=1);\n" if attack.language == "php" else ""
        assert text.startswith(opening)
        text = opening + attack.code + text[len(opening) :]
    else:
        assert attack.where in text, attack.where
        text = text.replace(attack.where, attack.code + attack.where, 1)
    files[target] = text
    files.update(attack.extra)
    return files


@dataclass
class Runs:
    challenges: dict[str, Challenge]
    expected: dict[str, ExpectedTests]
    baselines: dict[str, Graded]
    graded: dict[str, Graded]
    specs: dict[str, Attack]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, docker_runner: Any) -> Runs:
    base = tmp_path_factory.mktemp("attacks-jrp")
    cache = base / "cache"
    challenges = {
        lang: load_challenge(REPO / "challenges" / slug) for lang, slug in CHALLENGES.items()
    }
    expected = {
        lang: expected_tests(ch, docker_runner, cache_dir=cache) for lang, ch in challenges.items()
    }
    specs = attacks({lang: e.ids for lang, e in expected.items()})
    jobs: dict[str, Callable[[], Graded]] = {}
    for lang, ch in challenges.items():
        starter = {
            p.relative_to(ch.starter_dir).as_posix(): p.read_text()
            for p in ch.starter_dir.rglob("*")
            if p.is_file()
        }
        jobs[f"baseline:{lang}"] = _job(
            ch, expected[lang], starter, base, f"baseline-{lang}", cache
        )
    for name, spec in specs.items():
        ch = challenges[spec.language]
        jobs[name] = _job(ch, expected[spec.language], _submission(ch, spec), base, name, cache)
    done = grade_many(jobs)
    shutil.rmtree(base / "work", ignore_errors=True)
    return Runs(
        challenges,
        expected,
        {lang: done[f"baseline:{lang}"] for lang in challenges},
        {name: done[name] for name in specs},
        specs,
    )


def _job(
    ch: Challenge,
    expected: ExpectedTests,
    files: dict[str, str],
    base: Path,
    name: str,
    cache: Path,
) -> Callable[[], Graded]:
    label = f"test-sec-jrp-{hashlib.sha1(name.encode()).hexdigest()[:10]}"
    work = base / "work" / name
    work.mkdir(parents=True)
    return lambda: grade_files(
        ch, files, work, label=label, expected=expected, cache_dir=cache, runner=TrackingRunner()
    )


ATTACK_NAMES = sorted(attacks({"javascript": [], "ruby": [], "php": []}))


def test_baselines_score_what_the_starters_score(runs: Runs) -> None:
    """The zeros and small scores below are the attacks' doing, not a broken run."""
    for lang, g in runs.baselines.items():
        report = g.get()
        assert report.status == "graded"
        assert 0 < report.scores.correctness < 50, (lang, report.scores)
        assert not {f.code for f in report.flags} & {"tamper-suspect", "results-missing"}


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_attack_raises_no_score_and_leaves_evidence(name: str, runs: Runs) -> None:
    spec = runs.specs[name]
    g = runs.graded[name]
    report = g.get()
    baseline = runs.baselines[spec.language].get()
    flags = [f"{f.code}: {f.message}" for f in report.flags]
    shown = ({t.id: t.outcome for t in report.tests}, flags)
    assert report.status == "graded", report.error
    assert len(report.tests) == len(runs.expected[spec.language].ids)
    assert g.leftovers == [] and g.processes == []
    tampered = any(f.startswith("tamper-suspect") for f in flags)
    if spec.known_limit:
        # Not stopped in one process (see the module's doc): it must be flagged.
        assert tampered, shown
        return
    assert report.scores.correctness <= baseline.scores.correctness, shown
    if spec.flagged:
        assert tampered, shown
    # Whatever the attack did, a test passes only where the honest starter passes it.
    honest = {t.id for t in baseline.tests if t.outcome == "passed"}
    forged = {t.id for t in report.tests if t.counted and t.outcome == "passed"} - honest
    assert forged == set(), shown
    view = json.dumps(candidate_view(report, runs.challenges[spec.language].config.feedback))
    assert "tamper" not in view, "flags are for reviewers only"
