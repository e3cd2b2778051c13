"""Grading latency and throughput against the naive thing a user could script (issue 14).

In ONE interleaved run (each round measures every item once, in turn, so load from
elsewhere on the machine falls on all of them alike), on the ``grader new`` scaffold's
reference solution and tests:

- naive: ``docker run --rm --network none -v DIR:/t:ro IMAGE python -m pytest`` of the same
  tests, same image (the docker CLI, as a user would script it);
- ``grade()`` called in this process, isolation ``process`` and ``in-process``, with the
  sandbox pool (as a worker grades) and without it (every run creates its containers);
- ``grader run`` (the CLI, a fresh process each time), both isolation modes;
- the service at idle: upload to graded (server timestamps) through the API with 2
  Celery workers on real Redis and SQLite, started here and stopped at the end.

Then the burst: N submissions uploaded at once through the service, against a loop that
runs the same tests with ``docker exec`` in already-started containers (one loop, and
two loops side by side, one per worker). Prints medians, ratios, and where a pooled and
an unpooled engine run spend their Docker calls.

    .venv/bin/python bench/latency_bench.py [--reps 7] [--burst 20] [--burst-rounds 2]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from service_bench import Stack  # noqa: E402

from grader.challenge import load_challenge  # noqa: E402
from grader.engine import expected_tests, grade  # noqa: E402
from grader.scaffold import write_scaffold  # noqa: E402
from grader.submission import open_submission  # noqa: E402
from runners.docker import POOL_LABEL, DockerRunner, SandboxPool, connect  # noqa: E402
from runners.images import build, ensure  # noqa: E402

PREFIX = "grader-bench"
PAUSE_S = 1.5  # between measurements: each starts on an idle machine (pools refilled)


class CallTimes:
    """Wall time of the Docker SDK calls a run makes (wrapped methods), per phase."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = collections.defaultdict(list)
        self.active = False

    def install(self) -> None:
        from docker.models.containers import Container, ContainerCollection

        for cls, names in (
            (
                Container,
                ("put_archive", "start", "wait", "get_archive", "remove", "stop", "attach_socket"),
            ),
            (ContainerCollection, ("create",)),
        ):
            for name in names:
                self._wrap(cls, name)

    def _wrap(self, cls: type, name: str) -> None:
        original = getattr(cls, name)
        me = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            # Only calls of the measured run's own thread (not the pool's refills).
            mine = me.active and threading.current_thread() is threading.main_thread()
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if mine:
                    me.calls[name].append(time.perf_counter() - t)

        setattr(cls, name, timed)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def scaffold(where: Path) -> tuple[Path, Path, Path]:
    """The scaffold (process isolation: the default), its in-process twin, and a plain
    folder with the solution and every test for the naive run."""
    proc = where / "challenges" / "demo"
    write_scaffold(proc, "demo", "python")
    inproc = where / "challenges" / "demo-inproc"
    shutil.copytree(proc, inproc)
    toml = inproc / "challenge.toml"
    toml.write_text(
        toml.read_text().replace(
            'entrypoint = "solution.py"', 'entrypoint = "solution.py"\nisolation = "in-process"'
        )
    )
    naive = where / "naive"
    naive.mkdir()
    shutil.copy(proc / "solution" / "solution.py", naive)
    for test in sorted((proc / "tests").rglob("test_*.py")):
        shutil.copy(test, naive / test.name)
    return proc, inproc, naive


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--burst", type=int, default=20)
    ap.add_argument("--burst-rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--service-pool",
        type=int,
        default=1,
        help="the workers' GRADER_SANDBOX_POOL_SIZE (0: no pool, the figures before it)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = ap.parse_args()

    image = build("python")
    work = Path(tempfile.mkdtemp(prefix="grader-latency-"))
    proc_dir, inproc_dir, naive_dir = scaffold(work)
    cache = work / "cache"
    grader_cli = [sys.executable, "-m", "grader.cli"]
    if (REPO / ".venv" / "bin" / "grader").exists():
        grader_cli = [str(REPO / ".venv" / "bin" / "grader")]
    client = connect()
    times = CallTimes()
    times.install()
    pool = SandboxPool(size=1, max_age_s=600, name_prefix=PREFIX)
    pooled = DockerRunner(image_for=ensure, name_prefix=PREFIX, pool=pool)
    cold = DockerRunner(image_for=ensure, name_prefix=PREFIX)
    stack: Stack | None = None
    exec_containers: list[Any] = []
    try:
        engines = {}
        for mode, root in (("process", proc_dir), ("in-process", inproc_dir)):
            ch = load_challenge(root)
            exp = expected_tests(ch, cold, cache_dir=cache)
            (work / f"sub-{mode}").mkdir()
            sub = open_submission(ch.solution_dir, work / f"sub-{mode}")
            engines[mode] = (ch, sub, exp)
            # Make the pool keep this shape warm before the rounds.
            rep = grade(ch, sub, pooled, expected=exp, cache_dir=cache)
            assert rep.scores.correctness == 100, rep.scores
        # The CLI reads the same cache (expected tests computed above).
        cli_env = {"GRADER_CACHE_DIR": str(cache), "GRADER_CONTAINER_PREFIX": PREFIX}

        stack = Stack(work / "service", args.workers)
        (work / "service").mkdir(exist_ok=True)
        stack.env.update(
            GRADER_CHALLENGES_DIR=str(work / "challenges"),
            GRADER_SANDBOX_POOL_SIZE=str(args.service_pool),
            GRADER_CONTAINER_PREFIX=PREFIX,
        )
        url = stack.start()
        token = stack.token()
        http = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        solution = (proc_dir / "solution" / "solution.py").read_bytes()
        counter = iter(range(10**6))

        def submit(n: int) -> list[str]:
            ids = []
            for _ in range(n):
                body = solution + f"\n# submission {next(counter)}\n".encode()
                resp = http.post(
                    "/v1/challenges/demo/submissions", files={"file": ("solution.py", body)}
                )
                resp.raise_for_status()
                ids.append(resp.json()["id"])
            return ids

        def collect(ids: list[str], timeout: float = 600) -> list[dict[str, Any]]:
            done: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + timeout
            while len(done) < len(ids):
                if time.monotonic() > deadline:
                    raise SystemExit(f"only {len(done)} of {len(ids)} graded in {timeout:g} s")
                for i in ids:
                    if i not in done:
                        state = http.get(f"/v1/submissions/{i}").json()
                        if state["status"] in ("graded", "error"):
                            done[i] = state
                time.sleep(0.05)
            return [done[i] for i in ids]

        def ts(value: str) -> float:
            return datetime.fromisoformat(value).timestamp()

        # Warm-up: one submission per worker at once (each worker's pool learns the shape).
        warm = collect(submit(args.workers))
        assert all(s["status"] == "graded" for s in warm), warm

        def naive() -> None:
            subprocess.run(
                [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "-v",
                    f"{naive_dir}:/t:ro",
                    "-w",
                    "/t",
                    image,
                    "python",
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "/t",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        def engine(mode: str, runner: DockerRunner) -> Callable[[], None]:
            ch, sub, exp = engines[mode]

            def once() -> None:
                times.active = True
                try:
                    rep = grade(ch, sub, runner, expected=exp, cache_dir=cache)
                finally:
                    times.active = False
                assert rep.scores.correctness == 100, rep.scores

            return once

        def cli(root: Path) -> Callable[[], None]:
            def once() -> None:
                import os

                env = {**os.environ, **cli_env}
                out = subprocess.run(
                    [*grader_cli, "run", str(root), str(root / "solution"), "--format", "json"],
                    env=env,
                    capture_output=True,
                    check=True,
                )
                assert json.loads(out.stdout)["scores"]["correctness"] == 100

            return once

        service_idle: list[float] = []

        def service() -> None:
            state = collect(submit(1))[0]
            assert state["status"] == "graded", state
            service_idle.append(ts(state["finished_at"]) - ts(state["created_at"]))

        items: dict[str, Callable[[], None]] = {
            "naive docker run --rm ... pytest": naive,
            "grade() process, pooled": engine("process", pooled),
            "grade() in-process, pooled": engine("in-process", pooled),
            "grade() process, no pool": engine("process", cold),
            "grade() in-process, no pool": engine("in-process", cold),
            "grader run (CLI) process": cli(proc_dir),
            "grader run (CLI) in-process": cli(inproc_dir),
            "service upload->graded, idle": service,
        }
        wall: dict[str, list[float]] = collections.defaultdict(list)
        phases: dict[str, dict[str, list[float]]] = {}
        for rnd in range(args.reps):
            for name, fn in items.items():
                time.sleep(PAUSE_S)
                times.calls.clear()
                t = time.perf_counter()
                fn()
                wall[name].append(time.perf_counter() - t)
                if name.startswith("grade()"):
                    for call, xs in times.calls.items():
                        phases.setdefault(name, collections.defaultdict(list))[call].append(sum(xs))
            print(f"round {rnd + 1}/{args.reps} done", file=sys.stderr)

        # The burst: the service against docker exec in already-started containers.
        for n in range(args.workers):
            c = client.containers.run(
                image,
                ["sleep", "infinity"],
                detach=True,
                network_mode="none",
                name=f"{PREFIX}-exec-{n}",
                labels={"org.grader.bench": "exec"},
            )
            exec_containers.append(c)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                tar.add(naive_dir, arcname="t")
            c.put_archive("/", buf.getvalue())

        def exec_loop(c: Any, count: int) -> None:
            for _ in range(count):
                code, _ = c.exec_run(
                    ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "/t"], workdir="/t"
                )
                assert code == 0

        def exec_rate(loops: int) -> float:
            t = time.perf_counter()
            per = args.burst // loops
            threads = [
                threading.Thread(target=exec_loop, args=(exec_containers[i], per))
                for i in range(loops)
            ]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            return per * loops / (time.perf_counter() - t) * 60

        burst_service: list[float] = []
        burst_exec1: list[float] = []
        burst_exec2: list[float] = []
        for _ in range(args.burst_rounds):
            time.sleep(3)
            states = collect(submit(args.burst))
            assert all(s["status"] == "graded" for s in states)
            span = max(ts(s["finished_at"]) for s in states) - min(
                ts(s["created_at"]) for s in states
            )
            burst_service.append(len(states) / span * 60)
            time.sleep(3)
            burst_exec1.append(exec_rate(1))
            time.sleep(3)
            burst_exec2.append(exec_rate(min(2, args.workers)))
        http.close()
    finally:
        if stack is not None:
            stack.stop()
        for c in exec_containers:
            with contextlib.suppress(Exception):
                c.remove(force=True)
        pool.close()

    # Nothing the run started is left (the workers drained their pools on SIGTERM).
    time.sleep(1)
    left = client.containers.list(all=True, filters={"label": POOL_LABEL}, sparse=True)
    left = [c for c in left if str(c.attrs["Names"][0]).lstrip("/").startswith(PREFIX)]

    base = median(wall["naive docker run --rm ... pytest"])
    print(f"\nlatency, median of {args.reps} interleaved rounds (ratio: / naive docker run)")
    for name, xs in wall.items():
        value = median(service_idle) if name.startswith("service") else median(xs)
        extra = " (server: created_at -> finished_at)" if name.startswith("service") else ""
        print(f"  {name:34s} {value:6.3f} s  {value / base:5.2f}x{extra}")
    print("\nDocker SDK calls per engine run (median seconds, summed per run):")
    for name, calls in phases.items():
        parts = ", ".join(f"{c} {median(xs):.3f}" for c, xs in sorted(calls.items()))
        print(f"  {name:30s} {parts}")
    s_med, e1, e2 = median(burst_service), median(burst_exec1), median(burst_exec2)
    print(
        f"\nburst of {args.burst}, {args.workers} workers (pool size {args.service_pool}), "
        f"median of {args.burst_rounds} rounds:"
    )
    print(f"  service                       {s_med:6.1f} graded/min")
    print(f"  docker exec, one loop         {e1:6.1f} runs/min   service/exec = {s_med / e1:.2f}")
    print(f"  docker exec, two loops        {e2:6.1f} runs/min   service/exec = {s_med / e2:.2f}")
    print(f"\npooled containers left behind: {len(left)}; pool errors: {pool.errors or 'none'}")
    if args.keep:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
