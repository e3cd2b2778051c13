"""A candidate's service is shut in its run: no interface but the loopback and no route
(inspected, never tried: no traffic leaves this machine), no Docker socket, no tests, a
network namespace of its own per run (two runs at once never share a database), and
nothing of it outlives the run."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures_docker import TEST_PREFIX

from grader.challenge import Challenge, load_challenge
from grader.engine import grade
from grader.report import Report
from grader.submission import open_submission
from runners.docker import LABEL, DockerRunner, connect

pytestmark = [pytest.mark.docker, pytest.mark.security, pytest.mark.slow]

FIXTURES = Path(__file__).parent.parent / "service_challenges"

# The kv reference, preceded by probes whose findings go to the service's log (which the
# report keeps for reviewers), and a daemon that tries to outlive the run.
PROBE = '''\
import json, os, glob, socket, sys, time

import psycopg


def probes():
    found = {}
    with open("/proc/net/dev") as fh:
        found["interfaces"] = sorted(l.split(":")[0].strip() for l in fh.readlines()[2:])
    with open("/proc/net/route") as fh:
        found["routes"] = [l.split() for l in fh.readlines()[1:] if l.strip()]
    try:
        with open("/proc/net/ipv6_route") as fh:
            found["routes6"] = [l.split()[-1] for l in fh if l.split()[-1] != "lo"]
    except OSError:
        found["routes6"] = []
    found["docker_socket"] = [p for p in ("/var/run/docker.sock", "/run/docker.sock",
                                          "/var/run/docker", "/run/containerd")
                              if os.path.exists(p)]
    # The challenge's tests: their folder, or a hidden test file anywhere at all.
    seen = []
    for top in ("/grader", "/work", "/tmp", "/opt", "/usr", "/etc", "/var", "/home"):
        for dirpath, _dirs, files in os.walk(top):
            seen += [os.path.join(dirpath, f) for f in files
                     if f in ("test_kv.py", "test_kv_hidden.py")]
    found["tests_visible"] = os.path.exists("/grader/tests") or bool(seen)
    found["netns"] = os.readlink("/proc/self/ns/net")
    found["uid"] = os.getuid()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS marker (run text)")
        conn.execute("INSERT INTO marker VALUES (%s)", (os.environ["RUN_MARK"],))
        found["markers"] = [r[0] for r in conn.execute("SELECT run FROM marker")]
    return found


def outlive():
    """Double fork, a new session, ignore SIGTERM: try to stay after the run."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(1)
        os._exit(0)


if os.environ.get("RUN_MARK"):
    print("PROBE " + json.dumps(probes()), flush=True)
    outlive()
'''


@pytest.fixture(scope="module")
def kv() -> Challenge:
    return load_challenge(FIXTURES / "kv")


def _submission(tmp: Path, mark: str) -> Path:
    folder = tmp / f"sub-{mark}"
    folder.mkdir()
    app = (FIXTURES / "kv" / "solution" / "python" / "app.py").read_text()
    head = PROBE.replace('os.environ.get("RUN_MARK")', "True").replace(
        'os.environ["RUN_MARK"]', repr(mark)
    )
    (folder / "app.py").write_text(head + "\n" + app.replace("import psycopg\n", "", 1))
    return folder


def _probe(report: Report) -> dict[str, object]:
    assert report.service is not None
    for line in report.service.log.splitlines():
        if line.startswith("PROBE "):
            found: dict[str, object] = json.loads(line[len("PROBE ") :])
            return found
    raise AssertionError(f"no probe in the log: {report.service.log[-2000:]}")


def _leftovers() -> list[str]:
    client = connect()
    names = [
        c["Names"][0].lstrip("/") for c in client.api.containers(all=True, filters={"label": LABEL})
    ]
    return [n for n in names if n.startswith(TEST_PREFIX)]


def test_two_concurrent_runs_are_shut_in_and_leave_nothing(
    kv: Challenge, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"

    def run(mark: str) -> Report:
        folder = _submission(tmp_path, mark)
        work = tmp_path / f"work-{mark}"
        work.mkdir()
        sub = open_submission(folder, work, ignore=kv.ignores)
        return grade(kv, sub, docker_runner, cache_dir=cache)

    # The expected tests first (one reference run), then the two runs at once.
    run("warm-up")
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.map(run, ["run-a", "run-b"])
    pa, pb = _probe(a), _probe(b)
    for report, found, mark in ((a, pa, "run-a"), (b, pb, "run-b")):
        assert report.scores.correctness == 100, [t.message for t in report.tests]
        # The loopback only, and not one route: nothing to reach the host or the internet.
        assert found["interfaces"] == ["lo"]
        assert found["routes"] == [] and found["routes6"] == []
        assert found["docker_socket"] == []
        assert found["tests_visible"] is False, found["tests_visible"]
        assert found["uid"] == 10002
        # Its database holds what this run wrote, nothing of the other run's.
        assert found["markers"] == [mark]
    assert pa["netns"] != pb["netns"]
    # Every container of the runs is gone, the daemon that ignored SIGTERM with them.
    assert _leftovers() == []
