"""PHP in the sandbox: ``grader-test`` and ``grader-lint`` (see grader_driver.py).

PHPUnit 11 (Debian's) runs PHPUnit 9-style tests (``class XTest extends TestCase``,
``public function testY()``, ``require_once __DIR__ . '/x.php'``) with no
configuration file (--no-configuration: a submission's phpunit.xml is never read),
the grader's bootstrap (run token) and extension (results on fd 3). FFI is off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, "/opt/grader/lib")
import grader_driver as gd  # noqa: E402
import grader_lint as gl  # noqa: E402

PHP = "/usr/bin/php"
PHP_FLAGS = [
    "-d",
    "ffi.enable=0",
    "-d",
    "display_errors=stderr",
    "-d",
    "error_reporting=E_ALL",
    "-d",
    "zend.assertions=1",
    "-d",
    "memory_limit=-1",
    "-d",
    "opcache.enable_cli=0",
]
HOME = "/opt/grader/php"
SENTINEL = f"{HOME}/sentinel/GraderSentinelTest.php"


def _phpunit(files: list[str]) -> list[str]:
    return [
        PHP,
        *PHP_FLAGS,
        "/usr/bin/phpunit",
        "--no-configuration",
        "--bootstrap",
        f"{HOME}/bootstrap.php",
        "--extension",
        "GraderHarness\\GraderExtension",
        "--do-not-cache-result",
        "--colors=never",
        "--display-skipped",
        "--display-incomplete",
        *files,
    ]


def syntax_errors(src: str, tests: list[str], env: dict[str, str]) -> str:
    """``php -l`` of every .php file of the submission (it runs none of them)."""
    log = []
    for dirpath, _dirs, names in os.walk(src):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if not name.endswith(".php") or os.path.relpath(path, src) in tests:
                continue
            p = subprocess.run(
                [PHP, "-n", "-l", path], capture_output=True, text=True, env=env, timeout=60
            )
            if p.returncode != 0:
                log.append((p.stdout + p.stderr).strip())
    return "\n".join(log)


def note_stopped(ctx: gd.Context, name: str, before: int, code: int) -> None:
    """After one framework process: when it reported no sentinel, it stopped early (an
    exit or a crash in candidate code). What it reported stands; a ``grader_stopped``
    suite says where it stopped (the reporter wrote the test in progress as an error)."""
    cases = [c for s in ctx.suites[before:] for c in s.iter("testcase")]
    if not ctx.sentinel or any(c.get("classname") == gd.SENTINEL_CLASS for c in cases):
        return
    where = "before any test ran" if not cases else "between two tests"
    for c in cases:
        error = c.find("error")
        if error is not None and "exited while" in (error.get("message") or ""):
            test = " ".join(x for x in (c.get("classname"), c.get("name")) if x)
            where = f"during {c.get('file')}: {test}"
            break
    status = f"signal {-code}" if code < 0 else f"exit status {code}"
    ctx.suite(
        "grader.driver",
        grader_stopped=gd.bounded(
            f"{name} stopped {where} ({status}); the tests after it did not run", 2000
        ),
    )


def test() -> None:
    ctx = gd.start()
    env = dict(gd.BASE_ENV)
    env.update({"GRADER_SRC": ctx.src, "HOME": "/nonexistent"})
    broken = syntax_errors(ctx.src, [os.path.normpath(t) for t in ctx.tests], env)
    if broken:
        ctx.build_failed("(build)", broken)
        ctx.finish()
        sys.exit(2)
    files = [os.path.join(ctx.src, t) for t in ctx.tests]
    sentinel = [SENTINEL] if ctx.sentinel else []
    before = len(ctx.suites)
    code = ctx.run_framework(
        "phpunit", _phpunit(files + sentinel), env=env, cwd=f"{HOME}/empty", timeout=ctx.timeout
    )
    if code == 0 or len(ctx.suites) > before:
        note_stopped(ctx, "phpunit", before, code)
    else:
        # PHPUnit stopped before reporting (a fatal error while loading a test file,
        # say): run each file on its own, so one file costs only its own tests.
        print(
            "grader-test: PHPUnit reported nothing; running each test file alone", file=sys.stderr
        )
        for f, t in zip(files, ctx.tests, strict=True):
            n = len(ctx.suites)
            # The sentinel goes with every file (each process loads candidate code).
            rc = ctx.run_framework(
                "phpunit",
                _phpunit([f, *sentinel]),
                env=env,
                cwd=f"{HOME}/empty",
                timeout=ctx.timeout,
            )
            if len(ctx.suites) == n:
                s = ctx.suite(t, grader_build="failed", grader_build_file=t)
                s.append(gd.ET.Element("system-err"))
                s[-1].text = "PHPUnit stopped while loading or running this file (see its output)"
            else:
                note_stopped(ctx, f"phpunit ({t})", n, rc)
    ctx.finish()
    sys.exit(1 if code else 0)


def lint() -> None:
    """phpcs --standard=PSR12 --report=json; phpcs:ignore comments are not honoured."""
    args = gl.start()
    rep = gl.Report("phpcs")
    files = [f for f in args.files if f.endswith(".php")]
    if not files:
        rep.emit()
        return
    p = subprocess.run(
        [
            PHP,
            "-d",
            "error_reporting=E_ALL&~E_DEPRECATED",
            "/usr/bin/phpcs",
            "--standard=PSR12",
            "--report=json",
            "--ignore-annotations",
            "--no-colors",
            "-q",
            "--no-cache",
            *files,
        ],
        capture_output=True,
        text=True,
        env=dict(gl.ENV),
        cwd=args.src,
        timeout=300,
    )
    start = p.stdout.find("{")
    try:
        data = json.loads(p.stdout[start:] if start >= 0 else "")
    except ValueError:
        rep.errors.append((p.stderr or p.stdout)[-2000:])
        rep.emit()
        return
    for path, f in (data.get("files") or {}).items():
        rel = gl.relative(args.src, path)
        for m in f.get("messages", []):
            rep.add(
                rel,
                m.get("line"),
                m.get("column"),
                m.get("source", ""),
                m.get("message", ""),
                "error" if m.get("type") == "ERROR" else "warning",
            )
    rep.emit()
