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

Then the burst (the scaffold, then its in-process twin): N submissions uploaded at once
through the service, against a loop that runs the same tests with ``docker exec`` in
already-started containers (one loop, and two loops side by side, one per worker).
Prints medians, ratios, and where a pooled and an unpooled engine run spend their
Docker calls.

    .venv/bin/python bench/latency_bench.py [--reps 7] [--burst 20] [--burst-rounds 2]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
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


class ServiceClient:
    """The bench's client of the composed service: uploads, and waits for grades."""

    def __init__(self, url: str, token: str, solution: bytes) -> None:
        self.http = httpx.Client(
            base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )
        self.solution = solution
        self.counter = 0
        self.idle: list[float] = []

    def submit(self, n: int, slug: str = "demo") -> list[str]:
        ids = []
        for _ in range(n):
            self.counter += 1
            body = self.solution + f"\n# submission {self.counter}\n".encode()
            resp = self.http.post(
                f"/v1/challenges/{slug}/submissions", files={"file": ("solution.py", body)}
            )
            resp.raise_for_status()
            ids.append(resp.json()["id"])
        return ids

    def collect(self, ids: list[str], timeout: float = 600) -> list[dict[str, Any]]:
        done: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while len(done) < len(ids):
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(done)} of {len(ids)} graded in {timeout:g} s")
            # As a client would poll: the oldest pending one, a few times a second (the
            # queue is first in, first out: later ones wait for the next sweep). Polling
            # every pending submission every 50 ms took 15 % of this machine's CPU in a
            # burst (the API answering, and this process asking), at the workers' cost.
            # The figures are the server's timestamps either way.
            for i in ids:
                if i not in done:
                    state = self.http.get(f"/v1/submissions/{i}").json()
                    if state["status"] not in ("graded", "error"):
                        break
                    done[i] = state
            time.sleep(0.1)
        return [done[i] for i in ids]

    def one_at_idle(self) -> None:
        """One submission; its server-side time from upload to graded is kept."""
        state = self.collect(self.submit(1))[0]
        assert state["status"] == "graded", state
        self.idle.append(ts(state["finished_at"]) - ts(state["created_at"]))

    def burst_rate(self, n: int, slug: str = "demo") -> float:
        """Graded per minute for ``n`` submissions uploaded at once."""
        states = self.collect(self.submit(n, slug))
        assert all(s["status"] == "graded" for s in states)
        span = max(ts(s["finished_at"]) for s in states) - min(ts(s["created_at"]) for s in states)
        return len(states) / span * 60


def ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def naive_run(image: str, naive_dir: Path) -> Callable[[], None]:
    """The baseline: ``docker run --rm`` of pytest over the solution and its tests."""

    def once() -> None:
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

    return once


def engine_run(
    engine: tuple[Any, Any, Any], runner: DockerRunner, cache: Path, times: CallTimes
) -> Callable[[], None]:
    """``grade()`` in this process, the Docker SDK calls timed."""
    ch, sub, exp = engine

    def once() -> None:
        times.active = True
        try:
            rep = grade(ch, sub, runner, expected=exp, cache_dir=cache)
        finally:
            times.active = False
        assert rep.scores.correctness == 100, rep.scores

    return once


def cli_run(grader_cli: list[str], root: Path, env: dict[str, str]) -> Callable[[], None]:
    """``grader run`` as a user types it (a fresh process each time)."""

    def once() -> None:
        out = subprocess.run(
            [*grader_cli, "run", str(root), str(root / "solution"), "--format", "json"],
            env={**os.environ, **env},
            capture_output=True,
            check=True,
        )
        assert json.loads(out.stdout)["scores"]["correctness"] == 100

    return once


class ExecLoops:
    """The throughput baseline: pytest by ``docker exec`` in already-started containers."""

    def __init__(self, client: Any, image: str, naive_dir: Path, count: int) -> None:
        self.containers: list[Any] = []
        for n in range(count):
            c = client.containers.run(
                image,
                ["sleep", "infinity"],
                detach=True,
                network_mode="none",
                name=f"{PREFIX}-exec-{n}",
                labels={"org.grader.bench": "exec"},
            )
            self.containers.append(c)
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                tar.add(naive_dir, arcname="t")
            c.put_archive("/", buf.getvalue())

    @staticmethod
    def _loop(c: Any, count: int) -> None:
        for _ in range(count):
            code, _ = c.exec_run(
                ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "/t"], workdir="/t"
            )
            assert code == 0

    def rate(self, total: int, loops: int) -> float:
        """Runs per minute of ``loops`` loops side by side, ``total`` runs in all."""
        t = time.perf_counter()
        per = total // loops
        threads = [
            threading.Thread(target=self._loop, args=(self.containers[i], per))
            for i in range(loops)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return per * loops / (time.perf_counter() - t) * 60

    def remove(self) -> None:
        for c in self.containers:
            with contextlib.suppress(Exception):
                c.remove(force=True)


def interleave(
    items: dict[str, Callable[[], None]], reps: int, times: CallTimes
) -> tuple[dict[str, list[float]], dict[str, dict[str, list[float]]]]:
    """Each item once per round, ``reps`` rounds: wall times, and the engine's SDK calls."""
    wall: dict[str, list[float]] = collections.defaultdict(list)
    phases: dict[str, dict[str, list[float]]] = {}
    for rnd in range(reps):
        for name, fn in items.items():
            time.sleep(PAUSE_S)
            times.calls.clear()
            t = time.perf_counter()
            fn()
            wall[name].append(time.perf_counter() - t)
            if name.startswith("grade()"):
                for call, xs in times.calls.items():
                    phases.setdefault(name, collections.defaultdict(list))[call].append(sum(xs))
        print(f"round {rnd + 1}/{reps} done", file=sys.stderr)
    return wall, phases


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
    loops: ExecLoops | None = None
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
        service = ServiceClient(
            stack.start(), stack.token(), (proc_dir / "solution" / "solution.py").read_bytes()
        )
        # Warm-up: one submission per worker at once (each worker's pool learns the shape).
        for slug in ("demo", "demo-inproc"):
            warm = service.collect(service.submit(args.workers, slug))
            assert all(s["status"] == "graded" for s in warm), warm

        items: dict[str, Callable[[], None]] = {
            "naive docker run --rm ... pytest": naive_run(image, naive_dir),
            "grade() process, pooled": engine_run(engines["process"], pooled, cache, times),
            "grade() in-process, pooled": engine_run(engines["in-process"], pooled, cache, times),
            "grade() process, no pool": engine_run(engines["process"], cold, cache, times),
            "grade() in-process, no pool": engine_run(engines["in-process"], cold, cache, times),
            "grader run (CLI) process": cli_run(grader_cli, proc_dir, cli_env),
            "grader run (CLI) in-process": cli_run(grader_cli, inproc_dir, cli_env),
            "service upload->graded, idle": service.one_at_idle,
        }
        wall, phases = interleave(items, args.reps, times)

        # The burst: the service against docker exec in already-started containers.
        loops = ExecLoops(client, image, naive_dir, args.workers)
        burst: dict[str, list[float]] = {
            "service": [],
            "service-inproc": [],
            "exec1": [],
            "exec2": [],
        }
        for _ in range(args.burst_rounds):
            time.sleep(3)
            burst["service"].append(service.burst_rate(args.burst))
            time.sleep(3)
            burst["service-inproc"].append(service.burst_rate(args.burst, "demo-inproc"))
            time.sleep(3)
            burst["exec1"].append(loops.rate(args.burst, 1))
            time.sleep(3)
            burst["exec2"].append(loops.rate(args.burst, min(2, args.workers)))
        service.http.close()
    finally:
        if stack is not None:
            stack.stop()
        if loops is not None:
            loops.remove()
        pool.close()

    # Nothing the run started is left (the workers drained their pools on SIGTERM).
    time.sleep(1)
    left = client.containers.list(all=True, filters={"label": POOL_LABEL}, sparse=True)
    left = [c for c in left if str(c.attrs["Names"][0]).lstrip("/").startswith(PREFIX)]
    report(args, wall, phases, service.idle, burst)
    print(f"\npooled containers left behind: {len(left)}; pool errors: {pool.errors or 'none'}")
    if args.keep:
        print(f"work folder: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def report(
    args: argparse.Namespace,
    wall: dict[str, list[float]],
    phases: dict[str, dict[str, list[float]]],
    idle: list[float],
    burst: dict[str, list[float]],
) -> None:
    base = median(wall["naive docker run --rm ... pytest"])
    print(f"\nlatency, median of {args.reps} interleaved rounds (ratio: / naive docker run)")
    for name, xs in wall.items():
        value = median(idle) if name.startswith("service") else median(xs)
        extra = " (server: created_at -> finished_at)" if name.startswith("service") else ""
        print(f"  {name:34s} {value:6.3f} s  {value / base:5.2f}x{extra}")
    print("\nDocker SDK calls per engine run (median seconds, summed per run):")
    for name, calls in phases.items():
        parts = ", ".join(f"{c} {median(xs):.3f}" for c, xs in sorted(calls.items()))
        print(f"  {name:30s} {parts}")
    s_med, e1, e2 = median(burst["service"]), median(burst["exec1"]), median(burst["exec2"])
    s_in = median(burst["service-inproc"])
    print(
        f"\nburst of {args.burst}, {args.workers} workers (pool size {args.service_pool}), "
        f"median of {args.burst_rounds} rounds:"
    )
    print(f"  service, process isolation    {s_med:6.1f} graded/min")
    print(f"  service, in-process           {s_in:6.1f} graded/min")
    print(f"  docker exec, one loop         {e1:6.1f} runs/min")
    print(f"  docker exec, two loops        {e2:6.1f} runs/min")
    print("  service / exec (one loop, two loops):")
    print(f"    process isolation           {s_med / e1:.2f}, {s_med / e2:.2f}")
    print(f"    in-process                  {s_in / e1:.2f}, {s_in / e2:.2f}")


if __name__ == "__main__":
    main()
