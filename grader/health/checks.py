"""The four health checks (see ``grader.health``) and the parallel grading under them."""

from __future__ import annotations

import dataclasses
import math
import random
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.challenge import Challenge
from grader.engine import ExpectedTests, Progress, expected_tests, grade, reference_complexity
from grader.errors import ChallengeError, SandboxError
from grader.health import record
from grader.health.model import (
    FlakinessCheck,
    FlakyTest,
    HealthChecks,
    KnownBad,
    KnownBadCheck,
    Margin,
    MutantResult,
    MutantStatus,
    MutationCheck,
    TimeMarginCheck,
    Verdict,
)
from grader.mutation import OPERATORS, Mutant, mutants_of_folder
from grader.report import ComplexitySection, Report
from grader.submission import open_submission
from runners.base import Runner

T = TypeVar("T")
R = TypeVar("R")
EXPECT_NAME = "expect.toml"
KILLED = ("killed", "timeout")


def _quiet(_: str) -> None:
    return None


@dataclass
class Context:
    """What the checks run with. ``jobs`` gradings run at once (each within the
    challenge's own limits: memory, CPUs, pids)."""

    challenge: Challenge
    runner: Runner
    jobs: int = 2
    cache_dir: Path | None = None
    progress: Progress = _quiet
    # Grade every mutant even when a record or the cache holds current results.
    recompute: bool = False
    # After computing the mutation results, write challenges/<slug>/health.json.
    write_record: bool = True
    # With a record: how many killed mutants are graded again (besides every survivor).
    recheck_killed: int = 3


@dataclass
class Shared:
    """What every grading of one health check reuses: the tests, the reference's figures."""

    expected: ExpectedTests
    reference: ComplexitySection | None


def check(ctx: Context, *, reference_passes: bool = True) -> HealthChecks:
    """Run the four checks. When the reference does not pass its own tests, only the
    runs of the reference (flakiness, time margins): they tell a flaky test from a
    broken one; mutants and known-bad submissions would tell nothing."""
    ch = ctx.challenge
    shared = Shared(
        expected=expected_tests(ch, ctx.runner, cache_dir=ctx.cache_dir, progress=ctx.progress),
        reference=reference_complexity(ch, ctx.runner, cache_dir=ctx.cache_dir),
    )
    bad = load_known_bad(ch) if reference_passes else []
    runs = ch.config.health.flaky_runs
    items: list[tuple[str, Path]] = [("ref", ch.solution_dir)] * runs
    items += [(name, path) for name, path, _ in bad]
    reports = _parallel(
        ctx,
        lambda item: grade_folder(ctx, ch, item[1], shared, skip_expect=item[0] != "ref"),
        items,
        f"{ch.slug}: reference ×{runs}" + (f" and {len(bad)} known-bad" if bad else ""),
    )
    ref_reports, bad_reports = reports[:runs], reports[runs:]
    flaky = flakiness(ref_reports)
    margins = time_margins(ch, ref_reports)
    if not reference_passes:
        why = "skipped: the reference does not pass its own tests"
        return HealthChecks(
            flakiness=flaky,
            time_margins=margins,
            known_bad=KnownBadCheck(
                verdict="skipped", message=why, min_count=ch.config.health.min_known_bad
            ),
            mutation=MutationCheck(
                verdict="skipped",
                message=why,
                min_score=ch.config.health.min_mutation_score,
                source="none",
            ),
        )
    return HealthChecks(
        flakiness=flaky,
        time_margins=margins,
        known_bad=known_bad(ch, bad, bad_reports),
        mutation=mutation(ctx, shared, ref_reports, {f.id for f in flaky.flaky}),
    )


# -- grading ------------------------------------------------------------------------------


def _parallel(ctx: Context, fn: Callable[[T], R], items: list[T], what: str) -> list[R]:
    """``fn`` over ``items``, ``ctx.jobs`` at a time, results in the items' order."""
    out: list[Any] = [None] * len(items)
    if not items:
        return out
    pool = ThreadPoolExecutor(max_workers=max(1, ctx.jobs), thread_name_prefix="health")
    try:
        futures: dict[Future[R], int] = {pool.submit(fn, it): i for i, it in enumerate(items)}
        for done, fut in enumerate(as_completed(futures), 1):
            out[futures[fut]] = fut.result()
            ctx.progress(f"{what}: {done}/{len(items)} graded")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return out


def grade_folder(
    ctx: Context,
    challenge: Challenge,
    folder: Path,
    shared: Shared,
    *,
    skip_expect: bool = False,
) -> Report:
    """Grade the code in ``folder`` as a submission (one retry on a sandbox error)."""
    lang = challenge.language

    def ignore(rel: str) -> bool:
        return lang.ignores(rel) or (skip_expect and rel == EXPECT_NAME)

    for attempt in (1, 2):
        with tempfile.TemporaryDirectory(prefix="grader-health-") as tmp:
            try:
                sub = open_submission(folder, tmp, ignore=ignore)
                return grade(
                    challenge,
                    sub,
                    ctx.runner,
                    expected=shared.expected,
                    reference=shared.reference,
                    cache_dir=ctx.cache_dir,
                )
            except SandboxError:
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


def _failing(report: Report) -> list[str]:
    return [t.id for t in report.tests if t.counted and t.outcome != "passed"]


# -- flakiness and time margins ---------------------------------------------------------


def flakiness(reports: list[Report]) -> FlakinessCheck:
    """Tests whose outcome is not the same in every run of the reference."""
    outcomes: dict[str, list[str]] = {}
    for r in reports:
        for t in r.tests:
            outcomes.setdefault(t.id, []).append(t.outcome)
    flaky = [FlakyTest(id=i, outcomes=o) for i, o in outcomes.items() if len(set(o)) > 1]
    n = len(reports)
    if flaky:
        msg = f"{len(flaky)} test{'s' if len(flaky) != 1 else ''} changed outcome over {n} runs"
        return FlakinessCheck(verdict="fail", message=msg, runs=n, flaky=flaky)
    return FlakinessCheck(
        verdict="pass", message=f"{n} runs of the reference, no test changed outcome", runs=n
    )


def _margin(what: str, seconds: float, limit: float) -> Margin:
    margin = round(limit / seconds, 1) if seconds > 0 else None
    return Margin(what=what, seconds=round(seconds, 3), limit=limit, margin=margin)


def time_margins(ch: Challenge, reports: list[Report]) -> TimeMarginCheck:
    """The slowest test (over every run) against ``test_seconds``, the slowest run
    against ``wall_seconds``: fail at the limit, warn below ``min_time_margin``."""
    lim = ch.config.limits
    want = ch.config.health.min_time_margin
    slowest_id, slowest = None, 0.0
    for r in reports:
        for t in r.tests:
            if t.duration_s >= slowest:
                slowest_id, slowest = t.id, t.duration_s
    run_s = max((r.timings.run_s for r in reports), default=0.0)
    test = _margin("slowest test", slowest, lim.test_seconds)
    run = _margin("whole run", run_s, lim.wall_seconds)
    hit = sorted({h for r in reports for h in r.limits_hit})
    margins = [m.margin for m in (test, run) if m.margin is not None]
    low = min(margins) if margins else math.inf
    verdict: Verdict = "pass"
    if hit or low < 1:
        verdict = "fail"
    elif low < want:
        verdict = "warn"
    parts = [
        f"slowest test {test.seconds:g} s of {lim.test_seconds:g} s"
        + (f" ({test.margin:g}×)" if test.margin is not None else ""),
        f"run {run.seconds:g} s of {lim.wall_seconds:g} s"
        + (f" ({run.margin:g}×)" if run.margin is not None else ""),
    ]
    if hit:
        parts.append(f"the reference hit a limit: {', '.join(hit)}")
    elif verdict == "warn":
        parts.append(f"below the {want:g}× margin")
    return TimeMarginCheck(
        verdict=verdict,
        message="; ".join(parts),
        min_margin=want,
        slowest_test=slowest_id,
        test=test,
        run=run,
    )


# -- known-bad submissions --------------------------------------------------------------


class Expect(BaseModel):
    """A known-bad submission's ``expect.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_correctness: Annotated[float, Field(ge=0, le=100)]
    # The mistake it stands for, for the report.
    description: str = ""


def _parse_expect(path: Path) -> Expect:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ChallengeError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ChallengeError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Expect.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {msg}")
        raise ChallengeError(f"{path}: " + "; ".join(problems)) from None


def load_known_bad(ch: Challenge) -> list[tuple[str, Path, Expect]]:
    """Each ``bad/<name>/`` folder with its parsed ``expect.toml``, by name."""
    if not ch.bad_dir.is_dir():
        return []
    out: list[tuple[str, Path, Expect]] = []
    for folder in sorted(ch.bad_dir.iterdir()):
        if not folder.is_dir():
            raise ChallengeError(
                f"{folder}: bad/ holds one folder per known-bad submission, not files"
            )
        expect = folder / EXPECT_NAME
        if not expect.is_file():
            raise ChallengeError(
                f"{expect}: missing (a known-bad submission says the highest correctness "
                "it may reach: max_correctness = 40)"
            )
        out.append((folder.name, folder, _parse_expect(expect)))
    return out


def known_bad(
    ch: Challenge, bad: list[tuple[str, Path, Expect]], reports: list[Report]
) -> KnownBadCheck:
    """Every known-bad submission at or under its ``max_correctness``; enough of them."""
    need = ch.config.health.min_known_bad
    subs = [
        KnownBad(
            name=name,
            description=exp.description,
            correctness=rep.scores.correctness,
            max_correctness=exp.max_correctness,
            verdict="pass" if rep.scores.correctness <= exp.max_correctness else "fail",
        )
        for (name, _, exp), rep in zip(bad, reports, strict=True)
    ]
    over = [s for s in subs if s.verdict == "fail"]
    if over:
        shown = ", ".join(f"{s.name} {s.correctness:g} > {s.max_correctness:g}" for s in over)
        verdict: Verdict = "fail"
        msg = f"scored above their max_correctness: {shown}"
    elif len(subs) < need:
        verdict = "fail"
        msg = (
            f"{len(subs)} known-bad submission{'s' if len(subs) != 1 else ''} under bad/, "
            f"{need} needed (bad/<name>/ with the code and expect.toml: max_correctness = N)"
        )
    else:
        verdict = "pass"
        plural = "s" if len(subs) != 1 else ""
        msg = f"{len(subs)} known-bad submission{plural}, each at or under its bar"
    return KnownBadCheck(verdict=verdict, message=msg, min_count=need, submissions=subs)


# -- mutation ------------------------------------------------------------------------------


def reference_mutants(ch: Challenge) -> list[Mutant]:
    """The mutants of the challenge's reference solution, in file and line order."""
    lang = ch.language
    files = sorted(
        p.relative_to(ch.solution_dir).as_posix()
        for p in ch.solution_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    return mutants_of_folder(lang.name, ch.solution_dir, lang.source_files(files))


def mutant_limits(ch: Challenge, reports: list[Report]) -> tuple[float, float]:
    """Per-test and wall seconds for mutants: tightened from the reference's times (a
    mutant that loops forever is a timeout, not a minute lost), never above the
    challenge's own limits."""
    lim = ch.config.limits
    slowest = max((t.duration_s for r in reports for t in r.tests), default=0.0)
    run_s = max((r.timings.run_s for r in reports), default=0.0)
    test_s = min(lim.test_seconds, max(1.0, round(10 * slowest + 1, 1)))
    wall_s = min(lim.wall_seconds, max(20.0, round(3 * run_s, 1)))
    return test_s, wall_s


def _with_limits(ch: Challenge, test_s: float, wall_s: float) -> Challenge:
    limits = ch.config.limits.model_copy(update={"test_seconds": test_s, "wall_seconds": wall_s})
    return dataclasses.replace(ch, config=ch.config.model_copy(update={"limits": limits}))


def _does_not_load(report: Report) -> bool:
    """The code does not build, or (interpreted languages) no test file could load it:
    a mutant that is not a program tells nothing about the tests."""
    if any(f.code == "build-failed" for f in report.flags):
        return True
    counted = [t for t in report.tests if t.counted]
    return bool(counted) and all(
        t.outcome == "error" and (t.message or "").startswith("collection error: does not build")
        for t in counted
    )


def _outcome(report: Report, flaky: set[str]) -> record.Outcome:
    """Killed, timed out, survived or invalid (does not build); flaky tests kill nothing."""
    if _does_not_load(report):
        return record.Outcome("invalid")
    failing = [t for t in _failing(report) if t not in flaky]
    if "timeout" in report.limits_hit:
        return record.Outcome("timeout", failing[0] if failing else None)
    if failing:
        return record.Outcome("killed", failing[0])
    return record.Outcome("survived")


def _grade_mutant(
    ctx: Context, variant: Challenge, shared: Shared, m: Mutant, flaky: set[str]
) -> record.Outcome:
    with tempfile.TemporaryDirectory(prefix="grader-mutant-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(variant.solution_dir, src, ignore=shutil.ignore_patterns("__pycache__"))
        (src / m.file).write_text(m.mutated, encoding="utf-8")
        return _outcome(grade_folder(ctx, variant, src, shared), flaky)


def mutation(
    ctx: Context, shared: Shared, ref_reports: list[Report], flaky: set[str]
) -> MutationCheck:
    """Grade the reference's mutants (or reuse current results) and score the tests."""
    ch = ctx.challenge
    cfg = ch.config.health
    t0 = time.monotonic()
    mutants = reference_mutants(ch)
    key = record.content_key(ch)
    test_s, wall_s = mutant_limits(ch, ref_reports)
    variant = _with_limits(ch, test_s, wall_s)

    def grade_all(todo: list[Mutant], what: str) -> dict[str, record.Outcome]:
        outs = _parallel(ctx, lambda m: _grade_mutant(ctx, variant, shared, m, flaky), todo, what)
        return {m.id: o for m, o in zip(todo, outs, strict=True)}

    found, source, where = _stored(ctx, key, mutants)
    live: dict[str, record.Outcome] = {}
    differs: list[str] = []
    notes: list[str] = []
    if found is None:
        source = "computed"
        live = grade_all(mutants, f"{ch.slug}: {len(mutants)} mutants")
        found = record.Record(
            key=key,
            outcomes=dict(live),
            computed_s=time.monotonic() - t0,
            jobs=ctx.jobs,
            test_seconds=test_s,
            wall_seconds=wall_s,
        )
        if ctx.cache_dir is not None:
            record.write(record.cache_path(ch, ctx.cache_dir, key), found)
        if ctx.write_record and mutants:
            problem = record.write(record.record_path(ch), found)
            if problem:
                notes.append(problem)
            else:
                where = str(record.record_path(ch))
    elif source == "record":
        survivors = [m for m in mutants if found.outcomes[m.id].status == "survived"]
        killed = [m for m in mutants if found.outcomes[m.id].status in KILLED]
        sample = random.Random(key).sample(killed, min(ctx.recheck_killed, len(killed)))
        live = grade_all(survivors + sample, f"{ch.slug}: re-checking the record")
        differs = [
            i
            for i, o in live.items()
            if (o.status in KILLED) != (found.outcomes[i].status in KILLED)
        ]
    outcomes = {**found.outcomes, **live}
    return _score(
        ch,
        mutants,
        outcomes,
        set(live),
        MutationCheck(
            verdict="pass",
            message="",
            min_score=cfg.min_mutation_score,
            source=source,  # type: ignore[arg-type]
            record=where,
            rechecked=len(live) if source == "record" else 0,
            differs=differs,
            test_seconds=test_s,
            wall_seconds=wall_s,
            jobs=ctx.jobs,
            duration_s=round(time.monotonic() - t0, 1),
            computed_s=round(found.computed_s, 1),
        ),
        notes,
    )


def _stored(
    ctx: Context, key: str, mutants: list[Mutant]
) -> tuple[record.Record | None, str, str | None]:
    """Current results for ``key`` (the committed record first, then the cache)."""
    if ctx.recompute:
        return None, "computed", None
    ch = ctx.challenge
    places = [("record", record.record_path(ch))]
    if ctx.cache_dir is not None:
        places.append(("cache", record.cache_path(ch, ctx.cache_dir, key)))
    for source, path in places:
        found = record.read(path, key)
        if found is not None and all(m.id in found.outcomes for m in mutants):
            return found, source, str(path)
    return None, "computed", None


def _score(
    ch: Challenge,
    mutants: list[Mutant],
    outcomes: dict[str, record.Outcome],
    live: set[str],
    out: MutationCheck,
    notes: list[str],
) -> MutationCheck:
    accepted = ch.config.health.accepted
    results: list[MutantResult] = []
    by_op: dict[str, dict[str, int]] = {
        op: {"total": 0, "killed": 0} for op in OPERATORS if any(m.operator == op for m in mutants)
    }
    for m in mutants:
        o = outcomes[m.id]
        status: MutantStatus = o.status  # type: ignore[assignment]
        if status == "survived" and m.id in accepted:
            status = "accepted"
        show = status in ("survived", "accepted") or m.id in out.differs
        results.append(
            MutantResult(
                id=m.id,
                file=m.file,
                line=m.line,
                operator=m.operator,
                description=m.description,
                status=status,
                killed_by=o.killed_by,
                reason=accepted.get(m.id) if status == "accepted" else None,
                diff=m.diff() if show else None,
                live=m.id in live,
            )
        )
        by_op[m.operator]["total"] += 1
        by_op[m.operator]["killed"] += status in KILLED
    count = {
        s: sum(1 for r in results if r.status == s)
        for s in ("killed", "timeout", "survived", "accepted", "invalid")
    }
    surviving = {r.id for r in results if r.status == "accepted"}
    judged = count["killed"] + count["timeout"] + count["survived"]
    score = round(100 * (count["killed"] + count["timeout"]) / judged, 1) if judged else None
    out = out.model_copy(
        update={
            "total": len(results),
            "killed": count["killed"],
            "timeout": count["timeout"],
            "survived": count["survived"],
            "accepted": count["accepted"],
            "invalid": count["invalid"],
            "score": score,
            "by_operator": by_op,
            "stale_accepted": sorted(set(accepted) - surviving),
            "mutants": results,
        }
    )
    verdict: Verdict
    if score is None:
        verdict = "warn"
        msg = "no mutants to judge the tests by"
    else:
        verdict = "pass" if score >= out.min_score else "fail"
        msg = (
            f"score {score:g}% (min {out.min_score:g}%): {count['killed'] + count['timeout']} "
            f"of {judged} killed, {count['survived']} survived"
        )
        extra = [f"{count[s]} {s}" for s in ("accepted", "invalid") if count[s]]
        if extra:
            msg += f" ({', '.join(extra)})"
    if out.differs:
        notes.append(
            f"{len(out.differs)} re-checked mutant{'s' if len(out.differs) != 1 else ''} "
            "differ from the record (the live result counts)"
        )
        verdict = "warn" if verdict == "pass" else verdict
    if out.stale_accepted:
        notes.append(
            f"accepted in challenge.toml but not surviving: {', '.join(out.stale_accepted)}"
        )
    if notes:
        msg += "; " + "; ".join(notes)
    return out.model_copy(update={"verdict": verdict, "message": msg})
