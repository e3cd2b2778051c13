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
from dataclasses import dataclass, field
from pathlib import Path

from grader import scoring, tamper
from grader.analysis import analyse
from grader.challenge import Challenge
from grader.errors import ChallengeError
from grader.junit import CaseResult, parse_junit
from grader.report import (
    ChallengeRef,
    ComplexitySection,
    Flag,
    Report,
    RunInfo,
    SubmissionRef,
    TestResult,
    Timings,
    bound,
)
from grader.submission import Submission
from runners.base import Job, RunLimits, Runner, RunResult
from runners.docker import HARNESS_DIR, HARNESS_FILES, HARNESS_MODULES, shadowing_modules

Progress = Callable[[str], None]


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


def run_limits(challenge: Challenge) -> RunLimits:
    lim = challenge.config.limits
    return RunLimits(
        wall_seconds=lim.wall_seconds,
        test_seconds=lim.test_seconds,
        memory_mb=lim.memory_mb,
        cpus=lim.cpus,
        pids=lim.pids,
        output_kb=lim.output_kb,
        disk_mb=lim.disk_mb,
    )


def challenge_hash(challenge: Challenge) -> str:
    """A hash of what decides the expected tests: config, tests, reference, harness."""
    h = hashlib.sha256()
    paths = [challenge.root / "challenge.toml"]
    for sub in ("tests", "solution"):
        paths += sorted(
            p
            for p in (challenge.root / sub).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
    paths += [HARNESS_DIR / name for name in HARNESS_FILES]
    for p in paths:
        if p.is_file():
            h.update(str(p.relative_to(p.parents[1])).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


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
            return ExpectedTests(
                data["ids"], set(data["author_skipped"]), dict(data.get("reference_outcomes", {}))
            )
        except (ValueError, KeyError, TypeError):
            pass
    progress(f"collecting the tests of {challenge.slug} against its reference")
    job = Job(
        language=challenge.config.language,
        submission_dir=challenge.solution_dir,
        tests_root=challenge.root,
        test_files=tuple(challenge.test_files()),
        limits=run_limits(challenge),
        isolation=challenge.config.isolation.value,
        mode="run",
        label=f"ref-{challenge.slug[:24]}-{secrets.token_hex(4)}",
    )
    result = runner.run(job)
    if not result.collected:
        detail = (result.stdout_tail or result.stderr_tail).strip().splitlines()[-3:]
        raise ChallengeError(
            f"{challenge.root}: collecting the tests against solution/ found no tests"
            + (f" ({' / '.join(detail)})" if detail else "")
        )
    try:
        cases, file_errors = parse_junit(result.junit_xml or b"", challenge.test_files())
    except Exception:  # noqa: BLE001 - no or broken XML: every outcome is unknown
        cases, file_errors = {}, {}
    if file_errors:
        file, msg = next(iter(file_errors.items()))
        raise ChallengeError(f"{challenge.root / file}: cannot be collected: {msg[-300:]}")
    outcomes = {i: (cases[i].outcome if i in cases else "not_reported") for i in result.collected}
    expected = ExpectedTests(
        ids=list(result.collected),
        author_skipped={i for i, o in outcomes.items() if o == "skipped"},
        reference_outcomes=outcomes,
    )
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "ids": expected.ids,
                "author_skipped": sorted(expected.author_skipped),
                "reference_outcomes": outcomes,
            }
        )
    )
    tmp.replace(cached)
    return expected


def per_test_timeouts(result: RunResult, files: list[str]) -> list[str]:
    """Ids of the tests the per-test time limit stopped (recorded by the harness)."""
    if not result.junit_xml:
        return []
    try:
        cases, _ = parse_junit(result.junit_xml, files)
    except Exception:  # noqa: BLE001 - malformed XML from a sandbox is data
        return []
    return sorted(
        i for i, c in cases.items() if "test_seconds" in c.property_values("grader_limit")
    )


def test_results(
    challenge: Challenge, expected: ExpectedTests, result: RunResult
) -> list[TestResult]:
    """One entry per expected test, whatever the XML said (or failed to say)."""
    files = challenge.test_files()
    cases: dict[str, CaseResult] = {}
    file_errors: dict[str, str] = {}
    xml_problem = None
    if result.junit_xml:
        try:
            cases, file_errors = parse_junit(result.junit_xml, files)
        except Exception as exc:  # noqa: BLE001 - malformed XML from a sandbox is data
            xml_problem = f"the test report could not be read ({exc.__class__.__name__})"
    out: list[TestResult] = []
    for test_id in expected.ids:
        vis = challenge.visibility(test_id)
        weight = challenge.weight(test_id)
        counted = test_id not in expected.author_skipped
        case = cases.get(test_id)
        if case is not None:
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
                )
            )
            continue
        file = test_id.split("::", 1)[0]
        if file in file_errors:
            out.append(
                TestResult(
                    id=test_id,
                    visibility=vis,
                    weight=weight,
                    outcome="error",
                    message=f"collection error: {file_errors[file]}",
                    counted=counted,
                )
            )
            continue
        reason = "not reported"
        hit = result.limits_hit
        if hit:
            reason += f" (the run hit a limit: {', '.join(hit)})"
        elif xml_problem:
            reason += f" ({xml_problem})"
        elif result.exit_code not in (0, 1):
            reason += f" (the test run ended with exit code {result.exit_code})"
        out.append(
            TestResult(
                id=test_id,
                visibility=vis,
                weight=weight,
                outcome="not_reported",
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
) -> Report:
    """Grade one submission: run the tests in the sandbox, analyse, score, report.

    A candidate's crash, timeout or OOM is a graded result; only our own
    infrastructure failures raise (``SandboxError``).
    """
    t0 = time.monotonic()
    # Both caches below are keyed by the challenge's content: hash its files once.
    content = challenge_hash(challenge) if expected is None or reference is None else None
    if expected is None:
        expected = expected_tests(
            challenge, runner, cache_dir=cache_dir, progress=progress, content_hash=content
        )
    cfg = challenge.config
    job = Job(
        language=cfg.language,
        submission_dir=submission.root,
        tests_root=challenge.root,
        test_files=tuple(challenge.test_files()),
        limits=run_limits(challenge),
        isolation=cfg.isolation.value,
        mode="run",
        # Only a caller that retries the same job (the service) passes a fixed label, so a
        # retry removes containers of an earlier attempt; otherwise runs never collide.
        label=label or f"run-{submission.sha256[:12]}-{secrets.token_hex(4)}",
    )
    progress(f"running {len(expected.ids)} tests ({cfg.isolation.value} isolation)")
    t_run = time.monotonic()
    result = runner.run(job)
    run_s = time.monotonic() - t_run
    tests = test_results(challenge, expected, result)
    stopped = per_test_timeouts(result, challenge.test_files())
    limits_hit = list(result.limits_hit)
    if stopped and "timeout" not in limits_hit:
        limits_hit.insert(0, "timeout")

    progress("analysing style, complexity and docs")
    t_an = time.monotonic()
    analysis = analyse(submission.root, submission.files, cfg.style, cfg.complexity)
    analysis_s = time.monotonic() - t_an
    if reference is None:
        reference = reference_complexity(challenge, cache_dir=cache_dir, content_hash=content)

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
        ),
    )
    report.flags = _flags(challenge, submission, result, report, stopped)
    scoring.apply_scores(report, cfg, reference)
    bound(report)
    report.timings = Timings(
        queued_s=round(queued_s, 3),
        run_s=round(run_s, 3),
        analysis_s=round(analysis_s, 3),
        total_s=round(time.monotonic() - t0 + queued_s, 3),
    )
    return report


def _flags(
    challenge: Challenge,
    submission: Submission,
    result: RunResult,
    report: Report,
    stopped: list[str],
) -> list[Flag]:
    flags: list[Flag] = []
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
        code = ev.get("code", "event")
        # The runner's own tamper evidence (a forged JUnit XML) keeps its code.
        code = code if code in ("tamper-suspect", "results-missing") else f"run-{code}"
        flags.append(Flag(code=code, message=ev.get("message", "")))
    shadowing = shadowing_modules(submission.root)
    if shadowing:
        harness = [m for m in shadowing if m in HARNESS_MODULES]
        flags.append(
            Flag(
                code="tamper-suspect" if harness else "shadowed-modules",
                message="modules named like the standard library, pytest or the harness are "
                f"never what the tests import: {', '.join(shadowing[:8])}",
            )
        )
    flags += tamper.static_flags(submission.root, submission.files)
    flags += tamper.run_flags(report.tests, result)
    return flags


def reference_complexity(
    challenge: Challenge, *, cache_dir: Path | None = None, content_hash: str | None = None
) -> ComplexitySection | None:
    """The reference solution's complexity figures, to show beside a submission's."""
    files = tuple(
        sorted(
            p.relative_to(challenge.solution_dir).as_posix()
            for p in challenge.solution_dir.rglob("*.py")
        )
    )
    if not files:
        return None
    cache = (cache_dir or default_cache_dir()) / "reference"
    cached = cache / f"{challenge.slug}-{content_hash or challenge_hash(challenge)}.json"
    if cached.is_file():
        try:
            return ComplexitySection.model_validate_json(cached.read_text())
        except ValueError:
            pass
    cfg = challenge.config
    section = analyse(challenge.solution_dir, files, cfg.style, cfg.complexity).complexity
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(section.model_dump_json())
    tmp.replace(cached)
    return section
