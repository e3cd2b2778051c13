"""Soak: many submissions through the service while it is hurt, then check nothing was lost.

Starts its own Redis, the API and N workers (as bench/service_bench.py does, SQLite in a
temporary folder, a trivial one-test challenge) and uploads M submissions (default 1,000)
at a steady pace while:

* a random worker is killed with SIGKILL every ``--kill-every`` seconds (and replaced),
* Redis is restarted once (a third of the way), losing every queued message,
* the Docker engine is restarted once (two thirds of the way), failing the sandboxes
  that run at that moment.

Afterwards it checks: every submission graded, none lost or stuck in queued/running,
each graded exactly once (one "graded" event per submission in the workers' logs), no
sandbox container or network left behind, and prints each worker's memory (RSS) at its
start, its middle and its end. Everything it starts, it stops. Not part of CI: it takes
a while, restarts the machine's Docker engine, and needs the machine to itself.

    .venv/bin/python bench/soak.py [--submissions 1000] [--workers 2] [--kill-every 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_bench import REPO, SOLUTION, Stack, wait  # noqa: E402

FAULT_SETTINGS = {
    # Small enough that a soak does not wait for the defaults meant for production.
    "GRADER_STUCK_AFTER_SECONDS": "60",
    "GRADER_HEARTBEAT_SECONDS": "2",
    "GRADER_HEARTBEAT_TIMEOUT_SECONDS": "15",
    "GRADER_SWEEP_INTERVAL_SECONDS": "5",
    "GRADER_ORPHAN_GRACE_SECONDS": "30",
    "GRADER_MAX_PENDING_PER_CANDIDATE": "0",
    "GRADER_TASK_MAX_ATTEMPTS": "6",
    "GRADER_LOG_LEVEL": "INFO",
}


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Soak:
    def __init__(self, workdir: Path, workers: int) -> None:
        self.stack = Stack(workdir, workers)
        self.stack.env.update(FAULT_SETTINGS)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.memory: dict[str, list[float]] = {}
        self.events: list[str] = []
        self.lock = threading.Lock()
        self.next_worker = 0
        self.last_kill = time.monotonic()

    def start_worker(self) -> None:
        name = f"soak{self.next_worker}@localhost"
        self.next_worker += 1
        grader = [sys.executable, "-m", "api.cli"]
        proc = self.stack._start([*grader, "worker", "--hostname", name], f"{name}.log")
        with self.lock:
            self.workers[name] = proc
            self.memory[name] = []

    def kill_one(self) -> None:
        with self.lock:
            alive = [n for n, p in self.workers.items() if p.poll() is None]
        if not alive:
            return
        victim = random.choice(alive)
        os.killpg(self.workers[victim].pid, signal.SIGKILL)
        self.workers[victim].wait(10)
        self.events.append(f"{time.strftime('%H:%M:%S')} killed {victim}")
        self.start_worker()

    def restart_redis(self) -> None:
        redis = self.stack.procs[0]
        os.killpg(redis.pid, signal.SIGKILL)
        redis.wait(10)
        exe = shutil.which("redis-server") or "redis-server"
        new = self.stack._start(
            [
                exe,
                "--port",
                str(self.stack.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.stack.workdir),
            ],
            "redis-restarted.log",
        )
        self.stack.procs.remove(new)
        self.stack.procs[0] = new  # Redis stops last, as before
        self.events.append(f"{time.strftime('%H:%M:%S')} restarted Redis (queue lost)")

    def restart_docker(self) -> None:
        subprocess.run(["pkill", "-x", "dockerd"], check=False)
        time.sleep(3)
        subprocess.run(["bash", str(REPO / "scripts" / "ensure-docker.sh")], check=True)
        self.events.append(f"{time.strftime('%H:%M:%S')} restarted the Docker engine")

    def maybe_kill(self, every_s: float) -> None:
        """Kill a worker when the last kill is ``every_s`` seconds old."""
        if time.monotonic() - self.last_kill > every_s:
            self.kill_one()
            self.last_kill = time.monotonic()

    def upload(self, client: httpx.Client, args: argparse.Namespace, ids: list[str]) -> None:
        """Upload the submissions at a steady pace, restarting Redis a third of the way
        and the Docker engine two thirds of the way, killing workers as it goes."""
        redis_at, docker_at = args.submissions // 3, 2 * args.submissions // 3
        self.last_kill = time.monotonic()
        for n in range(args.submissions):
            body = SOLUTION + f"\n# soak {n}\n"
            for attempt in range(30):
                try:
                    resp = client.post(
                        "/v1/challenges/echo/submissions",
                        files={"file": ("echo.py", body.encode())},
                    )
                    resp.raise_for_status()
                    ids.append(resp.json()["id"])
                    break
                except httpx.HTTPError:
                    time.sleep(min(5.0, 0.5 * (attempt + 1)))
            if n == redis_at:
                self.restart_redis()
            if n == docker_at and not args.no_docker_restart:
                self.restart_docker()
            self.maybe_kill(args.kill_every)
            if n % 20 == 0:
                self.sample_memory()
            time.sleep(args.pace)

    def sample_memory(self) -> None:
        with self.lock:
            for name, proc in self.workers.items():
                if proc.poll() is None and (mib := rss_mib(proc.pid)) is not None:
                    self.memory[name].append(mib)


def graded_events(workdir: Path) -> Counter[str]:
    """How many times each submission was stored as graded, from the workers' JSON logs."""
    seen: Counter[str] = Counter()
    for log in workdir.glob("soak*.log"):
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "graded" and record.get("outcome") == "graded":
                seen[str(record.get("submission_id"))] += 1
    return seen


def leftovers() -> dict[str, list[str]]:
    """Sandbox containers and networks the soak's workers created that still exist (the
    engine may run other people's sandboxes: only those owned by a soak worker count)."""
    from runners.docker import LABEL, OWNER_LABEL, connect

    client = connect()
    containers = client.containers.list(all=True, filters={"label": LABEL})
    networks = client.networks.list(filters={"label": LABEL})

    def ours(labels: dict[str, str] | None) -> bool:
        return str((labels or {}).get(OWNER_LABEL, "")).startswith("soak")

    return {
        "containers": [str(c.name) for c in containers if ours(c.labels)],
        "networks": [str(n.name) for n in networks if ours(n.attrs.get("Labels"))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=30.0)
    parser.add_argument("--pace", type=float, default=0.3, help="seconds between uploads")
    parser.add_argument("--timeout", type=float, default=7200)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument(
        "--no-docker-restart",
        action="store_true",
        help="leave the Docker engine alone (when it runs other work)",
    )
    args = parser.parse_args()

    from runners.images import build

    build("python")
    workdir = Path(tempfile.mkdtemp(prefix="grader-soak-"))
    soak = Soak(workdir, 0)
    started = time.monotonic()
    ids: list[str] = []
    states: dict[str, dict[str, Any]] = {}
    try:
        url = soak.stack.start()
        for _ in range(args.workers):
            soak.start_worker()
        token = soak.stack.token()
        client = httpx.Client(
            base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        )
        soak.upload(client, args, ids)
        shown = [-1]

        def finished() -> bool:
            # The faults go on while the queue drains, not only while uploading.
            soak.maybe_kill(args.kill_every)
            soak.sample_memory()
            for sub_id in ids:
                if sub_id not in states:
                    try:
                        state = client.get(f"/v1/submissions/{sub_id}").json()
                    except httpx.HTTPError:
                        return False
                    if state.get("status") in ("graded", "error"):
                        states[sub_id] = state
            if len(states) != shown[0]:
                shown[0] = len(states)
                print(f"\r{len(states)}/{len(ids)} finished", end="", file=sys.stderr)
            return len(states) == len(ids)

        wait(finished, args.timeout, "every submission to finish")
        print(file=sys.stderr)
        time.sleep(40)  # one orphan grace period: the sweep's last round
        # Then stop: the live workers drain their pools as they stop, and what is left
        # after that was left behind (counted before, a live pool looked like a leak).
        soak.stack.stop()
        left = leftovers()
    finally:
        soak.stack.stop()

    counts = graded_events(workdir)
    statuses = Counter(s["status"] for s in states.values())
    twice = sorted(i for i, c in counts.items() if c > 1)
    never = sorted(i for i in ids if counts.get(i, 0) == 0 and states[i]["status"] == "graded")
    result = {
        "submissions": len(ids),
        "statuses": dict(statuses),
        "lost": args.submissions - len(ids),
        "graded_more_than_once": twice[:10],
        "graded_but_no_event": len(never),
        "left_behind": left,
        "faults": soak.events,
        "worker_rss_mib": {
            name: {"first": m[0], "middle": m[len(m) // 2], "last": m[-1], "max": max(m)}
            for name, m in soak.memory.items()
            if m
        },
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    print(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs in {workdir}", file=sys.stderr)
    ok = (
        statuses.get("graded", 0) == len(ids) == args.submissions
        and not twice
        and not left["containers"]
        and not left["networks"]
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
