"""What every runner shares: the job it runs, the result it returns, the interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

Mode = Literal["run", "collect"]
IsolationMode = Literal["process", "in-process"]

# Files a submission may carry that would configure (and so could subvert) the test run.
# They are never copied into a sandbox.
CONFIG_FILE_NAMES = frozenset(
    {
        "conftest.py",
        "pytest.ini",
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "setup.py",
        "sitecustomize.py",
        "usercustomize.py",
        ".pytest_cache",
        "__pycache__",
        # Operating-system metadata that archivers add; never part of a solution.
        "__MACOSX",
        ".DS_Store",
        "Thumbs.db",
    }
)
CONFIG_FILE_SUFFIXES = (".pth", ".pyc", ".pyo")


def is_config_file(rel_path: str) -> bool:
    """True for a submission path that must not reach the sandbox (see CONFIG_FILE_NAMES;
    also macOS ``._`` resource forks)."""
    parts = rel_path.split("/")
    return (
        any(p in CONFIG_FILE_NAMES or p.startswith("._") for p in parts)
        or rel_path.endswith(CONFIG_FILE_SUFFIXES)
    )


@dataclass(frozen=True)
class RunLimits:
    """Resource limits for one run (mirrors the challenge's ``[limits]``)."""

    wall_seconds: float = 60
    test_seconds: float = 5
    memory_mb: int = 256
    cpus: float = 1.0
    pids: int = 64
    output_kb: int = 256
    disk_mb: int = 64


@dataclass(frozen=True)
class Job:
    """One sandboxed test run: which code, which tests, which limits.

    ``tests_root`` is the challenge folder; ``test_files`` are paths relative to it
    (``tests/hidden/test_x.py``), and every file below ``tests_root/tests`` goes in
    so that the challenge's own ``conftest.py`` and helpers are available.
    """

    language: str
    submission_dir: Path
    tests_root: Path
    test_files: tuple[str, ...]
    limits: RunLimits = field(default_factory=RunLimits)
    isolation: IsolationMode = "process"
    mode: Mode = "run"
    label: str = "adhoc"

    @property
    def is_process_mode(self) -> bool:
        """Two principals: the candidate's code runs in its own container and process."""
        return self.isolation == "process" and self.mode == "run"


@dataclass
class RunResult:
    """What came back from a sandbox. Limits hit are data here, never exceptions."""

    exit_code: int | None
    junit_xml: bytes | None = None
    collected: list[str] | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    duration_s: float = 0.0
    peak_memory_mb: float | None = None
    timed_out: bool = False
    oom_killed: bool = False
    pids_limited: bool = False
    output_truncated: bool = False
    disk_full: bool = False
    isolation: IsolationMode = "process"
    runner: str = ""
    events: list[dict[str, str]] = field(default_factory=list)
    candidate_stdout_tail: str = ""
    candidate_stderr_tail: str = ""

    @property
    def limits_hit(self) -> list[str]:
        hit = []
        for flag, name in (
            (self.timed_out, "timeout"),
            (self.oom_killed, "memory"),
            (self.pids_limited, "pids"),
            (self.output_truncated, "output"),
            (self.disk_full, "disk"),
        ):
            if flag:
                hit.append(name)
        return hit


class Runner(Protocol):
    """A sandbox that executes a job. ``prepare`` may create containers ahead of time."""

    name: str

    def run(self, job: Job) -> RunResult: ...

    def self_test(self) -> str: ...
