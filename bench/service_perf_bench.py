"""What a service challenge's performance run costs, and how its score holds.

Runs the performance run of ``challenges/orders-api`` (Docker runner; the correctness
run is left out: its cost is the baseline of ``service_run_bench.py``) for the
reference solution against itself and for the known-slow variant
(``tests/perf_variants/orders-api/slow``), alternately, ``--runs`` times each, and
prints per run the ratio, the performance score, the whole run's time and the case's
own time (seeding, warm-up and rounds), each side's throughput and peak memory and
the machine's load average; then the spread of each submission's scores and the ratio
of their median scores.

    .venv/bin/python bench/service_perf_bench.py [--runs 3] [--language python|go]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import performance, scoring  # noqa: E402
from grader.challenge import load_challenge  # noqa: E402
from grader.submission import open_submission  # noqa: E402
from runners.docker import DockerRunner  # noqa: E402
from runners.images import ensure  # noqa: E402

CHALLENGE = ROOT / "challenges" / "orders-api"
SLOW = ROOT / "tests" / "perf_variants" / "orders-api" / "slow"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--language", default="python")
    args = parser.parse_args()
    challenge = load_challenge(CHALLENGE).for_language(args.language)
    folders = {"reference": challenge.solution_dir}
    if args.language == "python":
        folders["slow"] = SLOW
    runner = DockerRunner(name_prefix="grader-bench", image_for=ensure)
    scores: dict[str, list[float]] = {name: [] for name in folders}
    for i in range(args.runs):
        for name, folder in folders.items():
            with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
                sub = open_submission(folder, tmp, ignore=challenge.ignores)
                section, flags = performance.run_performance(
                    challenge, sub, runner, label=f"bench-svcperf-{i}", progress=lambda _: None
                )
            score, _ = scoring.performance_score(section)
            scores[name].append(score)
            load = os.getloadavg()[0]
            for case in section.cases:
                c, r = case.candidate_load, case.reference_load
                sides = (
                    f"rps {c.throughput_rps:.1f} vs {r.throughput_rps:.1f}, "
                    f"peak MiB {c.peak_memory_mb} vs {r.peak_memory_mb}"
                    if c and r
                    else case.message
                )
                print(
                    f"{name:9} run {i + 1}: ratio {case.ratio} {case.ratios} score {score:.1f}; "
                    f"run {section.run_s:.1f} s, case {case.elapsed_s:.1f} s; {sides}; "
                    f"load {load:.1f}" + (f"; flags {[f.code for f in flags]}" if flags else "")
                )
    for name, values in scores.items():
        print(f"{name}: scores {values}, spread {max(values) - min(values):.1f}")
    if "slow" in scores:
        ref, slow = statistics.median(scores["reference"]), statistics.median(scores["slow"])
        print(f"median score reference {ref:.1f} / slow {slow:.1f}")


if __name__ == "__main__":
    main()
