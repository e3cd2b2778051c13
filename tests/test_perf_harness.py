"""The performance harness without Docker: the reference server's secret, the perf_*
operations, timed crossings, and the ``bench`` fixture through ``pytest_boot``.

Each scenario starts ``rpc_server.py`` supervisors as local subprocesses on free
loopback ports (the reference's with ``--secret-fd``, its secret through a pipe, as
the launcher gives it) and stops every process it started at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "runners" / "harness"
sys.path.insert(0, str(HARNESS))
import grader_contract as C  # noqa: E402 - the harness folder, as the sandbox has it
import grader_perf  # noqa: E402
import rpc_protocol as P  # noqa: E402
from rpc_connection import Connection  # noqa: E402
from rpc_errors import CandidateError, CrossingTimedOut, NotAuthenticated  # noqa: E402

pytestmark = pytest.mark.timeout(180)
TOKEN = "run-token-" + "7" * 22
SECRET = C.reference_secret(TOKEN)

SOLUTION = """
import time

CALLS = []


def work(xs):
    CALLS.append(len(xs))
    return sum(xs)


def calls():
    return len(CALLS)


def nap(seconds):
    time.sleep(seconds)
    return seconds
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Servers:
    """Supervisors started by one test (killed with their process groups at the end)."""

    root: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, files: dict[str, str], secret: str | None = None) -> str:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            (folder / rel).write_text(textwrap.dedent(text), encoding="utf-8")
        port = _free_port()
        argv = [sys.executable, "-I", str(HARNESS / "rpc_server.py")]
        argv += ["--listen", f"127.0.0.1:{port}", "--path", str(folder)]
        pass_fds: tuple[int, ...] = ()
        if secret is not None:
            r, w = os.pipe()
            os.write(w, secret.encode())
            os.close(w)
            argv += ["--secret-fd", str(r)]
            pass_fds = (r,)
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            argv, pass_fds=pass_fds, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        for fd in pass_fds:
            os.close(fd)
        self.procs.append(proc)
        _wait_for_port(port)
        return f"127.0.0.1:{port}"

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    box = Servers(tmp_path)
    try:
        yield box
    finally:
        box.stop()


def connect(address: str, secret: str | None = None) -> Connection:
    conn = Connection(address, (), 5.0, None, secret=secret)
    conn.connect()
    return conn


# --- the secret --------------------------------------------------------------------------


def test_a_client_holding_the_secret_is_served(servers: Servers) -> None:
    conn = connect(servers.start("ref", {"solution.py": SOLUTION}, SECRET), SECRET)
    module = conn.call("import", "solution")
    assert conn.call("call", conn.call("getattr", module, "work"), [[1, 2, 3]], {}) == 6
    conn.close()


def test_a_client_without_the_secret_gets_nothing(servers: Servers) -> None:
    address = servers.start("ref", {"solution.py": SOLUTION}, SECRET)
    with pytest.raises(CandidateError):
        conn = connect(address)  # it sends hello where the proof is due
        conn.call("import", "solution")
    with pytest.raises(NotAuthenticated):
        connect(address, "a guessed secret")


def test_refused_connections_never_disturb_the_client_being_served(servers: Servers) -> None:
    address = servers.start("ref", {"solution.py": SOLUTION}, SECRET)
    conn = connect(address, SECRET)
    work = conn.call("getattr", conn.call("import", "solution"), "work")
    conn.call("call", work, [[1]], {})
    pid = conn.worker_pid
    host, port = address.split(":")
    # What the candidate's code could do on the shared loopback: connect and say
    # nothing, speak the protocol without a proof, send garbage, flood.
    idle = [socket.create_connection((host, int(port))) for _ in range(40)]
    with socket.create_connection((host, int(port))) as raw:
        P.FrameReader(raw).read_frame()  # the challenge
        P.send_frame(raw, P.dumps({"i": 1, "o": "hello", "a": []}))
        assert raw.recv(100) == b""  # closed, nothing served
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"\xff" * 5000)
        time.sleep(0.2)
    # Still the same worker, with its state, and a newcomer holding the secret gets in.
    assert (
        conn.call("call", conn.call("getattr", conn.call("import", "solution"), "calls"), [], {})
        == 1
    )
    assert conn.worker_pid == pid
    for s in idle:
        s.close()
    second = connect(address, SECRET)
    assert second.call("import", "solution") is not None
    second.close()
    conn.close()


def test_a_process_that_took_the_port_cannot_pass_for_the_reference(tmp_path: Path) -> None:
    """An impostor on the reference's port sees proofs bound to its own nonces, never
    the secret, and the client refuses it for want of the server's proof."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def impostor() -> None:
        conn, _ = listener.accept()
        with conn:
            P.send_frame(conn, P.dumps({"auth": "challenge", "n": P.new_nonce()}))
            seen.append(conn.recv(4096))
            P.send_frame(conn, P.dumps({"auth": "ok", "p": "0" * 64}))
            time.sleep(0.2)

    thread = threading.Thread(target=impostor)
    thread.start()
    with pytest.raises(NotAuthenticated, match="did not prove"):
        connect(f"127.0.0.1:{listener.getsockname()[1]}", SECRET)
    thread.join(10)
    listener.close()
    assert seen and SECRET.encode() not in seen[0] and b"response" in seen[0]


def test_a_server_that_asks_for_nothing_is_refused(servers: Servers) -> None:
    with pytest.raises(NotAuthenticated):
        connect(servers.start("cand", {"solution.py": SOLUTION}), SECRET)


# --- perf operations and timed crossings -----------------------------------------------------


def test_perf_run_calls_the_function_k_times_and_says_only_that_it_is_done(
    servers: Servers,
) -> None:
    conn = connect(servers.start("cand", {"solution.py": SOLUTION}))
    module = conn.call("import", "solution")
    work, calls = conn.call("getattr", module, "work"), conn.call("getattr", module, "calls")
    staged = conn.call("perf_stage", [[1, 2, 3]], None)
    assert conn.call("perf_result", staged) is None
    result, seconds = conn.timed_call("perf_run", work, staged, 0, timeout=5)
    assert result is None and 0 < seconds < 1 and conn.call("call", calls, [], {}) == 0
    result, seconds = conn.timed_call("perf_run", work, staged, 25, timeout=5)
    assert result is None and conn.call("call", calls, [], {}) == 25
    assert conn.call("perf_result", staged) == 6
    with pytest.raises(TypeError, match="staged"):
        conn.call("perf_run", work, [[1]], 1)
    with pytest.raises(ValueError, match="count"):
        conn.call("perf_run", work, staged, -1)
    conn.close()


def test_a_timed_crossing_is_measured_here_and_abandoned_at_its_limit(
    servers: Servers,
) -> None:
    conn = connect(servers.start("cand", {"solution.py": SOLUTION}))
    nap = conn.call("getattr", conn.call("import", "solution"), "nap")
    staged = conn.call("perf_stage", [0.2], None)
    _, seconds = conn.timed_call("perf_run", nap, staged, 2, timeout=5)
    assert 0.4 <= seconds < 2.0
    pid = conn.worker_pid
    with pytest.raises(CrossingTimedOut) as info:
        conn.timed_call("perf_run", nap, staged, 20, timeout=0.5)
    assert 0.5 <= info.value.elapsed_s < 2.0
    assert conn.sock is None  # dropped: the supervisor stops that worker
    assert conn.call("import", "solution") is not None and conn.worker_pid != pid
    conn.close()


# --- the bench fixture, as a performance run uses it ---------------------------------------

FAST = """
def total(xs):
    return sum(xs)


def pairs(xs):
    return len(xs)


def answer(xs):
    return len(xs)


def lazy(xs):
    return sum(xs)


def stuck(xs):
    return 0
"""

SLOW = """
def total(xs):
    return sum(xs)


def pairs(xs):
    count = 0
    for a in xs:
        for b in xs:
            count += a == b
    return count


def answer(xs):
    return -1


def lazy(xs):
    import time

    time.sleep(0.02)
    return sum(xs)


def stuck(xs):
    import time

    time.sleep(60)
"""

PERF_TESTS = """
from solution import answer, lazy, pairs, stuck, total


def test_linear(bench):
    bench(total, make_args=lambda n: (list(range(n)),), sizes=[2_000, 4_000, 8_000],
          repeat=3, budget_s=8)


def test_quadratic(bench):
    bench(pairs, make_args=lambda n: (list(range(n)),), sizes=[100, 200, 400, 800],
          repeat=3, budget_s=8)


def test_lazy(bench):
    bench(lazy, make_args=lambda n: (list(range(n)),), sizes=[200_000, 400_000], repeat=3,
          budget_s=10)


def test_stuck(bench):
    bench(stuck, make_args=lambda n: ([0] * n,), sizes=[1, 2, 3], budget_s=0.5)


def test_wrong_answer(bench):
    bench(answer, make_args=lambda n: (list(range(n)),), sizes=[10, 20, 40], repeat=3)


def test_a_local_function_is_refused(bench):
    bench(len, make_args=lambda n: ([1] * n,), sizes=[1, 2, 3])


def test_arguments_must_be_data(bench):
    bench(total, make_args=lambda n: (lambda: n,), sizes=[1, 2, 3])


def test_once_per_test(bench):
    bench(total, make_args=lambda n: (list(range(n)),), sizes=[1, 2, 3], repeat=3)
    bench(total, make_args=lambda n: (list(range(n)),), sizes=[1, 2, 3], repeat=3)
"""


@dataclass
class Case:
    outcome: str
    message: str
    records: list[dict[str, object]]


def run_perf(servers: Servers, tmp_path: Path, cand: str, ref_secret: str) -> dict[str, Case]:
    cand_address = servers.start("cand", {"solution.py": cand})
    ref_address = servers.start("ref", {"solution.py": FAST}, ref_secret)
    tests = tmp_path / "perf"
    tests.mkdir()
    (tests / "test_perf.py").write_text(textwrap.dedent(PERF_TESTS), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    xml = tmp_path / "junit.xml"
    r, w = os.pipe()
    os.write(w, TOKEN.encode())
    os.close(w)
    argv = [sys.executable, "-I", str(HARNESS / "pytest_boot.py"), f"--token-fd={r}"]
    argv += [f"--perf-reference={ref_address}", "--", "-c", str(tmp_path / "pytest.ini")]
    argv += ["--rootdir", str(tmp_path), "-p", "no:cacheprovider", f"--junitxml={xml}", "-q"]
    argv += ["-p", "rpc_client", "--rpc-address", cand_address, "--rpc-modules", "solution"]
    argv += ["--perf-min-time=0.01", "--perf-stop-ratio=10", str(tests / "test_perf.py")]
    proc = subprocess.run(
        argv, pass_fds=(r,), capture_output=True, text=True, timeout=150, check=False
    )
    os.close(r)
    assert xml.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    cases: dict[str, Case] = {}
    for case in ET.parse(xml).iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome, message = child.tag, (child.get("message") or "") + (child.text or "")
        records = [
            json.loads(p.get("value") or "")
            for p in case.iter("property")
            if p.get("name") == C.PERF_PROPERTY
        ]
        cases[case.get("name") or ""] = Case(outcome, message, records)
    return cases


def test_the_scored_ratio_settles_when_its_pairs_agree() -> None:
    steady = [0.010, 0.011, 0.0105, 0.0098, 0.0102, 0.0101]
    assert grader_perf._settled([2 * x for x in steady], steady)
    # the same times with load falling on one side, then the other: not settled yet
    noisy = [1.0, 3.1, 0.7, 2.4, 0.9, 3.3]
    assert not grader_perf._settled(noisy, [1.0] * 6)
    # many such pairs: the median is known to within the bar again
    assert grader_perf._settled(noisy * 1000, [1.0] * 6000)
    assert not grader_perf._settled([1.0, 2.0], [1.0, 1.0])


@pytest.mark.slow
def test_bench_times_both_sides_and_records_what_it_saw(servers: Servers, tmp_path: Path) -> None:
    cases = run_perf(servers, tmp_path, SLOW, SECRET)
    linear = cases["test_linear"]
    assert linear.outcome == "passed", linear.message
    (rec,) = linear.records
    assert rec["kind"] == "bench" and rec["function"] == "solution.total"
    assert rec["check"] == "equal" and rec["stopped"] is None
    sizes = rec["sizes"]
    assert isinstance(sizes, list) and [e["n"] for e in sizes] == [2000, 4000, 8000]
    for entry in sizes:
        assert len(entry["c"]) == len(entry["r"])
        if entry["n"] < 8000:
            assert len(entry["c"]) == 3
        else:
            # the largest size gets twice the repetitions, and more until its ratio
            # settles (or the budget ends)
            n = len(entry["c"])
            assert 6 <= n <= grader_perf.MAX_PAIRS
            if n > 6:
                # it went on only while the ratio had not settled
                assert not grader_perf._settled(entry["c"][: n - 1], entry["r"][: n - 1])
        assert entry["k"] >= 1 and len(entry["empty"]) == 2
    # Quadratic against linear: abandoned once it takes 10× the reference's time.
    quadratic = cases["test_quadratic"]
    assert quadratic.outcome == "passed", quadratic.message
    (rec,) = quadratic.records
    stopped = rec["stopped"]
    assert isinstance(stopped, dict) and stopped["why"] == "slow"
    assert stopped["lower_bound_s"] > 5 * stopped["reference_s"]
    # Once a size's median ratio passes the stop ratio, no larger size is measured.
    (rec,) = cases["test_lazy"].records
    stopped = rec["stopped"]
    assert stopped["why"] == "ratio" and stopped["n"] == 200_000 and stopped["ratio"] > 10
    assert [e["n"] for e in rec["sizes"]] == [200_000] and len(rec["sizes"][0]["c"]) == 3
    # A call that outruns the case's budget is abandoned: the time it ran is a bound.
    (rec,) = cases["test_stuck"].records
    stopped = rec["stopped"]
    assert stopped["why"] == "slow" and stopped["n"] == 1 and stopped["lower_bound_s"] >= 5
    # A fast wrong answer is no performance.
    wrong = cases["test_wrong_answer"]
    assert wrong.outcome == "failure" and "differs from the reference" in wrong.message
    assert wrong.records[0]["check"] == "differs at n=10"
    assert "candidate's code" in cases["test_a_local_function_is_refused"].message
    assert "must return data" in cases["test_arguments_must_be_data"].message
    assert "one measurement per test" in cases["test_once_per_test"].message


@pytest.mark.slow
def test_bench_without_the_reference_secret_measures_nothing(
    servers: Servers, tmp_path: Path
) -> None:
    """A reference server holding another secret (say, an impostor's) is refused: the
    case errors and says the reference could not be measured."""
    cases = run_perf(servers, tmp_path, FAST, C.reference_secret("another token"))
    linear = cases["test_linear"]
    assert linear.outcome == "failure"
    assert "reference solution could not be measured" in linear.message
    assert "reference_error" in linear.records[0]


# --- the jobs and the challenge format ---------------------------------------------------


def _challenge(tmp_path: Path, toml: str, perf: bool = True) -> Path:
    root = tmp_path / "ch"
    files = {
        "challenge.toml": toml,
        "solution/work.py": "def total(xs):\n    return sum(xs)\n",
        "starter/work.py": "X = 0\n",
        "tests/hidden/test_h.py": (
            "from work import total\n\ndef test_t():\n    assert total([1])\n"
        ),
    }
    if perf:
        files["tests/perf/test_p.py"] = PERF_TESTS
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


PERF_TOML = (
    'title = "T"\nlanguage = "python"\n[scoring]\ncorrectness = 60\nstyle = 15\n'
    "complexity = 10\ndocs = 5\nperformance = 10\n"
)


def test_only_the_performance_job_has_a_reference(tmp_path: Path) -> None:
    from grader.challenge import load_challenge
    from runners.base import CANDIDATE_ROLE, REFERENCE_ROLE, TESTS_ROLE
    from runners.sandbox_io import build_archive

    ch = load_challenge(_challenge(tmp_path, PERF_TOML))
    assert ch.perf_files() == ["tests/perf/test_p.py"]
    assert ch.test_files() == ["tests/hidden/test_h.py"]  # perf cases are not tests
    sub = ch.solution_dir
    job = ch.language.job(ch, sub, ("work.py",), token=TOKEN, label="t")
    assert set(job.commands) == {TESTS_ROLE, CANDIDATE_ROLE} and job.reference_dir is None
    assert job.pin_together == ()
    assert not any("perf" in a for a in job.commands[TESTS_ROLE].argv)
    perf = ch.language.perf_job(ch, sub, ("work.py",), token=TOKEN, label="t")
    assert set(perf.commands) == {TESTS_ROLE, CANDIDATE_ROLE, REFERENCE_ROLE}
    assert perf.pin_together == (CANDIDATE_ROLE, REFERENCE_ROLE)
    ref = perf.commands[REFERENCE_ROLE]
    assert ref.token and not ref.results and "--secret-fd" in ref.argv
    assert not perf.commands[CANDIDATE_ROLE].token
    tests_argv = perf.commands[TESTS_ROLE].argv
    assert f"{C.ROOT_PLACEHOLDER}/tests/perf/test_p.py" in tests_argv
    assert "--perf-stop-ratio=20.0" in tests_argv  # four times zero_at_ratio
    assert not any(a.endswith("test_h.py") for a in tests_argv)
    # The reference's container holds the reference and nothing of the tests.
    import io
    import tarfile

    archive = build_archive(perf, REFERENCE_ROLE, 10002, 1, 99)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
        member = tar.extractfile("grader/job.json")
        assert member is not None
        doc = json.loads(member.read())
    assert "grader/submission/work.py" in names
    assert not any(n.startswith("grader/tests") for n in names)
    assert doc["token"] is True and doc["results"] is False and doc["reference_port"] == 99


@pytest.mark.parametrize(
    ("toml", "perf", "expected"),
    [
        (PERF_TOML, False, "scoring.performance is 10 but"),
        (
            'title = "T"\nlanguage = "python"\nisolation = "in-process"\n',
            True,
            'need isolation = "process"',
        ),
        (
            'title = "T"\nlanguage = "python"\n[performance]\n'
            "full_at_ratio = 3\nzero_at_ratio = 2\n",
            True,
            "zero_at_ratio must be larger than full_at_ratio",
        ),
    ],
)
def test_performance_settings_are_checked(
    tmp_path: Path, toml: str, perf: bool, expected: str
) -> None:
    from grader.challenge import load_challenge
    from grader.errors import ChallengeError

    with pytest.raises(ChallengeError, match="challenge.toml") as info:
        load_challenge(_challenge(tmp_path, toml, perf))
    assert expected in str(info.value)


def test_perf_cases_are_python_only(tmp_path: Path) -> None:
    from grader.challenge import load_challenge
    from grader.errors import ChallengeError

    root = tmp_path / "go"
    for rel, text in {
        "challenge.toml": 'title = "T"\nlanguage = "go"\n',
        "solution/work.go": "package work\n",
        "starter/work.go": "package work\n",
        "tests/hidden/work_test.go": "package work\n",
        "tests/perf/work_perf_test.go": "package work\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with pytest.raises(ChallengeError, match="not available for go"):
        load_challenge(root)


def test_pinned_roles_share_as_many_cpus_as_the_limit_needs() -> None:
    import dataclasses

    from runners.base import CANDIDATE_ROLE, Job, RunLimits
    from runners.docker import ContainerSpec, DockerRunner

    class Client:
        def __init__(self, cpus: int) -> None:
            self.cpus = cpus

        def info(self) -> dict[str, int]:
            return {"NCPU": self.cpus}

    job = Job(image="python", submission_dir=Path("."), tests_root=Path("."), commands={},
              pin_together=(CANDIDATE_ROLE,))  # fmt: skip
    for _ in range(20):
        one = DockerRunner(client=Client(4))._cpuset(job)  # type: ignore[arg-type]
        assert one in {"0", "1", "2", "3"}
    two = dataclasses.replace(job, limits=RunLimits(cpus=1.5))
    assert DockerRunner(client=Client(3))._cpuset(two) in {"0-1", "1-2"}  # type: ignore[arg-type]
    assert DockerRunner(client=Client(1))._cpuset(two) is None  # type: ignore[arg-type]
    spec = ContainerSpec(image="i", role="r", uid=1, label="l", memory_mb=64, cpus=1, pids=8,
                         disk_mb=8, cpuset="1")  # fmt: skip
    assert spec.create_kwargs()["cpuset_cpus"] == "1"
    assert "cpuset_cpus" not in dataclasses.replace(spec, cpuset=None).create_kwargs()
