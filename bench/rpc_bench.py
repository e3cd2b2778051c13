"""What process isolation costs: remote calls vs in-process calls.

Starts the candidate supervisor (runners/harness/rpc_server.py) on a free loopback
port over a temporary sample submission, then measures, with the test-side client
(runners/harness/rpc_client.py), against the same module imported in-process:

1. one call of a module function (``solution.add(1, 2)``: attribute read + call,
   two round trips), one call through a name bound beforehand (one round trip),
   and one call that calls back into the test (``apply(fn, 1)`` with a test-side
   ``fn``: the call's round trip plus one from the candidate to the test side),
   median over 10,000 calls each; the callback call is also compared with the
   plain bound call of the same run;
2. the body of a typical test (object with state, method calls, an expected
   exception, a generator, a dataclass comparison), median over 1,000 runs;
3. a whole pytest run of 200 such tests, in a subprocess, both ways.

Run: ``.venv/bin/python bench/rpc_bench.py``. Prints the figures and the ratios.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "runners" / "harness"
CALLS = 10_000
BODIES = 1_000
PYTEST_TESTS = 200

SOLUTION = """
import dataclasses


def add(a, b):
    return a + b


def apply(fn, x):
    return fn(x)


class InsufficientFunds(ValueError):
    pass


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def deposit(self, amount):
        self.balance += amount
        return self.balance

    def withdraw(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(f"need {amount - self.balance} more")
        self.balance -= amount
        return self.balance


def countdown(n):
    while n > 0:
        yield n
        n -= 1


@dataclasses.dataclass
class Point:
    x: int
    y: int
"""

TEST_BODY = """
def typical(mod):
    acc = mod.Account("Ann", 100)
    assert acc.deposit(50) == 150
    assert acc.withdraw(30) == 120
    assert acc.balance == 120
    try:
        acc.withdraw(1000)
    except mod.InsufficientFunds as exc:
        assert "880 more" in str(exc)
    else:
        raise AssertionError("no exception")
    assert list(mod.countdown(3)) == [3, 2, 1]
    assert mod.Point(1, 2) == mod.Point(1, 2)
    assert mod.Point(1, 2).x == 1
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _median_ns(fn: Callable[[], object], n: int) -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(n):
        start = clock()
        fn()
        samples.append(clock() - start)
    return statistics.median(samples)


def _fmt(ns: float) -> str:
    return f"{ns / 1000:9.1f} µs"


def _pytest_run(root: Path, remote: bool, address: str) -> float:
    tests = root / "tests"
    tests.mkdir(exist_ok=True)
    # the body of typical(mod), already indented as a function body
    body = textwrap.dedent(TEST_BODY).strip("\n").split("\n", 1)[1]
    lines = ["import solution", ""]
    for i in range(PYTEST_TESTS):
        lines += [f"def test_{i}():", "    mod = solution", body, ""]
    (tests / "test_many.py").write_text("\n".join(lines), encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c"]
    cmd += [str(root / "pytest.ini"), str(tests)]
    if remote:
        env["PYTHONPATH"] = str(HARNESS)
        cmd += ["-p", "rpc_client", "--rpc-address", address, "--rpc-modules", "solution"]
    else:
        env["PYTHONPATH"] = str(root / "cand")
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or f"{PYTEST_TESTS} passed" not in proc.stdout:
        raise SystemExit(f"pytest run failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cand = root / "cand"
        cand.mkdir()
        (cand / "solution.py").write_text(textwrap.dedent(SOLUTION), encoding="utf-8")
        address = f"127.0.0.1:{_free_port()}"
        supervisor = subprocess.Popen(
            [sys.executable, "-I", str(HARNESS / "rpc_server.py"), "--listen", address]
            + ["--path", str(cand)],
            stdin=subprocess.DEVNULL,
        )
        try:
            return _bench(root, cand, address)
        finally:
            supervisor.send_signal(signal.SIGTERM)
            supervisor.wait(timeout=10)


def _bench(root: Path, cand: Path, address: str) -> int:
    sys.path.insert(0, str(HARNESS))
    import rpc_client

    spec = importlib.util.spec_from_file_location("solution_local", cand / "solution.py")
    assert spec is not None and spec.loader is not None
    local = importlib.util.module_from_spec(spec)
    sys.modules["solution_local"] = local  # dataclasses looks its module up
    spec.loader.exec_module(local)

    conn, finder = rpc_client.connect(address, ("solution",))
    try:
        import solution as remote  # type: ignore[import-not-found]

        assert remote.add(1, 2) == 3 and local.add(1, 2) == 3
        namespace: dict[str, object] = {}
        exec(textwrap.dedent(TEST_BODY), namespace)  # noqa: S102 - our own benchmark body
        typical = namespace["typical"]
        assert callable(typical)
        typical(local)
        typical(remote)

        before = conn.next_id
        typical(remote)
        trips = conn.next_id - before

        remote_add, local_add = remote.add, local.add
        remote_apply, local_apply = remote.apply, local.apply

        def double(x: int) -> int:
            return x * 2

        assert remote_apply(double, 21) == 42
        figures = {
            "module function call, mod.add(1, 2)": (
                _median_ns(lambda: local.add(1, 2), CALLS),
                _median_ns(lambda: remote.add(1, 2), CALLS),
            ),
            "bound function call, add(1, 2)": (
                _median_ns(lambda: local_add(1, 2), CALLS),
                _median_ns(lambda: remote_add(1, 2), CALLS),
            ),
            "call with a test callback, apply(fn, 1)": (
                _median_ns(lambda: local_apply(double, 1), CALLS),
                _median_ns(lambda: remote_apply(double, 1), CALLS),
            ),
            f"typical test body ({trips} round trips)": (
                _median_ns(lambda: typical(local), BODIES),
                _median_ns(lambda: typical(remote), BODIES),
            ),
        }
        ping = _median_ns(lambda: conn.call("ping"), CALLS)
    finally:
        finder.uninstall()
        conn.close()

    in_proc = _pytest_run(root, remote=False, address=address)
    isolated = _pytest_run(root, remote=True, address=address)

    print(f"python {sys.version.split()[0]}, median of {CALLS} calls / {BODIES} test bodies")
    print(f"{'':44} {'in-process':>12} {'isolated':>12} {'ratio':>8}")
    for name, (a, b) in figures.items():
        print(f"{name:44} {_fmt(a)} {_fmt(b)} {b / a:7.0f}x")
    print(f"{'bare round trip (ping)':44} {'':12} {_fmt(ping)}")
    plain = figures["bound function call, add(1, 2)"][1]
    callback = figures["call with a test callback, apply(fn, 1)"][1]
    print(
        f"{'callback call vs plain bound call (isolated)':44} {_fmt(plain)} {_fmt(callback)} "
        f"{callback / plain:7.1f}x"
    )
    print(
        f"{'pytest run of ' + str(PYTEST_TESTS) + ' such tests (wall, incl. startup)':44} "
        f"{in_proc:10.2f} s {isolated:10.2f} s {isolated / in_proc:7.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
