"""What every language's ``grader-lint`` shares (image path /opt/grader/lib).

    grader-lint --src DIR FILE...

Lints the submission's FILEs (relative to DIR) with the language's linter and the
project's default rule set, and prints one JSON document on stdout:
``{"tool": ..., "findings": [{"file", "line", "column", "rule", "severity",
"message"}], "errors": [...]}`` with ``file`` relative to DIR. ``errors`` says what
kept the linter from running (a finding list is then incomplete). A linter never
executes the submission. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, field


@dataclass
class Finding:
    file: str
    line: int
    column: int
    rule: str
    message: str
    severity: str = "warning"


@dataclass
class Report:
    tool: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(
        self,
        file: str,
        line: object,
        column: object,
        rule: str,
        message: str,
        severity: str = "warning",
    ) -> None:
        self.findings.append(
            Finding(file, _int(line), _int(column), rule, message.strip()[:1000], severity)
        )

    def emit(self) -> None:
        data = {
            "tool": self.tool,
            "findings": [asdict(f) for f in self.findings],
            "errors": [e[:2000] for e in self.errors],
        }
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def relative(src: str, path: str) -> str:
    path = os.path.normpath(os.path.join(src, path))
    return os.path.relpath(path, src) if path.startswith(src.rstrip("/") + "/") else path


def start(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="grader-lint")
    ap.add_argument("--src", required=True)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args(argv)
    args.src = os.path.abspath(args.src)
    return args


ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
}
