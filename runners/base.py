"""What every runner shares: the job it runs, the result it returns, the interface.

Runners know no language. A job names an image recipe and carries, per container
role, the command to run; the language (``grader.languages``) decides all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

IsolationMode = Literal["process", "in-process", "service"]

# The container roles of a run. "tests" always runs; "candidate" (the submission's
# own process, reached over loopback from the tests) only under process isolation.
TESTS_ROLE = "tests"
CANDIDATE_ROLE = "candidate"
# A service run's databases are roles too ("db-postgres"...): one container each.
DATABASE_ROLE_PREFIX = "db-"
# A performance run: the reference solution, served like the candidate's code (its own
# container on the same loopback), to a client that proves it holds the run's secret.
REFERENCE_ROLE = "reference"


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
class Command:
    """What one container of a run executes.

    ``argv`` (and ``lint``, ``build``) may hold the placeholders of
    ``runners.harness.grader_contract`` (``{root}``, ``{work}``, ``{results}``...).
    ``lint`` runs first: a linter reads the sources and never runs them, so its report
    (what it writes to stdout) is taken before any submitted code runs. ``build`` runs
    next, in the same folder; when it fails the run ends there and the result says so.
    ``results``
    gives the command the results and token pipes; ``token`` the token pipe alone (a
    reference server reads the secret the host gave its container). ``code``: the
    submission (the reference solution, for the reference role) is in this container
    (as ``{work}``, a writable copy, unless the job has an ``app_dir``).
    """

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    lint: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    results: bool = False
    token: bool = False
    code: bool = True
    # Where the command runs: "" is the writable work folder; a job's app_dir otherwise.
    cwd: str = ""
    # The image recipe of this role's container ("" is the job's image): a service run's
    # candidate runs in its language's image, its tests in Python's.
    image: str = ""


@dataclass(frozen=True)
class Database:
    """A database container of a service run (started fresh, private to the run).

    ``image`` is its recipe (``runners/images/<image>``); ``env`` its credentials; the
    files go in before it starts (``/grader-db/schema.sql``). It is ready when its
    entrypoint prints ``ready_line``; it listens on ``port`` on the run's loopback.
    """

    name: str
    image: str
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, bytes] = field(default_factory=dict)
    memory_mb: int = 256
    ready_line: str = "GRADER-DB-READY"
    ready_seconds: float = 60.0
    # Seconds after which the database stops by itself (0: never).
    lifetime_s: float = 0.0


@dataclass(frozen=True)
class ServiceRun:
    """What makes a job a service run: the candidate's command is a service, reached over
    the run's private loopback on ``port``; the databases start (and are ready) first.

    Every container of the run shares one network namespace with no interface but the
    loopback: nothing of the run has a route anywhere, and no two runs share one.
    ``control_port``: where the candidate container's launcher takes the tests' requests
    (status, restart, logs), given ``control_token``. ``tests_limits``: the tests
    container's own limits (the challenge's limits bind the candidate).
    """

    port: int
    ready_path: str | None = None
    ready_seconds: float = 30.0
    databases: tuple[Database, ...] = ()
    control_port: int = 7412
    control_token: str = ""
    tests_limits: RunLimits = field(
        default_factory=lambda: RunLimits(memory_mb=512, pids=128, disk_mb=64)
    )
    # Host names the run's loopback answers to (e.g. "postgres"), besides 127.0.0.1.
    host_aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    """One sandboxed run: which image, which code, which tests, what to run, which limits.

    ``tests_root`` is the challenge folder: everything below its ``tests/`` goes in
    (``/grader/tests``, readable by the run user only). ``submission_files`` are the
    submission's files that go in (relative paths; ``None`` means all of them).
    With ``app_dir`` set (languages whose tests and code share a process and a
    folder), the submission's files and the test files (flattened out of
    ``tests/public`` and ``tests/hidden``) are laid out there, root-owned and
    read-only, so nothing in the run can rewrite a test.
    """

    image: str
    submission_dir: Path
    tests_root: Path
    commands: Mapping[str, Command]
    limits: RunLimits = field(default_factory=RunLimits)
    label: str = "adhoc"
    token: str = ""
    isolation: IsolationMode = "in-process"
    submission_files: tuple[str, ...] | None = None
    app_dir: str = ""
    # Files added to the app folder by the grader itself (name → text), e.g. a sentinel.
    extra_files: Mapping[str, str] = field(default_factory=dict)
    # Set for a service run (see ServiceRun).
    service: ServiceRun | None = None
    # A performance run: the reference solution's folder (the reference role's code).
    reference_dir: Path | None = None
    # Roles whose containers run on the same CPUs (a performance run's candidate and
    # reference: on different cores, each core's neighbours would bias the comparison
    # in a way that alternating in time cannot cancel).
    pin_together: tuple[str, ...] = ()

    @property
    def has_candidate_process(self) -> bool:
        """Two principals: the candidate's code runs in its own container and process."""
        return CANDIDATE_ROLE in self.commands


@dataclass
class RunResult:
    """What came back from a sandbox. Limits hit are data here, never exceptions.

    ``results`` is the document the test command wrote into its results pipe, as the
    launcher received it (unverified: the language checks it against the run token).
    """

    exit_code: int | None
    results: bytes | None = None
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
    build_failed: bool = False
    build_log: str = ""
    # What the job's lint step wrote (the language parses it).
    lint: bytes | None = None
    isolation: IsolationMode = "process"
    runner: str = ""
    events: list[dict[str, str]] = field(default_factory=list)
    candidate_stdout_tail: str = ""
    candidate_stderr_tail: str = ""
    # A service run: what the candidate container's launcher reported of the service
    # (starts, exits, restarts, its bounded log) and the tests container's files
    # beyond the results (``service.json``, ``schema.json``), unverified JSON.
    service: dict[str, object] | None = None
    extra: dict[str, bytes] = field(default_factory=dict)

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
    """A sandbox that executes a job."""

    name: str

    def run(self, job: Job) -> RunResult: ...

    def self_test(self) -> str: ...
