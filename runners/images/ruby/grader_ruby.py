"""Ruby in the sandbox: ``grader-test`` and ``grader-lint`` (see grader_driver.py).

Minitest files (``*_test.rb``, ``test_*.rb``) run in one Ruby process with the
grader's Minitest reporter, RSpec files (``*_spec.rb``) in another with the grader's
RSpec runner and formatter; each loads its test files itself, so a file that does not
load costs only its own tests. The second process starts after candidate code ran in
the first: HOME, XDG folders and the working folder are ones it cannot write, so
nothing left in /tmp or /work configures it (no .rspec, no user gems, no RUBYOPT).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, "/opt/grader/lib")
import grader_driver as gd  # noqa: E402
import grader_lint as gl  # noqa: E402

RUBY = "/usr/bin/ruby"
LIB = "/opt/grader/ruby/lib"
SENTINELS = {
    "minitest": "/opt/grader/ruby/sentinel/grader_sentinel_test.rb",
    "rspec": "/opt/grader/ruby/sentinel/grader_sentinel_spec.rb",
}
EMPTY = "/opt/grader/ruby/empty"


def ruby_env(src: str) -> dict[str, str]:
    env = dict(gd.BASE_ENV)
    env.update(
        {
            "HOME": "/nonexistent",
            "XDG_CONFIG_HOME": "/nonexistent",
            "XDG_DATA_HOME": "/nonexistent",
            "XDG_CACHE_HOME": "/nonexistent",
            "GRADER_SRC": src,
            "SEED": "1",
        }
    )
    return env


def syntax_errors(src: str, tests: list[str], env: dict[str, str]) -> str:
    """``ruby -c`` (parses, runs nothing, not even BEGIN blocks) of every Ruby file
    beside the tests that is not a test."""
    log = []
    for dirpath, dirs, names in os.walk(src):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            if not name.endswith(".rb") or os.path.relpath(path, src) in tests:
                continue
            p = subprocess.run(
                [RUBY, "--disable-gems", "-c", path],
                capture_output=True,
                text=True,
                env=env,
                cwd=EMPTY,
                timeout=60,
            )
            if p.returncode != 0:
                log.append(p.stderr.replace(src + "/", "").strip() or f"{name}: does not parse")
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
    env = ruby_env(ctx.src)
    broken = syntax_errors(ctx.src, [os.path.normpath(t) for t in ctx.tests], env)
    if broken:
        # The whole submission fails to load: every test errors (build failed).
        ctx.build_failed("(build)", broken)
        ctx.finish()
        sys.exit(2)
    groups: dict[str, list[str]] = {"minitest": [], "rspec": []}
    for t in ctx.tests:
        groups["rspec" if t.endswith("_spec.rb") else "minitest"].append(os.path.join(ctx.src, t))
    load_path = ["-I", ctx.src, "-I", os.path.join(ctx.src, "lib")]
    code = 0
    for name, files in groups.items():
        if not files:
            continue
        if ctx.sentinel:
            files = files + [SENTINELS[name]]
        script = f"{LIB}/grader_{name}.rb"
        before = len(ctx.suites)
        rc = ctx.run_framework(
            name, [RUBY, *load_path, script, *files], env=env, cwd=EMPTY, timeout=ctx.timeout
        )
        note_stopped(ctx, name, before, rc)
        code = code or rc
    ctx.finish()
    sys.exit(1 if code else 0)


DISABLE = re.compile(r"#\s*rubocop\s*:\s*(disable|todo)\b")


def lint() -> None:
    """rubocop --format json with the project's config; inline disables are findings."""
    args = gl.start()
    rep = gl.Report("rubocop")
    files = [f for f in args.files if f.endswith((".rb", ".rake", ".ru"))]
    if not files:
        rep.emit()
        return
    p = subprocess.run(
        [
            "/usr/bin/rubocop",
            "--config",
            "/opt/grader/ruby/rubocop.yml",
            "--format",
            "json",
            "--no-color",
            "--cache",
            "false",
            *files,
        ],
        capture_output=True,
        text=True,
        env=dict(gl.ENV),
        cwd=args.src,
        timeout=300,
    )
    try:
        data = json.loads(p.stdout)
    except ValueError:
        rep.errors.append((p.stderr or p.stdout)[-2000:])
        rep.emit()
        return
    for f in data.get("files", []):
        rel = gl.relative(args.src, f.get("path", ""))
        for o in f.get("offenses", []):
            loc = o.get("location", {})
            sev = o.get("severity", "warning")
            rep.add(
                rel,
                loc.get("start_line", loc.get("line")),
                loc.get("start_column", loc.get("column")),
                o.get("cop_name", ""),
                o.get("message", ""),
                "error" if sev in ("error", "fatal") else "warning",
            )
    for f in files:
        try:
            with open(os.path.join(args.src, f), encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    m = DISABLE.search(line)
                    if m:
                        rep.add(
                            f,
                            n,
                            m.start() + 1,
                            "grader/inline-disable",
                            "an inline `rubocop:disable` comment (counted as a finding)",
                        )
        except OSError:
            continue
    rep.emit()
