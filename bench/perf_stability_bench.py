"""How steady the performance score is, and what the performance run adds to a grade.

Grades the same submission of ``challenges/log-aggregator`` several times in a row
(Docker runner, expected tests cached, as in production) and prints, per grade, the
performance score, each case's ratio and fitted growth, and the machine's load
average; then the spread of the performance scores (largest minus smallest) and the
time the performance run adds per case, beside the correctness run of the same grades
(the baseline: ratio printed).

The default submission is the known 2x-slower variant (``tests/perf_variants``): its
score sits between 0 and 100, where noise shows; ``reference`` (scores 100 unless a
ratio passes 1.2) and ``quadratic`` (0) are steadier by construction.

    .venv/bin/python bench/perf_stability_bench.py [--runs 5]
        [--submission slower|reference|quadratic|PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.challenge import load_challenge  # noqa: E402
from grader.engine import expected_tests, grade  # noqa: E402
from grader.submission import open_submission  # noqa: E402
from runners.docker import DockerRunner  # noqa: E402
from runners.images import ensure  # noqa: E402

CHALLENGE = ROOT / "challenges" / "log-aggregator"
SUBMISSIONS = {
    "slower": ROOT / "tests" / "perf_variants" / "log-aggregator" / "slower",
    "quadratic": ROOT / "tests" / "perf_variants" / "log-aggregator" / "quadratic",
    "reference": CHALLENGE / "solution",
}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--submission", default="slower")
    ap.add_argument("--save", type=Path, help="write each grade's report JSON in this folder")
    args = ap.parse_args()
    folder = SUBMISSIONS.get(args.submission, Path(args.submission))
    challenge = load_challenge(CHALLENGE)
    runner = DockerRunner(image_for=ensure)
    print(f"challenge {challenge.slug} v{challenge.config.version}, submission {folder}")
    print(f"cores: {os.cpu_count()}, load average before: {load()}")
    scores: list[float] = []
    perf_s: list[float] = []
    run_s: list[float] = []
    cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        expected = expected_tests(challenge, runner, cache_dir=cache)
        work = Path(tmp) / "submission"
        work.mkdir()
        sub = open_submission(folder, work, ignore=challenge.language.ignores)
        for i in range(args.runs):
            started = time.perf_counter()
            report = grade(challenge, sub, runner, expected=expected, cache_dir=cache)
            wall = time.perf_counter() - started
            if args.save is not None:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"grade-{i + 1}.json").write_text(report.model_dump_json(indent=1))
            perf = report.performance
            assert perf is not None, "the challenge has no performance cases"
            cases = len(perf.cases)
            scores.append(report.scores.performance)
            perf_s.append(report.timings.performance_s)
            run_s.append(report.timings.run_s)
            figures = "; ".join(
                f"{c.id.rsplit('::', 1)[1]}: ratio {c.ratio}"
                f"{' (lower bound)' if c.ratio_is_lower_bound else ''}, growth "
                f"{c.candidate.growth if c.candidate else None} vs "
                f"{c.reference.growth if c.reference else None}, {c.repetitions} reps"
                for c in perf.cases
            )
            print(
                f"grade {i + 1}: performance {report.scores.performance:5.1f}  "
                f"correctness {report.scores.correctness:5.1f}  [{figures}]  "
                f"grade {wall:.1f} s (performance run {report.timings.performance_s:.1f} s)  "
                f"load {load()}"
            )
    spread = max(scores) - min(scores)
    print(
        f"performance scores: {', '.join(f'{s:.1f}' for s in scores)}; "
        f"spread (max - min) {spread:.1f} points; median {statistics.median(scores):.1f}"
    )
    per_case = statistics.median(perf_s) / max(cases, 1)
    baseline = statistics.median(run_s)
    print(
        f"added grading time: {statistics.median(perf_s):.1f} s per grade for {cases} "
        f"case(s) = {per_case:.1f} s per case (median); the correctness run of the same "
        f"grades: {baseline:.1f} s; performance run / correctness run = "
        f"{statistics.median(perf_s) / baseline:.2f}x"
    )
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
