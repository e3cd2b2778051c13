"""Escapes through the reverse channel: test-side objects passed to candidate code.

Under process isolation a test may hand the candidate's code a lambda, a Mock, an
open file, a bound method or a generator; they stay in the tests' process and the
candidate's code reaches them by reference. Every attack here is the honest-but-
failing baseline of the Relay challenge plus code that, given any such reference,
tries to walk from it into the tests' process (test module globals, frames, pytest,
the Mock's own checks) to forge a pass, catching every refusal. None may raise the
score, and each refused attempt must be recorded in the JUnit XML the host reads
(a ``grader_tamper`` testcase property). A few cases are about robustness rather
than reach (recursion through nested callbacks, huge values, a callback used after
its call returned): graded, score 0, nothing left behind.
"""

from __future__ import annotations

import hashlib
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import (
    HIDDEN_MARKER,
    Graded,
    TrackingRunner,
    containers_left,
    grade_many,
    host_processes_of,
    outcomes,
    write_tree,
)

from grader.challenge import Challenge, load_challenge
from grader.engine import ExpectedTests, expected_tests, grade
from grader.submission import open_submission
from runners.base import Job, RunResult

pytestmark = [pytest.mark.security, pytest.mark.docker]

RELAY_SOLUTION = '''\
"""Functions that take callbacks and objects from the tests."""


def apply(fn, x):
    """Return fn(x)."""
    return fn(x)


def each(items, fn):
    """Call fn on every item; return how many."""
    for item in items:
        fn(item)
    return len(items)


def notify(sender, message):
    """Send the message."""
    sender.send(message)


def total(lines):
    """Sum of the numbers, one per line."""
    return sum(int(line) for line in lines)


def sort_by(items, key):
    """Sorted by key."""
    return sorted(items, key=key)
'''

RELAY_BASELINE = '''\
"""Honest, failing."""


def apply(fn, x):
    """Not fn(x)."""
    return None


def each(items, fn):
    """Calls nothing."""
    return 0


def notify(sender, message):
    """Sends nothing."""


def total(lines):
    """Not a sum."""
    return 0


def sort_by(items, key):
    """Not sorted."""
    return list(items)
'''

RELAY_PUBLIC = """\
from relay import apply


def test_public_apply():
    assert apply(lambda x: x * 2, 21) == 42
"""

RELAY_HIDDEN = f"""\
# {HIDDEN_MARKER}
import os
from unittest import mock

from relay import each, notify, sort_by, total

EXPECTED = 6
HERE = os.path.dirname(os.path.abspath(__file__))


def test_each():
    seen = []
    assert each([1, 2, 3], seen.append) == 3
    assert seen == [1, 2, 3]


def test_notify():
    sender = mock.Mock()
    notify(sender, "ping")
    sender.send.assert_called_once_with("ping")


def test_total_of_a_file():
    with open(os.path.join(HERE, "numbers.txt")) as fh:
        assert total(fh) == EXPECTED


def test_total_of_a_generator():
    assert total(str(n) for n in (1, 2, 3)) == EXPECTED


def test_sort_by():
    assert sort_by(["ccc", "a", "bb"], key=lambda s: len(s)) == ["a", "bb", "ccc"]
"""

RELAY_TOML = """\
title = "Relay"
language = "python"
isolation = "process"
[limits]
wall_seconds = 30
test_seconds = 5
memory_mb = 256
pids = 64
"""

# Calls the attack on every test-side object a function receives, then answers as
# the module below it would (the failing baseline, unless the case says otherwise).
WRAP = """

def _wrap(name):
    base = globals()[name]

    def wrapper(*args, **kwargs):
        for arg in list(args) + list(kwargs.values()):
            if type(arg).__name__ == "TestObject":
                try:
                    _attack(arg)
                except Exception as exc:
                    print("refused:", type(exc).__name__, exc, flush=True)
        return base(*args, **kwargs)

    return wrapper


for _name in ("apply", "each", "notify", "total", "sort_by"):
    globals()[_name] = _wrap(_name)
"""


@dataclass(frozen=True)
class ReverseAttack:
    """An attack through test-side objects, and what the XML must record."""

    attack: str  # the body of ``_attack(obj)``
    recorded: str | None  # what a grader_tamper property of each reached test names
    base: str = RELAY_BASELINE
    reaches: tuple[str, ...] | None = None  # the tests it can reach (None: all)

    def source(self) -> str:
        body = textwrap.indent(textwrap.dedent(self.attack).strip("\n"), "    ")
        return f"{self.base}\n\ndef _attack(obj):\n{body}\n{WRAP}"


RAW_PROTOCOL = r"""
import json, os, socket, struct, sys

fd = int(sys.argv[sys.argv.index("--fd") + 1])
qid = object.__getattribute__(obj, "_grader_qid")
sock = socket.socket(fileno=os.dup(fd))

def read(n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf

def ask(message):
    data = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)
    return json.loads(read(struct.unpack(">I", read(4))[0]))

replies = [
    ask({"i": 9001, "o": "getattr", "a": ["{0.__globals__}", "format"]}),
    ask({"i": 9002, "o": "call", "a": [["q", 999999], ["l", []], ["d", []]]}),
    ask({"i": 9003, "o": "getattr", "a": [["q", qid], "__globals__"]}),
    ask({"i": 9004, "o": "setattr", "a": [["q", qid], "__code__", 1]}),
]
sock.detach()
print("raw replies:", replies, flush=True)
"""

ATTACKS: dict[str, ReverseAttack] = {
    "function_globals_to_pytest": ReverseAttack(
        """
        g = obj.__globals__
        reports = g["__builtins__"]["__import__"]("_pytest.reports")
        reports.reports.TestReport.outcome = property(lambda s: "passed", lambda s, v: None)
        """,
        "'__globals__'",
    ),
    "format_string_walk": ReverseAttack(
        """
        leak = "{0.__globals__[EXPECTED]}".format(obj)
        print("expected:", leak)
        """,
        "'__globals__'",
    ),
    "generator_frame_walk": ReverseAttack(
        """
        frame = obj.gi_frame.f_back
        frame.f_globals["EXPECTED"] = 0
        """,
        "'gi_frame'",
    ),
    "mock_rewrites_its_own_check": ReverseAttack(
        """
        try:
            obj.configure_mock(**{"send.assert_called_once_with": lambda *a, **k: None})
        finally:
            obj.send.assert_called_once_with = lambda *a, **k: None
        """,
        "'assert_called_once_with'",
        # a Mock, and a generator (it has a public ``send`` too)
        reaches=("test_notify", "test_total_of_a_generator"),
    ),
    "mock_internals": ReverseAttack(
        """
        obj._mock_children["send"]._mock_call_args = (("ping",), {})
        """,
        "'_mock_children'",
    ),
    "bound_method_self": ReverseAttack(
        """
        obj.__self__.extend([1, 2, 3])
        """,
        "'__self__'",
    ),
    "object_dict_and_state": ReverseAttack(
        """
        try:
            vars(obj)
        finally:
            obj.__getstate__()
        """,
        "'__dict__'",
    ),
    "code_replacement": ReverseAttack(
        """
        obj.__code__ = (lambda *a: 42).__code__
        """,
        "'__code__'",
    ),
    "raw_protocol_forgery": ReverseAttack(RAW_PROTOCOL, "'__globals__'"),
    # A correct solution that also tries once per test (and catches the refusal):
    # the attempt alone must cost it the test.
    "caught_refusal_with_correct_answers": ReverseAttack(
        """
        obj._private
        """,
        "'_private'",
        base=RELAY_SOLUTION,
    ),
    # robustness: nothing to record, nothing to gain, nothing left behind
    "recursion_through_nested_callbacks": ReverseAttack(
        """
        class Evil:
            def __mul__(self, other):
                return obj(self)

            __rmul__ = __mul__
            __add__ = __mul__

        obj(Evil())
        """,
        None,
    ),
    "huge_values": ReverseAttack(
        """
        try:
            obj("x" * 20_000_000)
        finally:
            obj("x" * 9_000_000)
        """,
        None,
    ),
    "callback_used_after_its_call": ReverseAttack(
        """
        import threading

        def later():
            try:
                obj(1)
            except Exception as exc:
                print("late use:", exc, flush=True)

        threading.Timer(0.05, later).start()
        """,
        None,
    ),
}
BASELINES = {"honest_solution": RELAY_SOLUTION, "failing_baseline": RELAY_BASELINE}
TEST_COUNT = 6


class RecordingRunner(TrackingRunner):
    """The Docker runner that also keeps what each run returned (the verified XML)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results: list[RunResult] = []

    def run(self, job: Job) -> RunResult:
        result = super().run(job)
        self.results.append(result)
        return result


@dataclass
class Run:
    graded: Graded
    properties: dict[str, list[tuple[str, str]]]

    def tamper(self) -> dict[str, list[str]]:
        return {
            name: [v for k, v in props if k == "grader_tamper"]
            for name, props in self.properties.items()
        }


def _properties(result: RunResult | None) -> dict[str, list[tuple[str, str]]]:
    if result is None or not result.results:
        return {}
    root = ET.fromstring(result.results)
    return {
        case.get("name", ""): [
            (p.get("name", ""), p.get("value", "")) for p in case.findall("properties/property")
        ]
        for case in root.iter("testcase")
    }


def _grade(
    challenge: Challenge, expected: ExpectedTests, source: str, work: Path, label: str, cache: Path
) -> Run:
    runner = RecordingRunner()
    folder = write_tree(work / "upload", {"relay.py": source})
    try:
        sub = open_submission(folder, work)
        report = grade(challenge, sub, runner, expected=expected, cache_dir=cache, label=label)
        error = None
    except BaseException as exc:  # noqa: BLE001 - re-raised by the test that reads it
        report, error = None, exc
    ids = list(runner.container_ids)
    graded = Graded(
        report, error, label, ids, containers_left(runner, label, ids), host_processes_of(ids)
    )
    return Run(graded, _properties(runner.results[-1] if runner.results else None))


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, docker_runner: Any
) -> dict[str, Run]:
    wanted = set()
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.module is request.module and "case" in params:
            wanted.add(params["case"])
    base = tmp_path_factory.mktemp("reverse")
    cache = base / "cache"
    root = write_tree(
        base / "relay",
        {
            "challenge.toml": RELAY_TOML,
            "solution/relay.py": RELAY_SOLUTION,
            "starter/relay.py": RELAY_BASELINE,
            "tests/public/test_public.py": RELAY_PUBLIC,
            "tests/hidden/test_hidden.py": RELAY_HIDDEN,
            "tests/hidden/numbers.txt": "1\n2\n3\n",
        },
    )
    challenge = load_challenge(root)
    expected = expected_tests(challenge, docker_runner, cache_dir=cache)
    jobs: dict[str, Callable[[], Run]] = {}
    for case in sorted(wanted):
        source = ATTACKS[case].source() if case in ATTACKS else BASELINES[case]
        label = f"test-sec-rc-{hashlib.sha1(case.encode()).hexdigest()[:10]}"

        def job(case: str = case, source: str = source, label: str = label) -> Run:
            return _grade(challenge, expected, source, base / case, label, cache)

        jobs[case] = job
    return grade_many(jobs)


def _checked(run: Run) -> Any:
    report = run.graded.get()
    assert report.status == "graded", report.error
    assert len(report.tests) == TEST_COUNT, "every test the challenge defines is reported"
    assert run.graded.leftovers == [], f"containers left behind: {run.graded.leftovers}"
    assert run.graded.processes == [], f"processes left behind: {run.graded.processes}"
    assert HIDDEN_MARKER not in report.to_json(), "the candidate's container held the tests"
    return report


@pytest.mark.parametrize("case", sorted(BASELINES))
def test_baselines_score_as_expected(case: str, runs: dict[str, Run]) -> None:
    """The honest solution scores 100 and the failing baseline 0, and neither leaves
    a tamper record: the zeros below are the attacks' doing."""
    run = runs[case]
    report = _checked(run)
    assert report.scores.correctness == (100 if case == "honest_solution" else 0), outcomes(report)
    assert not any(run.tamper().values()), run.tamper()
    assert "tamper-suspect" not in {f.code for f in report.flags}, report.flags


@pytest.mark.parametrize("case", sorted(ATTACKS))
def test_reverse_channel_attack_gains_nothing_and_is_recorded(
    case: str, runs: dict[str, Run]
) -> None:
    spec = ATTACKS[case]
    run = runs[case]
    report = _checked(run)
    shown = (outcomes(report), run.tamper())
    assert report.scores.correctness == 0, shown
    tamper = run.tamper()
    if spec.recorded is None:
        assert not any(tamper.values()), shown
        return
    # Every test the attack reached recorded the attempt (every test hands the
    # candidate a test-side object); the others recorded nothing.
    reached = set(spec.reaches or outcomes(report))
    assert {name for name, values in tamper.items() if values} == reached, shown
    for name in reached:
        assert any(spec.recorded in v for v in tamper[name]), (name, tamper[name])
        assert outcomes(report)[name] == "failed", (name, shown)
    # The host turns each record into a tamper-suspect flag naming the test.
    flagged = [f.message for f in report.flags if f.code == "tamper-suspect"]
    for name in reached:
        assert any(name in m and spec.recorded in m for m in flagged), (name, flagged)
