"""A service challenge's performance run, in Docker (grader/performance.py with
grader/service.py's ``perf_job`` and the runner's two-network layout): the shipped
orders-api case against its reference and its known-slow variant, what the run leaves
behind, and what the candidate's container can reach."""

from __future__ import annotations

import json
import shutil
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader import performance, scoring
from grader.challenge import Challenge, load_challenge
from grader.report import PerfCase, PerformanceSection
from grader.submission import open_submission
from runners.base import Job, RunResult
from runners.docker import LABEL, DockerRunner
from runners.harness import grader_contract as C

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
CHALLENGE = ROOT / "challenges" / "orders-api"
SLOW = ROOT / "tests" / "perf_variants" / "orders-api" / "slow"
CASE = (
    "tests/perf/test_perf_orders.py::test_a_customers_second_page_of_orders_under_concurrent_reads"
)

# Put into the reference's app.py (before it serves): at start-up, the candidate's side
# looks for the reference by name, then at the first hosts of its own network's block,
# of the blocks around it (Docker hands out the run's two networks one after the other)
# and of every block in Docker's default address pools, and prints what it probed, what
# answered and the routes it has.
PROBE = """
def _grader_probe():
    import errno, ipaddress, json as _json, selectors, socket as _socket, struct, time

    def reach(targets, reached):
        # Non-blocking connects, many at once: the internal network's default route
        # leads nowhere, so each attempt outside its own block waits for the timeout.
        sel = selectors.DefaultSelector()
        for ip, port in targets:
            sock = _socket.socket()
            sock.setblocking(False)
            if sock.connect_ex((ip, port)) in (0, errno.EINPROGRESS):
                sel.register(sock, selectors.EVENT_WRITE, (ip, port))
            else:
                sock.close()
        deadline = time.monotonic() + 1.5
        while sel.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(timeout=left):
                if key.fileobj.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR) == 0:
                    reached.append(list(key.data))
                sel.unregister(key.fileobj)
                key.fileobj.close()
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()

    # First, and it gives the reference's container time to listen: an unknown name
    # takes the resolver's whole timeout (about 10 s).
    try:
        print("GRADER-PROBE-NAME " + _socket.gethostbyname("reference"), flush=True)
    except OSError as exc:
        print(f"GRADER-PROBE-NAME none ({exc})", flush=True)
    routes = []
    for line in open("/proc/net/route").read().splitlines()[1:]:
        parts = line.split()
        routes.append([parts[1], parts[7]])
    dest, mask = next(r for r in routes if r[0] != "00000000")
    net = ipaddress.ip_network((struct.pack("<I", int(dest, 16)), bin(int(mask, 16)).count("1")))
    # Its own block and four on each side, then every block of Docker's default address
    # pools (172.17-31.0.0/16, 192.168.0.0/16 in /20s): the run's other network is in one
    # of them, wherever the engine happened to put it.
    bases = [int(net.network_address) + k * net.num_addresses for k in range(-4, 5)]
    pools = [f"172.{b}.0.0" for b in range(17, 32)]
    pools += [f"192.168.{b}.0" for b in range(0, 256, 16)]
    bases += [int(ipaddress.ip_address(p)) for p in pools]
    probed, reached, targets = [], [], []
    for base in dict.fromkeys(bases):
        for host in range(1, 7):
            ip = str(ipaddress.ip_address(base + host))
            probed.append(ip)
            targets += [(ip, port) for port in (8080, 7412, 5432)]
    for i in range(0, len(targets), 128):  # (a sandbox may open 256 files)
        reach(targets[i : i + 128], reached)
    found = {"routes": routes, "probed": probed, "reached": reached}
    print("GRADER-PROBE " + _json.dumps(found), flush=True)


_grader_probe()  # (before the service listens: the run waits for it to be ready)
"""


@dataclass
class Recording:
    """The Docker runner, keeping each job and its result (to read the service's log)."""

    inner: DockerRunner
    runs: list[tuple[Job, RunResult]] = field(default_factory=list)
    name: str = "docker"

    def run(self, job: Job) -> RunResult:
        result = self.inner.run(job)
        self.runs.append((job, result))
        return result

    def self_test(self) -> str:
        return self.inner.self_test()


@pytest.fixture(scope="module")
def orders() -> Challenge:
    return load_challenge(CHALLENGE).for_language("python")


def measure(
    challenge: Challenge, folder: Path, runner: Recording, tmp_path: Path, label: str
) -> tuple[PerformanceSection, float]:
    work = tmp_path / f"work-{folder.name}"
    work.mkdir()
    sub = open_submission(folder, work, ignore=challenge.ignores)
    section, flags = performance.run_performance(
        challenge, sub, runner, label=label, progress=lambda _: None
    )
    assert not flags, flags
    score, _ = scoring.performance_score(section)
    return section, score


def the_case(section: PerformanceSection) -> PerfCase:
    assert section.measured, [(c.outcome, c.message) for c in section.cases]
    assert [c.id for c in section.cases] == [CASE]
    case = section.cases[0]
    assert case.outcome == "measured" and case.kind == "load", case
    assert case.ratio is not None and case.repetitions >= 1
    assert case.candidate_load is not None and case.reference_load is not None
    return case


def _in_routes(ip: str, routes: list[list[str]]) -> bool:
    """``ip`` lies in one of the kernel's routes (``/proc/net/route``: little-endian hex)."""
    (addr,) = struct.unpack("<I", socket.inet_aton(ip))
    return any(addr & int(mask, 16) == int(dest, 16) for dest, mask in routes)


def test_the_reference_against_itself_scores_near_1_and_cannot_reach_the_other_side(
    orders: Challenge, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "probing"
    shutil.copytree(orders.solution_dir, folder)
    app = folder / "app.py"
    head, main, tail = app.read_text().partition('if __name__ == "__main__":')
    app.write_text(head + PROBE.lstrip("\n") + "\n\n" + main + tail)
    runner = Recording(docker_runner)
    label = f"{docker_runner.name_prefix}-svcperf"
    section, score = measure(orders, folder, runner, tmp_path, label)
    case = the_case(section)
    assert case.ratio is not None and 0.5 <= case.ratio <= 2.0, case.ratios
    assert score >= 60, (score, case.ratios)
    for side in (case.candidate_load, case.reference_load):
        assert side is not None and side.error_rate == 0.0 and side.throughput_rps > 0
        assert side.peak_memory_mb is not None and 10 < side.peak_memory_mb < 384

    # What the candidate's side saw: the reference's address (the tests container's,
    # as it proved it) among those it probed, and none of its ports reached; no name
    # for it; whatever answered lies on its own network.
    [(job, result)] = runner.runs
    log = str((result.service or {}).get("log", ""))
    lines = [x for x in log.splitlines() if x.startswith("GRADER-PROBE ")]
    assert len(lines) == 1, log[-2000:]  # (the probe finished within the run)
    line = lines[0]
    found = json.loads(line.removeprefix("GRADER-PROBE "))
    reference = json.loads(result.extra[C.SERVICE_FILE])["reference_address"]
    assert reference in found["probed"], (reference, found["probed"])
    assert not [hit for hit in found["reached"] if hit[0] == reference], found
    own = [r for r in found["routes"] if r[0] != "00000000"]
    assert all(_in_routes(ip, own) for ip, _ in found["reached"]), found
    # (Its own launcher's control port answers: the probe does reach what it can.)
    assert [ip for ip, port in found["reached"] if port == 7412], found
    assert "GRADER-PROBE-NAME none" in log, log[-2000:]

    # Everything the run created is gone: containers and both networks.
    client = docker_runner.client
    flt = {"label": f"{LABEL}={label}-perf"}
    assert client.containers.list(all=True, filters=flt) == []
    assert client.networks.list(filters=flt) == []


def test_a_slow_variant_scores_lower_than_the_reference(
    orders: Challenge, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    runner = Recording(docker_runner)
    section, score = measure(orders, SLOW, runner, tmp_path, f"{docker_runner.name_prefix}-slow")
    case = the_case(section)
    assert case.ratio is not None and case.ratio >= 2.5, case.ratios
    assert score <= 40, (score, case.ratios)
