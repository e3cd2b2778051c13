"""One service grading run against one code challenge's, in the same run, and leftovers.

Baseline: ``grade()`` of a code challenge's reference (challenges/rate-limiter, Python,
process isolation). Measured: ``grade()`` of a service challenge's reference in Python
(challenges/orders-api: a PostgreSQL container, the service's container, the tests
container) and of the echo fixture (no database). Expected tests are cached first, as
in production; runs alternate so machine noise hits both sides alike. Prints medians and
the ratio to the baseline.

``--leftovers N`` also grades N service runs in subprocesses, SIGKILLing every other
worker while its run's containers are up, then sweeps (``sweep_leftovers``) and prints
what was left before and after the sweep.

    .venv/bin/python bench/service_run_bench.py [--runs N] [--leftovers N]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.challenge import Challenge, load_challenge  # noqa: E402
from grader.engine import grade  # noqa: E402
from grader.submission import open_submission  # noqa: E402
from runners.docker import LABEL, DockerRunner, connect, sweep_leftovers  # noqa: E402
from runners.images import ensure  # noqa: E402

PREFIX = "grader-bench-svc"


def _grade(ch: Challenge, runner: DockerRunner, cache: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        sub = open_submission(ch.solution_dir, tmp, ignore=ch.ignores)
        t = time.perf_counter()
        report = grade(ch, sub, runner, cache_dir=cache)
        took = time.perf_counter() - t
    if report.scores.correctness != 100:
        raise SystemExit(f"{ch.slug}: the reference scored {report.scores.correctness}")
    return took


def _ours() -> list[str]:
    names = [c["Names"][0].lstrip("/") for c in connect().api.containers(
        all=True, filters={"label": LABEL})]
    return [n for n in names if n.startswith(PREFIX)]


def leftovers(n: int, cache: Path) -> None:
    env = {**os.environ, "GRADER_CACHE_DIR": str(cache), "GRADER_CONTAINER_PREFIX": PREFIX}
    challenge = ROOT / "challenges" / "orders-api"
    killed = 0
    for i in range(n):
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "run", str(challenge),
             str(challenge / "solution" / "python"), "--language", "python"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if i % 2:
            end = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < end:
                running = connect().api.containers(filters={"label": LABEL, "status": "running"})
                if sum(c["Names"][0].lstrip("/").startswith(PREFIX) for c in running) >= 2:
                    time.sleep(1.0)
                    proc.send_signal(signal.SIGKILL)
                    killed += 1
                    break
                time.sleep(0.2)
        proc.wait(timeout=600)
    before = _ours()
    report = sweep_leftovers(0, name_prefix=PREFIX)
    after = _ours()
    print(f"{n} runs, {killed} workers killed mid-run: {len(before)} containers left "
          f"before the sweep, the sweep removed {len(report.containers)} containers, "
          f"{len(report.networks)} networks, {len(report.volumes)} volumes; "
          f"{len(after)} left after it")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--leftovers", type=int, default=0)
    args = ap.parse_args()
    runner = DockerRunner(name_prefix=PREFIX, image_for=ensure)
    code = load_challenge(ROOT / "challenges" / "rate-limiter")
    orders = load_challenge(ROOT / "challenges" / "orders-api").for_language("python")
    echo = load_challenge(ROOT / "tests" / "service_challenges" / "echo")
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = Path(cache_dir)
        for ch in (code, orders, echo):  # expected tests (and images) first
            _grade(ch, runner, cache)
        times: dict[str, list[float]] = {"code": [], "orders": [], "echo": []}
        for _ in range(args.runs):
            times["code"].append(_grade(code, runner, cache))
            times["orders"].append(_grade(orders, runner, cache))
            times["echo"].append(_grade(echo, runner, cache))
        base = statistics.median(times["code"])
        print(f"code challenge (rate-limiter, python):  {base:6.2f} s  (baseline)")
        for key, label in (("orders", "service, orders-api (python + postgres)"),
                           ("echo", "service, echo (python, no database)")):
            med = statistics.median(times[key])
            print(f"{label + ':':40s} {med:6.2f} s  ratio {med / base:4.2f}")
        print(f"(medians of {args.runs} runs each, alternating)")
        if args.leftovers:
            leftovers(args.leftovers, cache)


if __name__ == "__main__":
    main()
