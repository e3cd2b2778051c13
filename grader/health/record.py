"""Mutation results kept by content: a committed record per challenge and a local cache.

Grading every mutant takes minutes per challenge, so the results are kept, keyed by
a hash of what decides them: the reference solution, the tests, the settings that
change how tests run (language, isolation, limits) and the mutator's version. The
record (``challenges/<slug>/health.json``) is committed beside the challenge so a
fresh machine (CI) reuses it while it is current and recomputes when it is not; the
runner image and the harness are left out of the key (they change often and rarely
change which mutant a test kills), and a live re-check of every survivor and a
sample of the killed catches a record the current sandbox disagrees with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__
from grader.challenge import Challenge
from grader.mutation import MUTATOR_VERSION

RECORD_NAME = "health.json"
RECORD_FORMAT = 1


@dataclass
class Outcome:
    """What grading one mutant gave."""

    status: str
    killed_by: str | None = None


@dataclass
class Record:
    """Mutation results for one content key."""

    key: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    computed_s: float = 0.0
    jobs: int = 1
    test_seconds: float = 0.0
    wall_seconds: float = 0.0

    def to_json(self) -> str:
        data = {
            "format": RECORD_FORMAT,
            "key": self.key,
            "mutator_version": MUTATOR_VERSION,
            "grader_version": __version__,
            "computed_s": round(self.computed_s, 1),
            "jobs": self.jobs,
            "test_seconds": self.test_seconds,
            "wall_seconds": self.wall_seconds,
            "mutants": {
                i: {"status": o.status, **({"killed_by": o.killed_by} if o.killed_by else {})}
                for i, o in sorted(self.outcomes.items())
            },
        }
        return json.dumps(data, indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Record | None:
        """The record in ``text``; None when it is not one this grader reads."""
        try:
            data = json.loads(text)
            if data.get("format") != RECORD_FORMAT:
                return None
            outcomes = {
                str(i): Outcome(str(o["status"]), o.get("killed_by"))
                for i, o in dict(data["mutants"]).items()
            }
            return cls(
                key=str(data["key"]),
                outcomes=outcomes,
                computed_s=float(data.get("computed_s", 0.0)),
                jobs=int(data.get("jobs", 1)),
                test_seconds=float(data.get("test_seconds", 0.0)),
                wall_seconds=float(data.get("wall_seconds", 0.0)),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _files(root: Path) -> list[Path]:
    """The files under ``root`` that a fresh checkout has: no caches, no hidden files
    (a key computed on an author's machine must match CI's)."""
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix != ".pyc"
        and not any(
            part == "__pycache__" or part.startswith(".") for part in p.relative_to(root).parts
        )
    )


def content_key(challenge: Challenge) -> str:
    """The hash mutation results are kept by (see the module's doc)."""
    h = hashlib.sha256()
    cfg = challenge.config
    settings = {
        "language": cfg.language,
        "isolation": challenge.isolation,
        "limits": cfg.limits.model_dump(),
        "mutator": MUTATOR_VERSION,
        "format": RECORD_FORMAT,
    }
    h.update(json.dumps(settings, sort_keys=True).encode() + b"\0")
    for p in _files(challenge.solution_dir) + _files(challenge.tests_dir):
        rel = p.relative_to(challenge.root).as_posix()
        h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def record_path(challenge: Challenge) -> Path:
    return challenge.root / RECORD_NAME


def cache_path(challenge: Challenge, cache_dir: Path, key: str) -> Path:
    return cache_dir / "health" / f"{challenge.slug}-{key}.json"


def read(path: Path, key: str) -> Record | None:
    """The record at ``path`` if it exists and was made for ``key``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    record = Record.from_json(text)
    return record if record is not None and record.key == key else None


def write(path: Path, record: Record) -> str | None:
    """Write ``record`` to ``path`` atomically; the reason when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(record.to_json(), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        return f"{path}: cannot write: {exc.strerror}"
    return None
