"""Go in the sandbox: ``grader-test`` and ``grader-lint`` (see grader_driver.py).

GOPATH mode (GO111MODULE=off): Debian's golang-*-dev libraries under
/usr/share/gocode build, no proxy is asked, and a go.mod's ``go`` line (1.26 or
any 1.2x) never stops a build. The submission is laid out at
$GOPATH/src/<module path from go.mod, else "submission">, so imports of its own
sub-packages resolve. Results come from ``go test -json``, which this process (not
the test binary, where candidate code runs) turns into JUnit XML: the binary never
sees the token or the results pipe.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from typing import Any

sys.path.insert(0, "/opt/grader/lib")
import grader_driver as gd  # noqa: E402
import grader_lint as gl  # noqa: E402

GOROOT_BIN = "/usr/lib/go-1.26/bin"
WARM_CACHE = "/opt/grader/go-cache"
ROOT = "/work/.grader-go"
CACHE = "/tmp/.grader-gocache"  # not /work: its inodes are the submission's
MAX_OUTPUT = 8 * 1024
TEST_FUNC = re.compile(r"^func\s+(Test\w*)\s*\(\s*\w+\s+\*testing\.T\s*\)", re.M)
PACKAGE = re.compile(r"^package\s+(\w+)", re.M)
MODULE = re.compile(r"^module\s+(\S+)", re.M)


def go_env() -> dict[str, str]:
    env = dict(gd.BASE_ENV)
    env.update(
        {
            "PATH": f"{GOROOT_BIN}:{env['PATH']}",
            "GO111MODULE": "off",
            "GOPATH": f"{ROOT}/gopath:/usr/share/gocode",
            "GOCACHE": CACHE,
            "GOTMPDIR": f"{ROOT}/tmp",  # /tmp is noexec: test binaries run from here
            "CGO_ENABLED": "0",
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOTELEMETRY": "off",
            "GOFLAGS": "",
        }
    )
    return env


def layout(src: str, keep_tests: list[str]) -> tuple[str, str]:
    """Copy the submission (and the tests) under GOPATH; returns (import path, dir)."""
    module = "submission"
    try:
        with open(os.path.join(src, "go.mod"), encoding="utf-8") as fh:
            m = MODULE.search(fh.read())
            if m:
                module = m.group(1).strip('"')
    except OSError:
        pass
    if not re.fullmatch(r"[A-Za-z0-9._~/-]+", module) or ".." in module.split("/"):
        module = "submission"
    pkgdir = f"{ROOT}/gopath/src/{module}"
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(os.path.dirname(pkgdir), exist_ok=True)
    shutil.copytree(src, pkgdir, symlinks=False, ignore=shutil.ignore_patterns("vendor", ".git"))
    keep = {os.path.normpath(t) for t in keep_tests}
    for dirpath, _dirs, files in os.walk(pkgdir):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), pkgdir)
            if f.endswith("_test.go") and rel not in keep:
                os.unlink(os.path.join(dirpath, f))  # the submission's own tests
    os.makedirs(f"{ROOT}/tmp", exist_ok=True)
    # The image's warm build cache, as a tree of links: entries the image built are
    # read from it, new ones are written beside them.
    if os.path.isdir(WARM_CACHE):
        shutil.rmtree(CACHE, ignore_errors=True)
        subprocess.run(["cp", "-rs", WARM_CACHE, CACHE], check=False)
    return module, pkgdir


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def test() -> None:
    ctx = gd.start()
    module, pkgdir = layout(ctx.src, ctx.tests)
    owner: dict[str, str] = {}  # top-level test function -> test file
    package = ""
    for t in ctx.tests:
        text = _read(os.path.join(pkgdir, t))
        for name in TEST_FUNC.findall(text):
            owner.setdefault(name, t)
        if not package and os.path.dirname(os.path.normpath(t)) in ("", "."):
            m = PACKAGE.search(text)
            package = m.group(1) if m else ""
    sentinel = ""
    if ctx.sentinel and package:
        sentinel = f"TestGraderSentinel{secrets.token_hex(4)}"
        with open(os.path.join(pkgdir, "zz_grader_sentinel_test.go"), "w") as fh:
            fh.write(
                f'package {package}\n\nimport "testing"\n\n'
                f"func {sentinel}(t *testing.T) {{\n"
                '\tt.Fatal("the grader\'s sentinel check always fails")\n}\n'
            )
    dirs = sorted({os.path.dirname(os.path.normpath(t)) for t in ctx.tests})
    pkgs = ["./" + d if d not in ("", ".") else "." for d in dirs]
    cmd = [
        "go",
        "test",
        "-json",
        "-vet=off",
        "-count=1",
        "-p=1",
        f"-timeout={max(1, int(ctx.timeout))}s",
        *pkgs,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=pkgdir,
        env=go_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    conv = Converter(ctx, module, owner, sentinel)
    assert proc.stdout is not None and proc.stderr is not None
    err = bytearray()

    def drain() -> None:
        for chunk in iter(lambda: proc.stderr.read1(65536), b""):  # type: ignore[union-attr]
            err.extend(chunk)
            if len(err) > 2 * gd.MAX_LOG:
                del err[: len(err) - gd.MAX_LOG]

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    for raw in proc.stdout:
        conv.line(raw)
    code = proc.wait()
    t.join()
    stderr = bytes(err).decode("utf-8", "replace")
    sys.stderr.write(stderr[-4000:])
    conv.finish(stderr, code)
    ctx.finish()
    sys.exit(0 if code == 0 else 1)


class Converter:
    """``go test -json`` events -> JUnit test suites (one per package)."""

    def __init__(self, ctx: gd.Context, module: str, owner: dict[str, str], sentinel: str) -> None:
        self.ctx, self.module, self.owner, self.sentinel = ctx, module, owner, sentinel
        self.tests: dict[tuple[str, str], dict[str, Any]] = {}
        self.order: list[tuple[str, str]] = []
        self.build: dict[str, list[str]] = {}
        self.pkg_output: dict[str, list[str]] = {}
        self.failed_build: set[str] = set()
        self.build_fail_events = False
        self.pkg_done: dict[str, str] = {}
        self.anomalies: list[str] = []

    def line(self, raw: bytes) -> None:
        try:
            ev = json.loads(raw)
        except ValueError:
            self.pkg_output.setdefault("", []).append(raw.decode("utf-8", "replace"))
            return
        if not isinstance(ev, dict):
            return
        action = ev.get("Action")
        pkg = str(ev.get("Package") or ev.get("ImportPath") or "")
        if action == "build-output":
            # Keyed by what failed to build: the package, or a package it imports.
            self.build.setdefault(pkg.split(" ")[0], []).append(str(ev.get("Output", "")))
            return
        if action == "build-fail":
            self.build_fail_events = True
            return
        test = ev.get("Test")
        if not test:
            if action == "output":
                self.pkg_output.setdefault(pkg, []).append(str(ev.get("Output", "")))
            elif action in ("pass", "fail", "skip"):
                self.pkg_done[pkg] = action
                if ev.get("FailedBuild"):
                    # The package, its tests or a package it imports did not build.
                    self.failed_build.add(pkg)
            return
        self._test_event(pkg, str(test), str(action), ev)

    def _test_event(self, pkg: str, test: str, action: str, ev: dict[str, Any]) -> None:
        """One event of one test: started, printed, or finished."""
        key = (pkg, test)
        st = self.tests.get(key)
        if st is None:
            st = self.tests[key] = {"status": None, "output": [], "size": 0, "elapsed": 0.0}
            self.order.append(key)
        if action == "run" and st.get("ran"):
            self.anomalies.append(f"{test} started twice")
        if action == "run":
            st["ran"] = True
        elif action == "output":
            out = str(ev.get("Output", ""))
            if st["size"] < MAX_OUTPUT:
                st["output"].append(out)
            st["size"] += len(out)
        elif action in ("pass", "fail", "skip"):
            if st["status"] is not None:
                self.anomalies.append(f"{test} reported {st['status']} then {action}")
                action = "fail"
            st["status"] = action
            st["elapsed"] = float(ev.get("Elapsed") or 0.0)

    def finish(self, stderr: str, code: int) -> None:
        pkgs = list(dict.fromkeys([k[0] for k in self.order] + list(self.pkg_done)))
        if not pkgs:
            pkgs = [self.module]
        every_build_log = "".join("".join(v) for v in self.build.values())
        for pkg in pkgs:
            keys = [k for k in self.order if k[0] == pkg]
            if pkg in self.failed_build:
                self.ctx.build_failed(
                    pkg, every_build_log + "".join(self.pkg_output.get(pkg, [])) + stderr
                )
                continue
            self._suite(pkg, keys, "".join(self.pkg_output.get(pkg, [])))
        if not self.order and not self.pkg_done and code != 0:
            # go test itself failed (no events at all): nothing of the package ran.
            self.ctx.build_failed(
                self.module,
                every_build_log + stderr + "".join("".join(v) for v in self.pkg_output.values()),
            )
        elif self.build_fail_events and not self.failed_build:
            self.ctx.build_failed(self.module, every_build_log + stderr)
        if self.sentinel:
            self._check_sentinel()
        if self.anomalies:
            self.ctx.anomaly("; ".join(self.anomalies))

    def _check_sentinel(self) -> None:
        """The sentinel (in the root package) always fails, and runs last: a root
        package that passed was forged; one whose sentinel never finished stopped early."""
        pkg = self.module
        done = self.pkg_done.get(pkg)
        if done == "pass":
            # Framing lines printed by candidate code followed by an exit that skips
            # the testing package, or an exit(0) before any test ran.
            self.anomalies.append(f"{pkg} passed although the sentinel always fails")
            return
        if pkg in self.failed_build or self.build_fail_events:
            return
        if self.tests.get((pkg, self.sentinel), {}).get("status") is not None:
            return
        keys = [k for k in self.order if k[0] == pkg and k[1].split("/")[0] != self.sentinel]
        status = [self.tests[k]["status"] for k in keys]
        open_ = [k[1] for k in keys if self.tests[k]["status"] is None]
        innermost = [n for n in open_ if not any(o.startswith(n + "/") for o in open_)]
        end = _exit_line(
            "".join(self.pkg_output.get(pkg, []))
            + "".join("".join(self.tests[k]["output"]) for k in keys)
        )
        if keys and not open_ and "fail" not in status:
            # An honest binary that stops early stops inside a test (exit, crash,
            # timeout) or after one failed (a panic): not after every test passed.
            self.anomalies.append(
                f"{pkg}: the test binary stopped after every test passed, "
                f"before the sentinel ran ({end})"
            )
            return
        where = (
            f"during {', '.join(innermost[:5])}"
            if innermost
            else "after a failing test"
            if keys
            else "before any test ran"
        )
        self.ctx.suite(
            "grader.driver",
            grader_stopped=gd.bounded(
                f"the test binary stopped {where} ({end}); the tests after it did not run", 2000
            ),
        )

    def _suite(self, pkg: str, keys: list[tuple[str, str]], pkg_out: str) -> None:
        names = [k[1] for k in keys]
        parents = {n.rsplit("/", 1)[0] for n in names if "/" in n}
        parents |= {p for n in names for p in _prefixes(n)}
        s = self.ctx.suite(pkg)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for key in keys:
            name = key[1]
            st = self.tests[key]
            status = st["status"]
            if name in parents:
                kids = [self.tests[k]["status"] for k in keys if k[1].startswith(name + "/")]
                if status != "fail" and status is not None:
                    continue  # a parent that passed is its subtests
                if status is None and None in kids:
                    continue  # stopped inside a subtest: reported there
                if status == "fail" and "fail" in kids:
                    continue  # its failure is a subtest's, reported there
            top = name.split("/")[0]
            is_sentinel = bool(self.sentinel) and top == self.sentinel
            attrs = {
                "classname": gd.SENTINEL_CLASS if is_sentinel else pkg,
                "name": name,
                "file": gd.SENTINEL_FILE if is_sentinel else self.owner.get(top, ""),
                "time": f"{st['elapsed']:.3f}",
            }
            if not attrs["file"]:
                self.anomalies.append(f"{name}: no test file declares {top}")
            case = ET.SubElement(s, "testcase", attrs)
            counts["tests"] += 1
            output = "".join(st["output"])
            if status == "pass":
                pass
            elif status == "skip":
                ET.SubElement(case, "skipped", {"message": _last_line(output)})
                counts["skipped"] += 1
            elif status == "fail":
                f = ET.SubElement(case, "failure", {"message": _last_line(output)})
                f.text = gd.bounded(output, MAX_OUTPUT)
                counts["failures"] += 1
            else:
                e = ET.SubElement(
                    case,
                    "error",
                    {
                        "message": "the test binary stopped while this test ran "
                        "(os.Exit, a crash, or the timeout)"
                    },
                )
                e.text = gd.bounded(output + pkg_out[-4000:], MAX_OUTPUT)
                counts["errors"] += 1
        for k, v in counts.items():
            s.set(k, str(v))


def _prefixes(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _exit_line(text: str) -> str:
    """How the binary ended, from its output: the panic and the exit status or signal."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    found = [
        next((ln for ln in lines if ln.startswith(p)), "")
        for p in (("panic:", "fatal error:"), ("exit status", "signal:"))
    ]
    if not any(found):
        found = [next((ln for ln in reversed(lines) if ln.startswith("FAIL")), "")]
    said = "; ".join(x for x in found if x)
    return str(gd.bounded(said, 300)) if said else "no exit status reported"


def _last_line(text: str) -> str:
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(("=== ", "--- "))
    ]
    return str(gd.bounded(lines[-1] if lines else "", 500))


def lint() -> None:
    """gofmt -l/-d on the submission's files, then go vet -json on its package."""
    args = gl.start()
    rep = gl.Report("gofmt+go vet")
    files = [f for f in args.files if f.endswith(".go") and not f.endswith("_test.go")]
    if not files:
        rep.emit()
        return
    _module, pkgdir = layout(args.src, [])
    env = go_env()
    for f in files:
        p = subprocess.run(
            [f"{GOROOT_BIN}/gofmt", "-d", os.path.join(pkgdir, f)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        if p.returncode != 0 and p.stderr:
            for m in re.finditer(r"^(?:.*?):(\d+):(\d+): (.*)$", p.stderr, re.M):
                rep.add(f, m.group(1), m.group(2), "gofmt/syntax", m.group(3), "error")
            continue
        for m in re.finditer(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@", p.stdout, re.M):
            rep.add(
                f,
                int(m.group(1)) + 3 if int(m.group(1)) > 1 else 1,
                1,
                "gofmt",
                "not gofmt-formatted (gofmt -d shows the change)",
            )
    dirs = sorted({os.path.dirname(os.path.normpath(f)) for f in files})
    pkgs = ["./" + d if d not in ("", ".") else "." for d in dirs]
    p = subprocess.run(
        ["go", "vet", "-json", *pkgs],
        capture_output=True,
        text=True,
        cwd=pkgdir,
        env=env,
        timeout=300,
    )
    text = p.stdout + "\n" + p.stderr  # -json goes to stdout in Go 1.26, to stderr before
    # go vet -json prints "# pkg" headers then one JSON object per package.
    dec = json.JSONDecoder()
    i = 0
    parsed = False
    while True:
        j = text.find("{", i)
        if j < 0:
            break
        try:
            obj, end = dec.raw_decode(text, j)
        except ValueError:
            i = j + 1
            continue
        parsed = True
        i = end
        for _pkg, analyzers in obj.items() if isinstance(obj, dict) else []:
            for analyzer, diags in analyzers.items() if isinstance(analyzers, dict) else []:
                for d in diags if isinstance(diags, list) else []:
                    pos = re.match(r"^(.*?):(\d+):(\d+)$", str(d.get("posn", "")))
                    file = gl.relative(pkgdir, pos.group(1)) if pos else ""
                    rep.add(
                        file,
                        pos.group(2) if pos else 0,
                        pos.group(3) if pos else 0,
                        f"vet/{analyzer}",
                        str(d.get("message", "")),
                    )
    if p.returncode != 0 and not parsed:
        for m in re.finditer(r"^(?:\./)?([^\s:]+\.go):(\d+):(\d+): (.*)$", text, re.M):
            rep.add(m.group(1), m.group(2), m.group(3), "vet/typecheck", m.group(4), "error")
        if not rep.findings:
            rep.errors.append(text[-2000:])
    rep.emit()
