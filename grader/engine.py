"""The grading pipeline: ``grade(challenge, submission, runner) -> Report``.

The CLI, the Celery task and the tests all call this one function.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from grader import performance, scoring, service, tamper
from grader.challenge import Challenge
from grader.errors import ChallengeError
from grader.junit import CaseResult
from grader.languages import Results
from grader.report import (
    ChallengeRef,
    ComplexitySection,
    Flag,
    PerformanceSection,
    Portability,
    Report,
    RunInfo,
    SchemaInfo,
    SubmissionRef,
    TestResult,
    Timings,
    bound,
)
from grader.submission import Submission
from runners.base import Runner, RunResult
from runners.harness import grader_contract as C
from runners.images import content_hash as image_hash
from runners.sandbox_io import harness_files

Progress = Callable[[str], None]
T = TypeVar("T")
# Bumped when what the caches hold (expected tests, reference complexity) changes shape.
CACHE_FORMAT = 2


def _quiet(_: str) -> None:
    return None


def default_cache_dir() -> Path:
    return Path(os.environ.get("GRADER_CACHE_DIR", Path.home() / ".cache" / "grader"))


@dataclass
class ExpectedTests:
    """Every test the challenge defines, known before any submission runs."""

    ids: list[str]
    author_skipped: set[str] = field(default_factory=set)
    reference_outcomes: dict[str, str] = field(default_factory=dict)
    # A service challenge: the schema the reference's service left (one per SQL database).
    reference_schemas: list[SchemaInfo] | None = None


def challenge_hash(challenge: Challenge) -> str:
    """A hash of what decides the expected tests: config, tests, reference, harness, image."""
    h = hashlib.sha256()
    paths = [challenge.root / "challenge.toml"]
    for sub in ("tests", "solution"):
        paths += sorted(
            p
            for p in (challenge.root / sub).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
    paths += harness_files()
    for p in paths:
        if p.is_file():
            h.update(str(p.relative_to(p.parents[1])).encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(image_hash(challenge.language.image).encode())
    if challenge.is_service:
        # Each language's reference gives its own expected results and schema.
        h.update(f"service:{challenge.language.name}".encode())
        h.update(image_hash(challenge.tests_language.image).encode())
        for name in challenge.config.databases.names():
            h.update(image_hash(service.ENGINES[name].image).encode())
        db_dir = challenge.root / "db"
        for p in sorted(db_dir.rglob("*")) if db_dir.is_dir() else []:
            if p.is_file():
                h.update(p.read_bytes())
    h.update(f"cache-format-{CACHE_FORMAT}".encode())
    return h.hexdigest()[:16]


def _submission_files(challenge: Challenge, files: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f for f in files if not challenge.ignores(f))


def _run(
    challenge: Challenge, root: Path, files: tuple[str, ...], runner: Runner, label: str
) -> tuple[RunResult, Results]:
    """Run the challenge's tests against the code in ``root``; the checked results."""
    lang = challenge.language
    token = lang.new_token()
    kept = _submission_files(challenge, files)
    if challenge.is_service:
        job = service.job(challenge, root, kept, token=token, label=label)
    else:
        job = lang.job(challenge, root, kept, token=token, label=label)
    result = runner.run(job)
    return result, challenge.tests_language.read_results(result, token, challenge.test_files())


def expected_tests(
    challenge: Challenge,
    runner: Runner,
    *,
    cache_dir: Path | None = None,
    progress: Progress = _quiet,
    content_hash: str | None = None,
) -> ExpectedTests:
    """Collect the challenge's tests by running them against the reference solution.

    Cached per challenge content (``content_hash``, computed when not given), so it
    runs once per change of the challenge.
    """
    cache = (cache_dir or default_cache_dir()) / "expected"
    key = f"{challenge.slug}-{content_hash or challenge_hash(challenge)}.json"
    cached = cache / key
    if cached.is_file():
        try:
            data = json.loads(cached.read_text())
            kept = data.get("reference_schemas")
            return ExpectedTests(
                data["ids"],
                set(data["author_skipped"]),
                dict(data.get("reference_outcomes", {})),
                [SchemaInfo.model_validate(x) for x in kept] if kept is not None else None,
            )
        except (ValueError, KeyError, TypeError):
            pass
    progress(f"collecting the tests of {challenge.slug} against its reference")
    files = tuple(
        p.relative_to(challenge.solution_dir).as_posix()
        for p in sorted(challenge.solution_dir.rglob("*"))
        if p.is_file()
    )
    label = f"ref-{challenge.slug[:24]}-{secrets.token_hex(4)}"
    result, res = _run(challenge, challenge.solution_dir, files, runner, label)
    where = f"{challenge.root}: running the tests against solution/"
    if result.build_failed or res.build_failed:
        log = result.build_log or res.build_log
        raise ChallengeError(f"{where}: the reference does not build: {_last(log)}")
    if res.problem is not None:
        raise ChallengeError(f"{where}: {res.problem}")
    schemas: list[SchemaInfo] | None = None
    if challenge.is_service:
        lang = challenge.solution_dir.name
        where = f"{challenge.root}: running the tests against {lang}'s reference"
        sec, _ = service.section(challenge, result)
        if not sec.ready:
            raise ChallengeError(
                f"{where}: the reference service was not ready ({sec.cause}: {sec.message}); "
                f"its log ends: {_last(sec.log, 5)}"
            )
        schemas = service.schemas(result)
    if res.file_errors:
        file, msg = next(iter(res.file_errors.items()))
        raise ChallengeError(f"{challenge.root / file}: cannot be collected: {msg[-300:]}")
    # Python's runner lists what it collected; other runners' reports list every test
    # (in the order of the test files: public ones first).
    order = {f: i for i, f in enumerate(challenge.test_files())}
    reported = sorted(res.cases, key=lambda i: order.get(i.split("::", 1)[0], len(order)))
    collected = result.collected if result.collected is not None else reported
    if not collected:
        detail = _last(result.stdout_tail or result.stderr_tail)
        raise ChallengeError(f"{where} found no tests" + (f" ({detail})" if detail else ""))
    cases = res.cases
    outcomes = {i: (cases[i].outcome if i in cases else "not_reported") for i in collected}
    expected = ExpectedTests(
        ids=list(collected),
        author_skipped={i for i, o in outcomes.items() if o == "skipped"},
        reference_outcomes=outcomes,
        reference_schemas=schemas,
    )
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "ids": expected.ids,
                "author_skipped": sorted(expected.author_skipped),
                "reference_outcomes": outcomes,
                "reference_schemas": [x.model_dump() for x in schemas]
                if schemas is not None
                else None,
            }
        )
    )
    tmp.replace(cached)
    return expected


def per_test_timeouts(res: Results) -> list[str]:
    """Ids of the tests the per-test time limit stopped (recorded by the harness)."""
    return sorted(
        i for i, c in res.cases.items() if C.PER_TEST_LIMIT in c.property_values(C.LIMIT_PROPERTY)
    )


def _portability(case: CaseResult) -> list[Portability]:
    """The harness's notes on why a test cannot run under process isolation."""
    notes: list[Portability] = []
    for raw in case.property_values(C.PORTABILITY_PROPERTY):
        try:
            data = json.loads(raw)
            note = Portability(cause=str(data["cause"])[:500], fix=str(data["fix"])[:500])
        except (ValueError, KeyError, TypeError):
            continue
        if note not in notes:
            notes.append(note)
    return notes[:5]


def _timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    started = time.monotonic()
    return fn(*args), time.monotonic() - started


def _last(text: str, lines: int = 3) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])


def test_results(
    challenge: Challenge, expected: ExpectedTests, result: RunResult, res: Results
) -> list[TestResult]:
    """One entry per expected test, whatever the results said (or failed to say)."""
    out: list[TestResult] = []
    for test_id in expected.ids:
        vis = challenge.visibility(test_id)
        weight = challenge.weight(test_id)
        counted = test_id not in expected.author_skipped
        case = res.cases.get(test_id)
        if case is not None:
            # (The harness also put the notes into the failure text reviewers read.)
            notes = _portability(case) if case.outcome in ("failed", "error") else []
            out.append(
                TestResult(
                    id=test_id,
                    visibility=vis,
                    weight=weight,
                    outcome=case.outcome,  # type: ignore[arg-type]
                    duration_s=round(case.duration_s, 4),
                    message=case.message,
                    output=case.output,
                    counted=counted,
                    portability=notes,
                )
            )
            continue
        file = test_id.split("::", 1)[0]
        if result.build_failed or res.build_failed:
            outcome, reason = (
                "error",
                "the submission does not build (the build log is in the report)",
            )
        elif file in res.file_errors:
            outcome, reason = "error", f"collection error: {res.file_errors[file]}"
        elif test_id == res.in_progress:
            outcome, reason = "failed", "the test process ended during this test"
        else:
            outcome, reason = "not_reported", "not reported"
            hit = result.limits_hit
            if hit:
                reason += f" (the run hit a limit: {', '.join(hit)})"
            elif res.problem:
                reason += f" ({res.problem})"
            elif result.exit_code not in (0, 1):
                reason += f" (the test run ended with exit code {result.exit_code})"
        out.append(
            TestResult(
                id=test_id,
                visibility=vis,
                weight=weight,
                outcome=outcome,  # type: ignore[arg-type]
                message=reason,
                counted=counted,
            )
        )
    return out


def grade(
    challenge: Challenge,
    submission: Submission,
    runner: Runner,
    *,
    submission_id: str | None = None,
    expected: ExpectedTests | None = None,
    reference: ComplexitySection | None = None,
    progress: Progress = _quiet,
    queued_s: float = 0.0,
    cache_dir: Path | None = None,
    label: str | None = None,
    performance: bool = True,
) -> Report:
    """Grade one submission: run the tests in the sandbox, analyse, score, report.

    A candidate's crash, timeout or OOM is a graded result; only our own
    infrastructure failures raise (``SandboxError``). ``performance=False`` skips the
    performance run (the report then has no performance section).
    """
    t0 = time.monotonic()
    if challenge.is_service and challenge.chosen is None:
        challenge = challenge.for_language(service.detect_language(challenge, submission.files))
    # Both caches below are keyed by the challenge's content: hash its files once.
    content = challenge_hash(challenge) if expected is None or reference is None else None
    if expected is None:
        expected = expected_tests(
            challenge, runner, cache_dir=cache_dir, progress=progress, content_hash=content
        )
    cfg = challenge.config
    lang = challenge.language
    # Only a caller that retries the same job (the service) passes a fixed label, so a
    # retry removes containers of an earlier attempt; otherwise runs never collide.
    label = label or f"run-{submission.sha256[:12]}-{secrets.token_hex(4)}"
    progress(f"running {len(expected.ids)} tests ({challenge.isolation} isolation)")
    t_run = time.monotonic()
    # Static analysis and the static tamper scan need nothing of the run: they go on (in
    # their own limited subprocesses) while the sandbox runs.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analysis") as pool:
        analysing = pool.submit(
            _timed, lang.analyse, challenge, submission.root, submission.files, runner
        )
        scanning = pool.submit(lang.static_flags, submission.root, submission.files)
        result, res = _run(challenge, submission.root, submission.files, runner, label)
        run_s = time.monotonic() - t_run
        progress("analysing style, complexity and docs")
        static, analysis_s = analysing.result()
        static_flags = scanning.result()
    tests = test_results(challenge, expected, result, res)
    stopped = per_test_timeouts(res)
    limits_hit = list(result.limits_hit)
    if stopped and "timeout" not in limits_hit:
        limits_hit.insert(0, "timeout")

    analysis = lang.with_run(challenge, static, result)
    if reference is None:
        reference = reference_complexity(
            challenge, runner, cache_dir=cache_dir, content_hash=content
        )

    report = Report(
        challenge=ChallengeRef(slug=challenge.slug, version=cfg.version),
        submission=SubmissionRef(
            id=submission_id or submission.sha256[:16], sha256=submission.sha256
        ),
        limits_hit=limits_hit,  # type: ignore[arg-type]
        tests=tests,
        style=analysis.style,
        complexity=analysis.complexity,
        docs=analysis.docs,
        sources=analysis.sources,
        run=RunInfo(
            runner=result.runner,
            isolation=result.isolation,
            exit_code=result.exit_code,
            stdout_tail=result.stdout_tail,
            stderr_tail=result.stderr_tail,
            candidate_stdout_tail=result.candidate_stdout_tail,
            candidate_stderr_tail=result.candidate_stderr_tail,
            peak_memory_mb=result.peak_memory_mb,
            build_log=result.build_log or res.build_log,
        ),
    )
    report.flags = _flags(
        challenge, submission, result, res, report, stopped, analysis.flags + static_flags
    )
    if challenge.is_service:
        report.language = challenge.language.name
        report.service, service_flags = service.section(challenge, result)
        report.flags = service_flags + report.flags
        report.database = service.database_section(result, expected.reference_schemas)
    perf_s = 0.0
    if performance and challenge.perf_files():
        t_perf = time.monotonic()
        report.performance, perf_flags = _performance(
            challenge, submission, runner, report, label, progress
        )
        report.flags += perf_flags
        perf_s = time.monotonic() - t_perf
    scoring.apply_scores(report, cfg, reference)
    bound(report)
    report.timings = Timings(
        queued_s=round(queued_s, 3),
        run_s=round(run_s, 3),
        analysis_s=round(analysis_s, 3),
        performance_s=round(perf_s, 3),
        total_s=round(time.monotonic() - t0 + queued_s, 3),
    )
    return report


def _performance(
    challenge: Challenge,
    submission: Submission,
    runner: Runner,
    report: Report,
    label: str,
    progress: Progress,
) -> tuple[PerformanceSection, list[Flag]]:
    """The performance cases, measured in their own run after the correctness run (so
    no test ever runs while a reference solution is reachable), when a test passes."""
    cfg = challenge.config.performance
    gate = scoring.quality_gate(report)
    if gate is not None:
        section = PerformanceSection(
            full_at_ratio=cfg.full_at_ratio,
            zero_at_ratio=cfg.zero_at_ratio,
            reason=f"not measured: {gate.split(':', 1)[0]}",
        )
        return section, []
    return performance.run_performance(
        challenge, submission, runner, label=label, progress=progress
    )


def _flags(
    challenge: Challenge,
    submission: Submission,
    result: RunResult,
    res: Results,
    report: Report,
    stopped: list[str],
    static_flags: list[Flag],
) -> list[Flag]:
    flags: list[Flag] = []
    if result.build_failed or res.build_failed:
        log = result.build_log or res.build_log
        flags.append(
            Flag(
                code="build-failed",
                message="the submission does not build: every test is an error "
                f"({_last(log, 1) or 'see the build log'})",
            )
        )
    if stopped:
        shown = ", ".join(stopped[:10]) + (
            f" and {len(stopped) - 10} more" if len(stopped) > 10 else ""
        )
        seconds = f"{challenge.config.limits.test_seconds:g}"
        flags.append(
            Flag(
                code="limit-hit",
                message=f"the per-test time limit ({seconds} s) stopped "
                f"{len(stopped)} test{'s' if len(stopped) != 1 else ''}: {shown}",
            )
        )
    for limit in result.limits_hit:
        if limit == "output":
            flags.append(
                Flag(
                    code="output-truncated",
                    message=f"output exceeded {challenge.config.limits.output_kb} KiB "
                    "and was truncated",
                )
            )
        else:
            flags.append(Flag(code="limit-hit", message=f"the run hit the {limit} limit"))
    entry = challenge.config.entrypoint
    if entry and entry not in submission.files:
        flags.append(Flag(code="missing-entrypoint", message=f"the submission has no {entry}"))
    if submission.ignored:
        shown = ", ".join(submission.ignored[:5])
        flags.append(
            Flag(
                code="ignored-files",
                message=f"files not used (test-run configuration or OS metadata): {shown}",
            )
        )
    for ev in result.events:
        flags.append(Flag(code=f"run-{ev.get('code', 'event')}", message=ev.get("message", "")))
    if res.problem is not None:
        code = "tamper-suspect" if res.tampered else "results-missing"
        flags.append(Flag(code=code, message=res.problem))
    for test_id, case in res.cases.items():
        for what in case.property_values(C.TAMPER_PROPERTY):
            flags.append(Flag(code="tamper-suspect", message=f"{test_id}: {what}"))
    # The analysis's flags, then the static tamper scan's (both made beside the run).
    flags += static_flags
    flags += tamper.run_flags(report.tests, result)
    return flags


def reference_complexity(
    challenge: Challenge,
    runner: Runner,
    *,
    cache_dir: Path | None = None,
    content_hash: str | None = None,
) -> ComplexitySection | None:
    """The reference solution's complexity figures, to show beside a submission's."""
    lang = challenge.language
    if not any(lang.is_source(p.name) for p in challenge.solution_dir.rglob("*")):
        return None
    cache = (cache_dir or default_cache_dir()) / "reference"
    cached = cache / f"{challenge.slug}-{content_hash or challenge_hash(challenge)}.json"
    if cached.is_file():
        try:
            return ComplexitySection.model_validate_json(cached.read_text())
        except ValueError:
            pass
    section = lang.reference_complexity(challenge, runner)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(section.model_dump_json())
    tmp.replace(cached)
    return section
