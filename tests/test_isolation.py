"""Process isolation on the real Docker runner: ordinary test styles keep working,
the candidate's crashes fail only the test in progress, the report names the mode."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from grader.challenge import load_challenge
from grader.engine import grade
from grader.submission import open_submission
from runners.base import Job, RunResult
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker]

SOLUTION = '''
"""A small bank: state, custom errors, generators, dataclasses, context managers."""
from dataclasses import dataclass


class InsufficientFunds(ValueError):
    """Raised when a withdrawal exceeds the balance."""


@dataclass(frozen=True)
class Entry:
    """One ledger line."""

    kind: str
    amount: int


class Account:
    """An account with a ledger."""

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        self.ledger = []

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError(f"deposit must be positive, got {amount}")
        self.balance += amount
        self.ledger.append(Entry("deposit", amount))
        return self.balance

    def withdraw(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(f"cannot withdraw {amount}: balance is {self.balance}")
        self.balance -= amount
        self.ledger.append(Entry("withdraw", amount))
        return self.balance

    def history(self):
        yield from self.ledger

    def __len__(self):
        return len(self.ledger)

    def __enter__(self):
        self._saved = (self.balance, list(self.ledger))
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.balance, self.ledger = self._saved
        return False


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def crash():
    import os
    os._exit(1)
'''

TESTS = """
import unittest
import pytest
from bank import Account, Entry, InsufficientFunds, countdown, crash


def test_function_returns_data():
    acc = Account("ada")
    assert acc.deposit(10) == 10
    assert acc.balance == 10 and acc.owner == "ada"


class TestStateful:
    def test_state_persists_between_calls(self):
        acc = Account("bob", 5)
        acc.deposit(5)
        acc.withdraw(3)
        assert acc.balance == 7
        assert len(acc) == 2

    def test_custom_exception_with_message(self):
        acc = Account("cy", 1)
        with pytest.raises(InsufficientFunds, match="balance is 1"):
            acc.withdraw(5)

    def test_custom_exception_is_also_its_builtin_base(self):
        with pytest.raises(ValueError):
            Account("d").withdraw(1)


def test_builtin_exception_type_and_message():
    with pytest.raises(ValueError, match="must be positive, got -1"):
        Account("e").deposit(-1)


def test_generator_and_iteration():
    assert list(countdown(3)) == [3, 2, 1]
    acc = Account("f")
    acc.deposit(1)
    acc.deposit(2)
    assert [e.amount for e in acc.history()] == [1, 2]


def test_dataclasses_compare_remote_to_remote():
    acc = Account("g")
    acc.deposit(4)
    first = next(iter(acc.history()))
    assert first == Entry("deposit", 4)
    assert first.kind == "deposit" and first.amount == 4


def test_context_manager_rolls_back():
    acc = Account("h", 10)
    with pytest.raises(InsufficientFunds):
        with acc:
            acc.withdraw(4)
            acc.withdraw(100)
    assert acc.balance == 10


def test_crash_fails_only_this_test():
    crash()


def test_next_test_runs_after_a_crash():
    assert Account("i", 2).deposit(1) == 3


class TestUnittestStyle(unittest.TestCase):
    def test_assert_raises(self):
        with self.assertRaises(InsufficientFunds):
            Account("j").withdraw(1)

    def test_assert_equal(self):
        self.assertEqual(Account("k", 1).deposit(1), 2)
"""


def make(tmp_path: Path, isolation: str) -> Path:
    root = tmp_path / f"bank-{isolation}"
    tests = TESTS
    if isolation == "in-process":
        # In one process a crash takes the test runner down: nothing to isolate.
        tests = tests.replace(
            "def test_crash_fails_only_this_test():\n    crash()",
            "def test_crash_fails_only_this_test():\n    pass",
        )
    files = {
        "challenge.toml": f'title = "Bank"\nlanguage = "python"\nisolation = "{isolation}"\n'
        "[limits]\nwall_seconds = 60\ntest_seconds = 5\n",
        "solution/bank.py": SOLUTION,
        "starter/bank.py": "",
        "tests/hidden/test_bank.py": tests,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


@pytest.mark.parametrize("isolation", ["process", "in-process"])
def test_ordinary_test_styles_pass_in_both_modes(
    isolation: str, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    ch = load_challenge(make(tmp_path, isolation))
    report = grade(
        ch, open_submission(ch.solution_dir, tmp_path), docker_runner, cache_dir=tmp_path / "cache"
    )
    outcomes = {t.id.split("::", 1)[1]: t.outcome for t in report.tests}
    crashed = outcomes.pop("test_crash_fails_only_this_test")
    assert set(outcomes.values()) == {"passed"}, outcomes
    assert len(outcomes) == 11
    assert report.run is not None and report.run.isolation == isolation
    if isolation == "process":
        # The candidate's process died; the test side survived and reported it.
        assert crashed == "failed"
        msg = next(
            t.message for t in report.tests if t.id.endswith("test_crash_fails_only_this_test")
        )
        assert msg and "candidate" in msg.lower()
    else:
        assert crashed == "passed"


def test_process_mode_candidate_never_holds_the_tests(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    root = make(tmp_path, "process")
    (root / "solution" / "bank.py").write_text(
        textwrap.dedent(SOLUTION)
        + textwrap.dedent("""
        import os
        SEEN = sorted(os.listdir("/grader"))
        HAS_TESTS = os.path.exists("/grader/tests")
        UID = os.getuid()
    """)
    )
    (root / "tests" / "hidden" / "test_probe.py").write_text(
        textwrap.dedent("""
        import os
        import bank

        def test_candidate_side_has_no_tests():
            assert bank.HAS_TESTS is False
            assert "tests" not in bank.SEEN

        def test_two_different_users():
            assert bank.UID != os.getuid()
            assert 0 not in (bank.UID, os.getuid())
    """)
    )
    ch = load_challenge(root)
    report = grade(
        ch, open_submission(ch.solution_dir, tmp_path), docker_runner, cache_dir=tmp_path / "cache"
    )
    probe = {t.id.split("::", 1)[1]: t.outcome for t in report.tests if "test_probe" in t.id}
    assert probe == {
        "test_candidate_side_has_no_tests": "passed",
        "test_two_different_users": "passed",
    }


@pytest.mark.parametrize("isolation", ["process", "in-process"])
def test_tests_can_import_helpers_shipped_beside_them(
    isolation: str, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    root = make(tmp_path, isolation)
    (root / "tests" / "hidden" / "bank_cases.py").write_text("DEPOSITS = [1, 2, 3]\n")
    (root / "tests" / "test_shared.py").write_text("")  # not collected: outside public/hidden
    (root / "tests" / "hidden" / "test_helpers.py").write_text(
        textwrap.dedent("""
        from bank import Account
        from bank_cases import DEPOSITS

        def test_uses_a_helper_module():
            acc = Account("z")
            for amount in DEPOSITS:
                acc.deposit(amount)
            assert acc.balance == 6
    """)
    )
    ch = load_challenge(root)
    report = grade(
        ch, open_submission(ch.solution_dir, tmp_path), docker_runner, cache_dir=tmp_path / "cache"
    )
    helper = next(t for t in report.tests if t.id.endswith("test_uses_a_helper_module"))
    assert helper.outcome == "passed", helper.message


# --- test-side objects passed to the candidate's code (process isolation) -----------------

EVENTS_SOLUTION = '''
"""Events and pipelines: the usual shapes of code that takes functions."""
import functools


class Signal:
    """Calls its handlers when something happens."""

    def __init__(self):
        self.handlers = []

    def connect(self, handler):
        self.handlers.append(handler)

    def emit(self, *args):
        return [handler(*args) for handler in self.handlers]


class Cell:
    """A value that tells its observers when it changes."""

    def __init__(self, value):
        self._value = value
        self._observers = []

    def observe(self, callback):
        self._observers.append(callback)

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, new):
        old, self._value = self._value, new
        for callback in self._observers:
            callback(old, new)


def pipeline(items, *steps):
    """Apply each step to each item."""
    for step in steps:
        items = [step(item) for item in items]
    return items


def keep(items, predicate):
    return [item for item in items if predicate(item)]


def rank(words, key):
    return sorted(words, key=key, reverse=True)


def totals(lines):
    """Sum the numbers on each line of a file-like object."""
    return [sum(int(n) for n in line.split()) for line in lines if line.strip()]


def deliver(mailer, to, body):
    if not to:
        raise ValueError("no recipient")
    mailer.send(to=to, body=body.strip())
    return True


def report(rows, out):
    for name, value in rows:
        out.write(f"{name}={value}\\n")


def retrying(times):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            for attempt in range(times):
                try:
                    return fn(*args)
                except ConnectionError:
                    if attempt == times - 1:
                        raise
        return wrapper
    return decorate


def fetch_price(item):
    return lookup(item) * 2


def lookup(item):
    return {"tea": 3}[item]
'''

EVENTS_TESTS = """
import io
import os
from unittest import mock

import pytest

import events
from events import Cell, Signal, keep, pipeline, rank, report, totals

HERE = os.path.dirname(os.path.abspath(__file__))


def test_signal_calls_every_handler():
    received = []
    signal = Signal()
    signal.connect(received.append)
    signal.connect(lambda x: x * 10)
    assert signal.emit(4) == [None, 40]
    assert received == [4]


def test_observer_called_on_change():
    changes = []

    def on_change(old, new):
        changes.append((old, new))

    cell = Cell(1)
    cell.observe(on_change)
    cell.value = 5
    assert changes == [(1, 5)]


def test_mock_observer():
    observer = mock.Mock()
    cell = Cell("a")
    cell.observe(observer)
    cell.value = "b"
    observer.assert_called_once_with("a", "b")


def test_pipeline_and_filter():
    assert pipeline([1, 2, 3], lambda x: x + 1, str) == ["2", "3", "4"]

    def is_even(n):
        return n % 2 == 0

    assert keep(range(7), is_even) == [0, 2, 4, 6]


def test_sorted_with_key():
    assert rank(["bb", "a", "ccc"], key=len) == ["ccc", "bb", "a"]


def test_reads_a_data_file_beside_the_tests():
    with open(os.path.join(HERE, "numbers.txt")) as fh:
        assert totals(fh) == [6, 9]


def test_mailer_mock_and_errors():
    mailer = mock.MagicMock()
    assert events.deliver(mailer, "ann@example.com", " hi ") is True
    mailer.send.assert_called_once_with(to="ann@example.com", body="hi")
    with pytest.raises(ValueError, match="no recipient"):
        events.deliver(mailer, "", "x")


def test_writes_to_a_stream_of_the_test():
    out = io.StringIO()
    report([("a", 1), ("b", 2)], out)
    assert out.getvalue() == "a=1\\nb=2\\n"


class FlakyServer:
    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def get(self, key):
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("down")
        return key.upper()


def test_decorator_retries_a_bound_method():
    server = FlakyServer(failures=2)
    get = events.retrying(3)(server.get)
    assert get("x") == "X"
    assert server.calls == 3
    assert get.__name__ == "get"
    with pytest.raises(ConnectionError):
        events.retrying(2)(FlakyServer(failures=5).get)("y")


def test_monkeypatch_a_candidate_helper(monkeypatch):
    monkeypatch.setattr(events, "lookup", lambda item: 100)
    assert events.fetch_price("anything") == 200


def test_patch_restored_after_the_previous_test():
    assert events.fetch_price("tea") == 6
    with mock.patch("events.lookup", return_value=7) as fake:
        assert events.fetch_price("tea") == 14
    fake.assert_called_once_with("tea")
"""

WRONG_EVENTS = (
    EVENTS_SOLUTION.replace("callback(old, new)", "callback(new, old)")
    .replace("key=key, reverse=True", "key=key")
    .replace("body=body.strip()", "body=body")
    .replace("if predicate(item)", "if not predicate(item)")
    .replace("for attempt in range(times):", "for attempt in range(1):")
    .replace("{name}={value}", "{name}:{value}")
    .replace("return [handler(*args) for handler in self.handlers]", "return []")
)


def _events_challenge(tmp_path: Path) -> Path:
    root = tmp_path / "events"
    files = {
        "challenge.toml": 'title = "Events"\nlanguage = "python"\nisolation = "process"\n'
        "[limits]\nwall_seconds = 60\ntest_seconds = 5\n",
        "solution/events.py": EVENTS_SOLUTION,
        "starter/events.py": "",
        "tests/hidden/test_events.py": EVENTS_TESTS,
        "tests/hidden/numbers.txt": "1 2 3\n\n4 5\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def test_test_side_objects_work_under_process_isolation(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    """Callbacks, Mocks, an open file of the tests' folder, streams, bound methods and
    monkeypatched candidate globals behave as in one process: all pass against the
    reference, and the assertions that check the candidate's work fail against a
    wrong solution."""
    ch = load_challenge(_events_challenge(tmp_path))
    good = grade(
        ch, open_submission(ch.solution_dir, tmp_path), docker_runner, cache_dir=tmp_path / "c"
    )
    outcomes = {t.id.split("::", 1)[1]: (t.outcome, t.message) for t in good.tests}
    assert {o for o, _ in outcomes.values()} == {"passed"}, outcomes
    assert len(outcomes) == EVENTS_TESTS.count("\ndef test_")
    assert good.scores.correctness == 100
    assert not good.flags

    wrong_dir = tmp_path / "wrong"
    wrong_dir.mkdir()
    (wrong_dir / "events.py").write_text(textwrap.dedent(WRONG_EVENTS))
    bad = grade(ch, open_submission(wrong_dir, tmp_path), docker_runner, cache_dir=tmp_path / "c")
    failed = {t.id.split("::", 1)[1] for t in bad.tests if t.outcome == "failed"}
    assert failed == {
        "test_signal_calls_every_handler",
        "test_observer_called_on_change",
        "test_mock_observer",
        "test_pipeline_and_filter",
        "test_sorted_with_key",
        "test_mailer_mock_and_errors",
        "test_writes_to_a_stream_of_the_test",
        "test_decorator_retries_a_bound_method",
    }, [(t.id, t.outcome, (t.message or "")[:300]) for t in bad.tests]


# --- tests that cannot work across processes say why ---------------------------------------

CONFIG_SOLUTION = '''
"""Reads settings from files and the environment, and prints a greeting."""
import os


def load(path):
    with open(path) as fh:
        return fh.read().strip()


def mode():
    return os.environ.get("APP_MODE", "prod")


def greet(name):
    print(f"hello {name}")
'''

CONFIG_TESTS = """
import os
from unittest import mock

import config

HERE = os.path.dirname(os.path.abspath(__file__))


def test_patched_open():
    with mock.patch("builtins.open", mock.mock_open(read_data="debug=1")):
        assert config.load("/etc/app/settings.ini") == "debug=1"


def test_file_beside_the_tests():
    assert config.load(os.path.join(HERE, "settings.ini")) == "debug=0"


def test_tmp_path_file(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text("debug=2")
    assert config.load(path) == "debug=2"


def test_setenv(monkeypatch):
    monkeypatch.setenv("APP_MODE", "test")
    assert config.mode() == "test"


def test_capsys(capsys):
    config.greet("ann")
    assert capsys.readouterr().out == "hello ann\\n"


def test_portable():
    assert config.mode() == "prod"
"""

CONFIG_CAUSES = {
    "test_patched_open": "patches builtins.open",
    "test_file_beside_the_tests": "settings.ini, a file of the test process",
    "test_tmp_path_file": "settings.ini, a file of the test process",
    "test_setenv": "the environment variable APP_MODE",
    "test_capsys": "with capsys",
}


class RecordingRunner(DockerRunner):
    """The Docker runner; it keeps every RunResult (the verified JUnit XML)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results: list[RunResult] = []

    def run(self, job: Job) -> RunResult:
        result = super().run(job)
        self.results.append(result)
        return result


def _case_properties(xml: bytes) -> dict[str, list[tuple[str, str]]]:
    root = ET.fromstring(xml)
    return {
        case.get("name", ""): [
            (p.get("name", ""), p.get("value", "")) for p in case.findall("properties/property")
        ]
        for case in root.iter("testcase")
    }


@pytest.mark.parametrize("isolation", ["process", "in-process"])
def test_tests_that_need_one_process_say_why_they_fail(
    isolation: str, docker_runner: DockerRunner, tmp_path: Path
) -> None:
    """Patching open(), paths of the tests' container, setenv and capsys cannot work
    across processes: under process isolation those tests fail, each with a
    ``grader_portability`` property (cause and fix) in the XML the host reads and in
    its message; in one process the same tests pass."""
    root = tmp_path / f"config-{isolation}"
    files = {
        "challenge.toml": f'title = "Config"\nlanguage = "python"\nisolation = "{isolation}"\n'
        "[limits]\nwall_seconds = 60\ntest_seconds = 5\n",
        "solution/config.py": CONFIG_SOLUTION,
        "starter/config.py": "",
        "tests/hidden/test_config.py": CONFIG_TESTS,
        "tests/hidden/settings.ini": "debug=0\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    ch = load_challenge(root)
    runner = RecordingRunner(name_prefix=docker_runner.name_prefix)
    report = grade(ch, open_submission(ch.solution_dir, tmp_path), runner, cache_dir=tmp_path / "c")
    outcomes = {t.id.split("::", 1)[1]: t for t in report.tests}
    if isolation == "in-process":
        assert {t.outcome for t in outcomes.values()} == {"passed"}
        return
    assert outcomes["test_portable"].outcome == "passed"
    xml = runner.results[-1].results
    assert xml is not None
    props = _case_properties(xml)
    assert props["test_portable"] == []
    for name, needle in CONFIG_CAUSES.items():
        assert outcomes[name].outcome == "failed", (name, outcomes[name].message)
        notes = [json.loads(v) for k, v in props[name] if k == "grader_portability"]
        assert len(notes) == 1 and needle in notes[0]["cause"], (name, props[name])
        assert 'isolation = "in-process"' in notes[0]["fix"]
        assert notes[0]["cause"] in (outcomes[name].message or ""), name
        # The host carries the note into the report, for the author and reviewers.
        assert [n.cause for n in outcomes[name].portability] == [notes[0]["cause"]], name
