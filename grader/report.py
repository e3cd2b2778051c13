"""The report: one versioned model that every rendering and the API read."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader import __version__

SCHEMA_VERSION = 1

Outcome = Literal["passed", "failed", "error", "skipped", "not_reported"]
LimitName = Literal["timeout", "memory", "pids", "output", "disk"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorInfo(_Model):
    code: str
    message: str


class ChallengeRef(_Model):
    slug: str
    version: int


class SubmissionRef(_Model):
    id: str
    sha256: str


class Flag(_Model):
    """Evidence for a reviewer (never a verdict, never shown to candidates)."""

    code: str
    message: str


class Portability(_Model):
    """Why a test cannot work under process isolation, and what to do about it."""

    cause: str
    fix: str


class TestResult(_Model):
    id: str
    visibility: Literal["public", "hidden"]
    weight: float
    outcome: Outcome
    duration_s: float = 0.0
    message: str | None = None
    output: str | None = None
    counted: bool = True
    # Set by the harness when a failing test does something that cannot cross the
    # process boundary (for the challenge's author and reviewers; never for candidates).
    portability: list[Portability] = Field(default_factory=list)


class StyleFinding(_Model):
    file: str
    line: int
    column: int = 0
    code: str
    message: str


class FileProblem(_Model):
    """A source file that static analysis could not read, and why."""

    file: str
    reason: str
    lines: int = 0


class StyleSection(_Model):
    findings: list[StyleFinding] = Field(default_factory=list)
    lines_of_code: int = 0
    analysable: bool = True
    reason: str | None = None
    # All findings, including any beyond the listing cap of ``findings``.
    findings_total: int = 0
    unanalysable: list[FileProblem] = Field(default_factory=list)


class FunctionComplexity(_Model):
    file: str
    name: str
    line: int
    complexity: int
    rank: str
    # Lines of code of the function, where the analyser measures it (lizard does).
    length: int | None = None


class FileMetrics(_Model):
    file: str
    maintainability_index: float
    loc: int = 0
    sloc: int = 0
    comments: int = 0


class ComplexitySection(_Model):
    functions: list[FunctionComplexity] = Field(default_factory=list)
    # All functions analysed; ``functions`` lists the most complex of them when capped.
    functions_total: int = 0
    maintainability_index: float = 0.0
    files: list[FileMetrics] = Field(default_factory=list)
    hotspots: list[FunctionComplexity] = Field(default_factory=list)
    reference: dict[str, Any] | None = None
    analysable: bool = True
    reason: str | None = None
    unanalysable: list[FileProblem] = Field(default_factory=list)


class DocItem(_Model):
    file: str
    name: str
    kind: Literal["module", "class", "function"]
    line: int
    documented: bool


class DocsSection(_Model):
    documented: int = 0
    total: int = 0
    # ``items`` lists undocumented items first when capped; ``total`` counts them all.
    items: list[DocItem] = Field(default_factory=list)
    analysable: bool = True
    reason: str | None = None
    unanalysable: list[FileProblem] = Field(default_factory=list)


class SourceFile(_Model):
    """A submitted file's text, kept for the reviewer's report (never executed)."""

    path: str
    text: str = ""
    truncated: bool = False
    note: str | None = None


class PerfSeries(_Model):
    """One side's figures of a ``bench`` case: per input size, the seconds of one call."""

    sizes: list[int] = Field(default_factory=list)
    median_s: list[float] = Field(default_factory=list)
    # Interquartile range of the repetitions (0 with fewer than two).
    spread_s: list[float] = Field(default_factory=list)
    samples_s: list[list[float]] = Field(default_factory=list)
    # Calls per repetition (one timed crossing each) and the cost of an empty crossing.
    calls: list[int] = Field(default_factory=list)
    empty_crossing_s: list[float] = Field(default_factory=list)
    # The growth model that fits the medians best ("O(n)"), None with fewer than 3 sizes.
    growth: str | None = None
    growth_r2: float | None = None
    # Relative RMS error of each model tried (the chosen one's is the least, or close).
    growth_errors: dict[str, float] = Field(default_factory=dict)
    # Where the measurement was abandoned (too slow), and the least it would have taken.
    stopped_at: int | None = None
    lower_bound_s: float | None = None


class LoadFigures(_Model):
    """One side's figures of a ``load`` case (the median round)."""

    requests: int = 0
    concurrency: int = 0
    duration_s: float = 0.0
    throughput_rps: float = 0.0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    errors: int = 0
    error_rate: float = 0.0
    peak_memory_mb: float | None = None


class PerfCase(_Model):
    """One performance case (a test of ``tests/perf/``): both sides' figures, the ratio."""

    id: str
    kind: Literal["bench", "load"] = "bench"
    # What was timed: "logagg.aggregate", "GET /kv/k1".
    target: str = ""
    outcome: Literal["measured", "failed", "error", "not_reported"] = "measured"
    message: str | None = None
    repetitions: int = 0
    candidate: PerfSeries | None = None
    reference: PerfSeries | None = None
    candidate_load: LoadFigures | None = None
    reference_load: LoadFigures | None = None
    # Candidate time / reference time: the median of the paired repetitions at the
    # largest size both sides were measured at (``ratio_at``); a lower bound when the
    # candidate was abandoned there.
    ratio: float | None = None
    ratio_at: int | None = None
    ratio_is_lower_bound: bool = False
    ratios: list[float] = Field(default_factory=list)
    # "equal", "off", "not data", "differs at n=…": the results compared after warm-up.
    check: str = ""
    score: float = 0.0
    elapsed_s: float = 0.0


class PerformanceSection(_Model):
    """The performance cases, measured against the reference in the same run."""

    cases: list[PerfCase] = Field(default_factory=list)
    full_at_ratio: float = 1.2
    zero_at_ratio: float = 5.0
    # False: nothing was measured, and ``reason`` says why.
    measured: bool = False
    reason: str | None = None
    run_s: float = 0.0
    limits_hit: list[LimitName] = Field(default_factory=list)


class Scores(_Model):
    correctness: float = 0.0
    style: float = 0.0
    complexity: float = 0.0
    docs: float = 0.0
    performance: float = 0.0
    total: float = 0.0


class Timings(_Model):
    queued_s: float = 0.0
    run_s: float = 0.0
    analysis_s: float = 0.0
    performance_s: float = 0.0
    total_s: float = 0.0


class RunInfo(_Model):
    """What the sandbox reported about the test run itself."""

    runner: str
    isolation: str
    exit_code: int | None = None
    stdout_tail: str = ""
    stderr_tail: str = ""
    candidate_stdout_tail: str = ""
    candidate_stderr_tail: str = ""
    peak_memory_mb: float | None = None
    # A compiled language's build output when the build failed (bounded).
    build_log: str = ""


class ServiceExit(_Model):
    """The service ended by itself (a restart the tests asked for is not one)."""

    code: int | None = None
    signal: str | None = None
    at_s: float | None = None


class ServiceSection(_Model):
    """A service challenge's run: how the candidate's service behaved (reviewers only)."""

    language: str
    port: int
    ready: bool = False
    # Seconds from the service's start to its first ready answer.
    ready_s: float | None = None
    ready_seconds: float = 30.0
    # Why it was not ready: service-not-ready, service-crashed, build-failed.
    cause: str | None = None
    message: str | None = None
    starts: int = 0
    restarts: int = 0
    exits: list[ServiceExit] = Field(default_factory=list)
    # The service's log (stdout and stderr; its first and last bytes when long).
    log: str = ""
    log_bytes: int = 0
    databases: list[str] = Field(default_factory=list)


class ColumnInfo(_Model):
    name: str
    type: str
    nullable: bool = True
    default: str | None = None


class ForeignKeyInfo(_Model):
    name: str | None = None
    columns: list[str] = Field(default_factory=list)
    references_table: str | None = None
    references_columns: list[str] = Field(default_factory=list)


class IndexInfo(_Model):
    name: str
    columns: list[str] = Field(default_factory=list)
    unique: bool = False
    primary: bool = False
    definition: str | None = None


class TableInfo(_Model):
    name: str
    columns: list[ColumnInfo] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    foreign_keys: list[ForeignKeyInfo] = Field(default_factory=list)
    unique: list[list[str]] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)
    indexes: list[IndexInfo] = Field(default_factory=list)


class SchemaInfo(_Model):
    """The schema a database held after the tests: tables, columns, keys, indexes."""

    engine: str
    tables: list[TableInfo] = Field(default_factory=list)
    truncated: bool = False
    problem: str | None = None


class DatabaseSection(_Model):
    """The database design the candidate's service left, beside the reference's."""

    schemas: list[SchemaInfo] = Field(default_factory=list)
    reference: list[SchemaInfo] | None = None


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    grader_version: str = __version__
    status: Literal["graded", "error"] = "graded"
    error: ErrorInfo | None = None
    challenge: ChallengeRef
    submission: SubmissionRef
    limits_hit: list[LimitName] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    tests: list[TestResult] = Field(default_factory=list)
    style: StyleSection = Field(default_factory=StyleSection)
    complexity: ComplexitySection = Field(default_factory=ComplexitySection)
    docs: DocsSection = Field(default_factory=DocsSection)
    scores: Scores = Field(default_factory=Scores)
    weights: dict[str, float] = Field(default_factory=dict)
    score_inputs: dict[str, Any] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    run: RunInfo | None = None
    sources: list[SourceFile] = Field(default_factory=list)
    # The submission's language (set for service challenges, graded in one of several).
    language: str | None = None
    service: ServiceSection | None = None
    database: DatabaseSection | None = None
    # Present when the challenge has performance cases (``tests/perf/``).
    performance: PerformanceSection | None = None

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


# --- size ----------------------------------------------------------------------------------
# A report stays readable (and its JSON under 1 MB) whatever the submission: lists are
# capped with their totals kept, texts are clipped. Scores are computed before this,
# from everything.
MAX_LISTED = 300
MAX_FILES_LISTED = 200
MAX_FLAGS = 50
MAX_FLAG_CHARS = 1000
MAX_SOURCE_CHARS = 256 * 1024
MAX_TEST_TEXT = 4000
MAX_TESTS_TEXT = 256 * 1024
MAX_TAIL = 16 * 1024
MAX_SERVICE_LOG = 32 * 1024
MAX_PERF_CASES = 50
MAX_PERF_SAMPLES = 40


def _clip(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n…[{len(text) - limit:,} characters cut]…\n{text[-half:]}"


def bound(report: Report) -> Report:
    """Cap the report's lists and texts (see MAX_*); mutates and returns ``report``."""
    st, cx, dc = report.style, report.complexity, report.docs
    st.findings_total = max(st.findings_total, len(st.findings))
    st.findings = st.findings[:MAX_LISTED]
    st.unanalysable = st.unanalysable[:MAX_FILES_LISTED]
    cx.functions_total = max(cx.functions_total, len(cx.functions))
    if len(cx.functions) > MAX_LISTED:
        worst = sorted(cx.functions, key=lambda f: (-f.complexity, f.file, f.line))[:MAX_LISTED]
        cx.functions = sorted(worst, key=lambda f: (f.file, f.line))
    cx.files = cx.files[:MAX_FILES_LISTED]
    cx.unanalysable = cx.unanalysable[:MAX_FILES_LISTED]
    if len(dc.items) > MAX_LISTED:
        dc.items = sorted(dc.items, key=lambda i: i.documented)[:MAX_LISTED]
    dc.unanalysable = dc.unanalysable[:MAX_FILES_LISTED]
    report.flags = [
        Flag(code=f.code[:100], message=_clip(f.message, MAX_FLAG_CHARS) or "")
        for f in report.flags[:MAX_FLAGS]
    ]
    budget = MAX_TESTS_TEXT
    for t in report.tests:
        # Failures first get room: a passing test's output matters least.
        limit = MAX_TEST_TEXT if budget > 0 else 300
        t.message = _clip(t.message, limit)
        t.output = _clip(t.output, limit if t.outcome != "passed" else min(limit, 1000))
        budget -= len(t.message or "") + len(t.output or "")
    if report.run is not None:
        run = report.run
        for name in (
            "stdout_tail",
            "stderr_tail",
            "candidate_stdout_tail",
            "candidate_stderr_tail",
        ):
            text = getattr(run, name)
            if len(text) > MAX_TAIL:
                setattr(run, name, "…" + text[-MAX_TAIL:])
    if report.service is not None:
        report.service.log = _clip(report.service.log, MAX_SERVICE_LOG) or ""
        report.service.message = _clip(report.service.message, MAX_FLAG_CHARS)
        report.service.exits = report.service.exits[-MAX_FLAGS:]
    if report.performance is not None:
        perf = report.performance
        perf.cases = perf.cases[:MAX_PERF_CASES]
        for case in perf.cases:
            case.message = _clip(case.message, MAX_TEST_TEXT)
            case.ratios = case.ratios[:MAX_PERF_SAMPLES]
            for series in (case.candidate, case.reference):
                if series is not None:
                    series.samples_s = [s[:MAX_PERF_SAMPLES] for s in series.samples_s]
    left = MAX_SOURCE_CHARS
    for src in report.sources:
        if len(src.text) > left:
            shown = src.text[: max(left, 0)]
            if "\n" in shown:
                shown = shown[: shown.rindex("\n") + 1]
            note = f"cut to {len(shown):,} of {len(src.text):,} characters for the report"
            src.note = f"{src.note}; {note}" if src.note else note
            src.text, src.truncated = shown, True
        left -= len(src.text)
    return report
