"""Stands in for the launcher inside a runner image: runs one sample and checks it.

    python3 -I drive.py SAMPLE_DIR

SAMPLE_DIR has ``src/`` (solution and tests side by side, as a run lays them out)
and ``expect.json``: {"tests": [test files], "cases": {"file::classname::name":
"passed|failed|error|skipped"}, "lint_rules": [rules that must be found]}. Like the
launcher it hands ``grader-test`` a results pipe as fd 3 and a token pipe as fd 4,
then checks that every suite carries the token, that the sentinel failed and that
every expected case has the expected outcome. Exit 0 when all holds.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import xml.etree.ElementTree as ET


def main() -> int:
    sample = sys.argv[1]
    extra = sys.argv[2:]
    with open(os.path.join(sample, "expect.json"), encoding="utf-8") as fh:
        expect = json.load(fh)
    src = os.path.join(sample, "src")
    token = secrets.token_hex(16)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (3, 4):  # taken, so that the pipes below never land on 3 or 4
        if fd != null:
            os.dup2(null, fd)
    if null not in (3, 4):
        os.close(null)
    xml_r, xml_w = os.pipe()
    tok_r, tok_w = os.pipe()
    os.write(tok_w, token.encode())
    os.close(tok_w)
    os.dup2(xml_w, 3)
    os.dup2(tok_r, 4)
    os.close(xml_w)
    os.close(tok_r)
    started = time.monotonic()
    proc = subprocess.Popen(
        ["/opt/grader/bin/grader-test", "--src", src, "--timeout", "120",
         "--test-timeout", "10", *expect.get("args", []), *extra, *expect["tests"]],
        pass_fds=(3, 4), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, cwd="/work",
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"})
    os.close(3)
    os.close(4)
    data = bytearray()
    while chunk := os.read(xml_r, 65536):
        data += chunk
    out = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    code = proc.wait()
    elapsed = time.monotonic() - started
    print(f"--- grader-test exit {code} in {elapsed:.1f} s; its output (tail):")
    print(out[-3000:])
    print("--- results XML from fd 3:")
    text = data.decode("utf-8", "replace")
    print(text if len(text) < 12000 else text[:12000] + "\n[...]")
    problems: list[str] = []
    root = ET.fromstring(bytes(data))
    suites = root.findall("testsuite")
    if not suites:
        problems.append("no test suite")
    got: dict[str, str] = {}
    anomalies = 0
    for s in suites:
        toks = [p.get("value") for p in s.findall("properties/property")
                if p.get("name") == "grader_run"]
        if toks != [token]:
            problems.append(f"suite {s.get('name')} lacks the run token")
        for p in s.findall("properties/property"):
            if p.get("name") in ("grader_anomaly", "grader_build"):
                print(f"suite {s.get('name')}: {p.get('name')}={p.get('value')}")
                anomalies += p.get("name") == "grader_anomaly"
        for c in s.findall("testcase"):
            status = "passed"
            for tag, st in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
                if c.find(tag) is not None:
                    status = st
            got[f"{c.get('file')}::{c.get('classname')}::{c.get('name')}"] = status
    print("--- test cases (file::classname::name -> outcome):")
    for k, v in got.items():
        print(f"  {v:8} {k}")
    sentinel = [k for k in got if k.startswith("<sentinel>::grader.sentinel::")]
    sentinel_failed = bool(sentinel) and all(got[k] in ("failed", "error") for k in sentinel)
    if expect.get("sentinel", True) and not sentinel_failed:
        problems.append(f"the sentinel was not reported failed: {sentinel}")
    for k, v in expect["cases"].items():
        if got.get(k) != v:
            problems.append(f"{k}: expected {v}, got {got.get(k)}")
    if expect.get("exact", True):
        extra_ids = set(got) - set(expect["cases"]) - set(sentinel)
        if extra_ids:
            problems.append(f"unexpected cases: {sorted(extra_ids)}")
    if expect.get("anomaly", False) != bool(anomalies):
        problems.append(f"expected anomaly={expect.get('anomaly', False)}, got {anomalies}")
    if "lint_rules" in expect:
        lint_files = expect.get("lint_files", [])
        t0 = time.monotonic()
        p = subprocess.run(["/opt/grader/bin/grader-lint", "--src", src, *lint_files],
                           capture_output=True, text=True, cwd="/work",
                           env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"})
        print(f"--- grader-lint exit {p.returncode} in {time.monotonic() - t0:.1f} s:")
        print(p.stdout[-6000:], p.stderr[-2000:])
        try:
            rules = {f["rule"] for f in json.loads(p.stdout)["findings"]}
        except (ValueError, KeyError):
            rules = set()
            problems.append("grader-lint printed no JSON report")
        for r in expect["lint_rules"]:
            if r not in rules:
                problems.append(f"lint rule {r} not found (found: {sorted(rules)})")
    print("--- " + ("OK" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
