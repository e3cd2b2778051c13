"""Process isolation on the real Docker runner: ordinary test styles keep working,
the candidate's crashes fail only the test in progress, the report names the mode."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.challenge import load_challenge
from grader.engine import grade
from grader.submission import open_submission
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
