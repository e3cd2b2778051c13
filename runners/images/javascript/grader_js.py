"""JavaScript in the sandbox: ``grader-test`` and ``grader-lint`` (see grader_driver.py).

Jest 30 (npm, installed on the host from package-lock.json) runs the test files in
one process (--runInBand); babel-jest turns ES modules into CommonJS, so test
files and solutions may use ``require`` or ``import`` (``'./x'`` or ``'./x.js'``)
in any mix. Nothing of the submission configures the run: the configuration is
passed on the command line (no jest.config.*, package.json "jest" key, .babelrc or
babel.config.* is read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, "/opt/grader/lib")
import grader_driver as gd  # noqa: E402
import grader_lint as gl  # noqa: E402

JS = "/opt/grader/js"
NM = f"{JS}/node_modules"
SENTINEL = f"{JS}/sentinel/grader.sentinel.test.js"
NODE = "/usr/bin/node"


def jest_config(src: str, test_timeout: float, sentinel: bool) -> dict[str, object]:
    return {
        "rootDir": src,
        "roots": [src, f"{JS}/sentinel"] if sentinel else [src],
        "testEnvironment": f"{NM}/jest-environment-node",
        "testMatch": ["**/*.?([cm])[jt]s?(x)"],
        "testPathIgnorePatterns": ["/node_modules/"],
        "transform": {
            r"\.[cm]?jsx?$": [
                f"{NM}/babel-jest",
                {
                    "babelrc": False,
                    "configFile": False,
                    "plugins": [f"{NM}/@babel/plugin-transform-modules-commonjs"],
                },
            ],
        },
        "reporters": [
            "default",
            [f"{JS}/grader-reporter.js", {"src": src, "sentinel": SENTINEL if sentinel else ""}],
        ],
        "testSequencer": f"{JS}/grader-sequencer.js",
        "setupFilesAfterEnv": [f"{JS}/grader-setup.js"],
        "cacheDirectory": "/tmp/.grader-jest",
        "watchman": False,
        "testTimeout": int(test_timeout * 1000),
        "injectGlobals": True,
        "ci": True,
        "maxWorkers": 1,
    }


SOURCES = (".js", ".mjs", ".cjs")


def syntax_errors(src: str, tests: list[str], env: dict[str, str]) -> str:
    """Parse (never run) every JavaScript file beside the tests that is not a test."""
    files = []
    for dirpath, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "node_modules")
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(dirpath, name), src)
            if name.endswith(SOURCES) and rel not in tests:
                files.append(rel)
    if not files:
        return ""
    p = subprocess.run(
        [NODE, f"{JS}/grader-check.js", src, *files],
        capture_output=True,
        text=True,
        env={**env, "NODE_PATH": NM},
        cwd="/tmp",
        timeout=120,
    )
    return "" if p.returncode == 0 else (p.stdout + p.stderr).strip() or "the sources do not parse"


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
    env.update({"NODE_ENV": "test", "NODE_OPTIONS": "--max-old-space-size=192"})
    broken = syntax_errors(ctx.src, [os.path.normpath(t) for t in ctx.tests], env)
    if broken:
        # The whole submission fails to load: every test errors (build failed).
        ctx.build_failed("(build)", broken)
        ctx.finish()
        sys.exit(2)
    tests = [os.path.join(ctx.src, t) for t in ctx.tests]
    if ctx.sentinel:
        tests.append(SENTINEL)
    cmd = [
        NODE,
        f"{NM}/jest/bin/jest.js",
        "--config",
        json.dumps(jest_config(ctx.src, ctx.test_timeout, ctx.sentinel)),
        "--runInBand",
        "--ci",
        "--forceExit",
        "--no-watchman",
        "--colors=false",
        "--runTestsByPath",
        *tests,
    ]
    before = len(ctx.suites)
    code = ctx.run_framework("jest", cmd, env=env, cwd="/tmp")
    note_stopped(ctx, "jest", before, code)
    ctx.finish()
    sys.exit(code)


def lint() -> None:
    """eslint --format json with the project's flat config; inline disables ignored."""
    args = gl.start()
    rep = gl.Report("eslint")
    files = [f for f in args.files if f.endswith((".js", ".cjs", ".mjs", ".jsx"))]
    if not files:
        rep.emit()
        return
    env = dict(gl.ENV)
    p = subprocess.run(
        [
            NODE,
            f"{NM}/eslint/bin/eslint.js",
            "--config",
            f"{JS}/eslint.config.mjs",
            "--format",
            "json",
            "--no-inline-config",
            "--no-warn-ignored",
            "--cache=false",
            *files,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=args.src,
        timeout=300,
    )
    try:
        results = json.loads(p.stdout)
    except ValueError:
        rep.errors.append((p.stderr or p.stdout)[-2000:])
        rep.emit()
        return
    for r in results:
        rel = gl.relative(args.src, r.get("filePath", ""))
        for m in r.get("messages", []):
            rep.add(
                rel,
                m.get("line"),
                m.get("column"),
                m.get("ruleId") or "parse",
                m.get("message", ""),
                "error" if m.get("severity") == 2 else "warning",
            )
    rep.emit()
