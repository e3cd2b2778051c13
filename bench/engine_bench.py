"""End-to-end time of grading a trivial submission, against bare container start-up.

Baseline: `docker run --rm IMAGE true` through the SDK (create, start, wait, remove),
the least any sandboxed run can cost. Measured: `grade()` of a trivial challenge's
reference in each isolation mode (expected tests cached, as in production), and a
warm `grader images build` (nothing changed).

    .venv/bin/python bench/engine_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from tests_support import make_adder_challenge  # noqa: E402

from grader.challenge import load_challenge  # noqa: E402
from grader.engine import expected_tests, grade  # noqa: E402
from grader.submission import open_submission  # noqa: E402
from runners.docker import DockerRunner, connect  # noqa: E402
from runners.images import build, ensure  # noqa: E402


def median_of(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    t = time.perf_counter()
    image = build("python")
    warm_build = time.perf_counter() - t
    client = connect()

    def bare() -> None:
        c = client.containers.create(image, ["true"], network_mode="none")
        c.start()
        c.wait()
        c.remove(force=True)

    base = median_of(bare, args.runs)
    print(f"image build, warm (nothing changed): {warm_build:.2f} s")
    print(
        f"baseline: bare container create+start+wait+remove: {base:.3f} s (median of {args.runs})"
    )
    runner = DockerRunner(image_for=ensure)
    with tempfile.TemporaryDirectory() as tmp:
        for isolation in ("in-process", "process"):
            root = make_adder_challenge(Path(tmp) / isolation, isolation=isolation)
            ch = load_challenge(root)
            cache = Path(tmp) / "cache"
            exp = expected_tests(ch, runner, cache_dir=cache)
            sub = open_submission(ch.solution_dir, tmp)

            def once() -> None:
                rep = grade(ch, sub, runner, expected=exp, cache_dir=cache)  # noqa: B023
                assert rep.scores.correctness == 100, rep.scores

            once()
            med = median_of(once, args.runs)
            print(
                f"grade() trivial submission, {isolation:10s}: {med:.3f} s median "
                f"= {med / base:.1f}x bare container"
            )


if __name__ == "__main__":
    main()
