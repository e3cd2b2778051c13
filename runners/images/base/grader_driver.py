"""What every language's ``grader-test`` shares (image path /opt/grader/lib).

The in-sandbox contract, the same in every image::

    grader-test --src DIR [--timeout S] [--test-timeout S] [--no-sentinel] TEST_FILE...

DIR holds the submission and the test files side by side (it may be read-only);
TEST_FILE paths are relative to it. File descriptor 3 is the write end of a pipe for
the results (one JUnit XML document), file descriptor 4 the read end of a pipe that
carries the run token. The driver reads the token and closes fd 4 before anything
else runs, makes itself non-dumpable (no process of the same user can read its
memory or open its file descriptors through /proc), and starts each test framework
process with a pipe of its own as fd 3 and a fresh token pipe as fd 4. A framework's
reporter reads the token at start-up, before candidate code loads, and writes
``<testsuite>`` elements, each with ``<property name="grader_run" value=TOKEN/>``.
The driver parses what each framework wrote (no DTDs), keeps the suites that carry
the token, and writes one ``<testsuites>`` document to its own fd 3. What it drops it
reports in a suite of its own with a ``grader_anomaly`` property; a build that failed
is a suite with ``grader_build=failed`` and the (bounded) log in ``<system-err>``.

Every ``<testcase>`` it writes has ``file`` (the test file, relative to DIR; the
harness's sentinel is ``<sentinel>`` with ``classname="grader.sentinel"``),
``classname`` and ``name``: the host maps ``file`` to ``tests/<public|hidden>/...``.
Standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

TOKEN_PROPERTY = "grader_run"
SENTINEL_CLASS = "grader.sentinel"
SENTINEL_FILE = "<sentinel>"
MAX_XML = 16 * 1024 * 1024
MAX_LOG = 64 * 1024
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
}


@dataclass
class Context:
    """One run: the arguments, the token and what the frameworks reported."""

    src: str
    tests: list[str]
    timeout: float
    test_timeout: float
    sentinel: bool
    token: str
    out_fd: int
    suites: list[ET.Element] = field(default_factory=list)

    def suite(self, name: str, **props: str) -> ET.Element:
        """A new suite written by the driver itself (token property included)."""
        s = ET.Element(
            "testsuite",
            {"name": name, "tests": "0", "failures": "0", "errors": "0", "skipped": "0"},
        )
        p = ET.SubElement(s, "properties")
        ET.SubElement(p, "property", {"name": TOKEN_PROPERTY, "value": self.token})
        for k, v in props.items():
            ET.SubElement(p, "property", {"name": k, "value": v})
        self.suites.append(s)
        return s

    def anomaly(self, message: str) -> None:
        self.suite("grader.driver", grader_anomaly=message[:2000])

    def build_failed(self, name: str, log: str) -> None:
        s = self.suite(name, grader_build="failed")
        ET.SubElement(s, "system-err").text = bounded(log)

    def run_framework(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: dict[str, str],
        cwd: str,
        timeout: float | None = None,
    ) -> int:
        """Run one framework process with fresh fd 3 (results) and fd 4 (token)
        pipes; keep the suites it wrote that carry the token. Returns its exit code."""
        xml_r, xml_w = os.pipe()
        tok_r, tok_w = os.pipe()
        os.write(tok_w, self.token.encode())
        os.close(tok_w)
        os.dup2(xml_w, 3, inheritable=True)
        os.dup2(tok_r, 4, inheritable=True)
        os.close(xml_w)
        os.close(tok_r)
        chunks: list[bytes] = []
        size = [0]

        def reader() -> None:
            while True:
                data = os.read(xml_r, 65536)
                if not data:
                    break
                if size[0] <= MAX_XML:
                    chunks.append(data)
                size[0] += len(data)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            proc = subprocess.Popen(
                list(cmd), env=env, cwd=cwd, pass_fds=(3, 4), stdin=subprocess.DEVNULL
            )
        finally:
            _park()
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
            self.anomaly(f"{name}: killed after {timeout:.0f} s")
        t.join(timeout=5)
        os.close(xml_r)
        if size[0] > MAX_XML:
            self.anomaly(f"{name}: results larger than {MAX_XML} bytes")
            return code
        self.take(name, b"".join(chunks))
        return code

    def take(self, name: str, data: bytes) -> None:
        """Keep the token-carrying suites of a framework's output."""
        if not data.strip():
            return  # the process died before writing: its tests are "not reported"
        if re.search(rb"<!(DOCTYPE|ENTITY)", data, re.IGNORECASE):
            self.anomaly(f"{name}: results carry a DTD")
            return
        try:
            root = ET.fromstring(b"<grader-fragment>" + _strip_decl(data) + b"</grader-fragment>")
        except ET.ParseError as exc:
            self.anomaly(f"{name}: results are not well-formed ({exc})")
            return
        for s in root.iter("testsuite"):
            tokens = [
                p.get("value")
                for p in s.findall("properties/property")
                if p.get("name") == TOKEN_PROPERTY
            ]
            if tokens != [self.token]:
                self.anomaly(f"{name}: a test suite without the run token was dropped")
                continue
            self.suites.append(s)

    def finish(self) -> None:
        root = ET.Element("testsuites")
        root.extend(self.suites)
        data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        with os.fdopen(self.out_fd, "wb") as fh:
            fh.write(data)


def _strip_decl(data: bytes) -> bytes:
    return re.sub(rb"<\?xml[^>]*\?>", b"", data)


def bounded(text: str, limit: int = MAX_LOG) -> str:
    text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)
    return text if len(text) <= limit else text[: limit // 2] + "\n[...]\n" + text[-limit // 2 :]


def _park() -> None:
    """Keep fds 3 and 4 taken (by /dev/null) so that new pipes never land on them."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (3, 4):
        if fd != null:
            os.dup2(null, fd)  # children get fds only through pass_fds
    if null not in (3, 4):
        os.close(null)


def harden() -> None:
    """Non-dumpable: same-user processes cannot ptrace it, read its memory or
    open its file descriptors through /proc."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    except (OSError, AttributeError):
        pass


def start(argv: list[str] | None = None) -> Context:
    """Parse the arguments, take the token from fd 4 and fd 3 away from children."""
    harden()
    ap = argparse.ArgumentParser(prog="grader-test")
    ap.add_argument("--src", required=True)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--test-timeout", type=float, default=10.0)
    ap.add_argument("--no-sentinel", dest="sentinel", action="store_false")
    ap.add_argument("tests", nargs="+")
    args = ap.parse_args(argv)
    token = ""
    try:
        with os.fdopen(4, "rb") as fh:
            token = fh.read(4096).decode("ascii", "replace").strip()
    except OSError:
        pass
    try:
        # Above 4 and close-on-exec: no child inherits the real results pipe.
        out_fd = fcntl.fcntl(3, fcntl.F_DUPFD_CLOEXEC, 10)
    except OSError:
        out_fd = os.open("/dev/null", os.O_WRONLY)
        print("grader-test: no results pipe on fd 3", file=sys.stderr)
    _park()
    if not token:
        print("grader-test: no run token on fd 4", file=sys.stderr)
    src = os.path.abspath(args.src)
    return Context(
        src=src,
        tests=list(args.tests),
        timeout=args.timeout,
        test_timeout=args.test_timeout,
        sentinel=args.sentinel,
        token=token,
        out_fd=out_fd,
    )
