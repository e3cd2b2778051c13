"""Process isolation harness (runners/harness/rpc_*.py), without Docker.

Each scenario starts the supervisor (rpc_server.py) as a local subprocess on a free
loopback port over a temporary folder holding a sample submission, then runs pytest
in a subprocess with ``-p rpc_client`` over sample test files, and reads the
outcomes from its JUnit XML. Every process is stopped at the end of its test.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import importlib.util
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
import types
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "runners" / "harness"
pytestmark = pytest.mark.timeout(120)


def _load_protocol():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_test_rpc_protocol", HARNESS / "rpc_protocol.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


P = _load_protocol()


# ---------------------------------------------------------------------------
# helpers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kill_marked(marker: str) -> None:
    """SIGKILL every process whose command line holds ``marker`` (a unique tmp path):
    workers and whatever they forked, which are not our children."""
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if needle in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of the processes whose parent is ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid:
            out.append((int(entry), fields[0]))
    return out


@dataclass
class Outcome:
    outcome: str
    message: str = ""
    properties: list[tuple[str, str]] = field(default_factory=list)

    def prop(self, name: str) -> list[str]:
        return [value for key, value in self.properties if key == name]


@dataclass
class Run:
    returncode: int
    outcomes: dict[str, Outcome]
    output: str
    duration: float

    def names(self, outcome: str) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome == outcome}


@dataclass
class Sandbox:
    root: Path
    port: int = field(default_factory=_free_port)
    supervisor: subprocess.Popen[bytes] | None = None

    @property
    def cand(self) -> Path:
        return self.root / "cand"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def write(self, files: dict[str, str], where: str = "cand") -> None:
        for name, text in files.items():
            path = self.root / where / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")

    def start(self) -> None:
        self.cand.mkdir(exist_ok=True)
        with open(self.root / "supervisor.log", "ab") as log:
            self.supervisor = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    str(HARNESS / "rpc_server.py"),
                    "--listen",
                    self.address,
                    "--path",
                    str(self.cand),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def log(self) -> str:
        return (self.root / "supervisor.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.supervisor is not None:
            with contextlib.suppress(OSError):
                self.supervisor.kill()
            self.supervisor.wait(timeout=10)
        _kill_marked(str(self.cand))

    def pytest(
        self,
        tests: dict[str, str],
        modules: str = "solution",
        args: tuple[str, ...] = (),
        timeout: float = 90,
        ini: Path | None = None,
    ) -> Run:
        self.write(tests, "tests")
        if ini is None:
            ini = self.root / "pytest.ini"
            ini.write_text("[pytest]\n", encoding="utf-8")
        xml = self.root / "junit.xml"
        with contextlib.suppress(FileNotFoundError):
            xml.unlink()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env["PYTHONPATH"] = str(HARNESS)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "rpc_client",
            "--rpc-address",
            self.address,
            "--rpc-modules",
            modules,
            "-p",
            "no:cacheprovider",
            "-c",
            str(ini),
            "--rootdir",
            str(self.root),
            f"--junitxml={xml}",
            "-q",
            "-rA",
            "--timeout=10",
            *args,
            str(self.root / "tests"),
        ]
        started = time.monotonic()
        proc = subprocess.run(
            cmd,
            cwd=self.root / "tests",
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        duration = time.monotonic() - started
        output = proc.stdout + proc.stderr
        outcomes: dict[str, Outcome] = {}
        if xml.exists():
            for case in ET.parse(xml).iter("testcase"):
                name = case.get("name", "")
                outcome, message = "passed", ""
                for child in case:
                    if child.tag in ("failure", "error", "skipped"):
                        outcome = {"failure": "failed"}.get(child.tag, child.tag)
                        message = (child.get("message") or "") + "\n" + (child.text or "")
                        break
                assert name not in outcomes, f"duplicate test name {name}"
                props = [
                    (p.get("name", ""), p.get("value", ""))
                    for p in case.findall("properties/property")
                ]
                outcomes[name] = Outcome(outcome, message, props)
        return Run(proc.returncode, outcomes, output, duration)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path)
    try:
        yield box
    finally:
        box.stop()


def _all_passed(run: Run, expected: int) -> None:
    bad = {n: o for n, o in run.outcomes.items() if o.outcome != "passed"}
    assert not bad, "\n\n".join(f"{n}: {o.outcome}\n{o.message[-1500:]}" for n, o in bad.items())
    assert len(run.outcomes) == expected, run.output[-3000:]
    assert run.returncode == 0, run.output[-3000:]


# ---------------------------------------------------------------------------
# a correct solution, and the ordinary test styles that must pass against it

SOLUTION = '''
"""A solution shaped like the usual take-home challenges."""
import collections
import dataclasses
import enum
import os
import sys
from datetime import date, timedelta
from decimal import Decimal

VERSION = "1.0"
LIMITS = {"max": 10, ("a", 1): "tuple key", 3: frozenset({1, 2})}
EVENTS = []


def add(a, b):
    return a + b


def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a / b


def lookup(mapping, key):
    return mapping[key]


def parse_int(text):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None


def stats(values):
    return {"min": min(values), "max": max(values), "mean": sum(values) / len(values)}


def unique(values):
    return set(values)


def pairs(n):
    return [(i, i * i) for i in range(n)]


def specials():
    return 2**100, -(2**70), float("nan"), float("inf"), -0.0, 1e-300, 3 + 4j


def blobs():
    return b"\\x00\\xffraw", bytearray(b"ab")


def echo(*args, **kwargs):
    return {"args": args, "kwargs": kwargs}


def apply(fn, values):
    return [fn(v) for v in values]


def word_counts(text):
    return collections.Counter(text.split())


def recent_first():
    od = collections.OrderedDict(a=1, b=2, c=3)
    od.move_to_end("a")
    return od


def window(values, size):
    return collections.deque(values, maxlen=size)


def fib():
    a, b = 0, 1
    while True:
        EVENTS.append(a)
        yield a
        a, b = b, a + b


def countdown(n):
    while n > 0:
        yield n
        n -= 1
    return "done"


def consumed():
    return len(EVENTS)


class Countdown:
    def __init__(self, start):
        self.current = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.current <= 0:
            raise StopIteration
        self.current -= 1
        return self.current + 1


class BankError(Exception):
    """Base of the bank's errors."""


class InsufficientFunds(BankError):
    def __init__(self, needed):
        super().__init__(needed)
        self.needed = needed

    def __str__(self):
        return f"insufficient funds: {self.needed} more needed"


class AccountClosed(BankError):
    pass


class Account:
    interest_rate = 0.05

    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        self.history = []
        self.closed = False

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive")
        self._check()
        self.balance += amount
        self.history.append(("deposit", amount))
        return self.balance

    def withdraw(self, amount):
        self._check()
        if amount > self.balance:
            raise InsufficientFunds(amount - self.balance)
        self.balance -= amount
        self.history.append(("withdraw", amount))
        return self.balance

    def close(self):
        self.closed = True

    def _check(self):
        if self.closed:
            raise AccountClosed(f"account of {self.owner} is closed")

    @classmethod
    def from_string(cls, text):
        owner, balance = text.split(":")
        return cls(owner, int(balance))

    @staticmethod
    def valid_owner(name):
        return bool(name) and name[0].isupper()

    @property
    def summary(self):
        return {"owner": self.owner, "balance": self.balance}

    def __repr__(self):
        return f"Account({self.owner!r}, {self.balance})"

    def __str__(self):
        return f"{self.owner}: {self.balance}"

    def __len__(self):
        return len(self.history)

    def __iter__(self):
        return iter(self.history)

    def __contains__(self, kind):
        return any(k == kind for k, _ in self.history)

    def __bool__(self):
        return not self.closed


@dataclasses.dataclass(order=True, frozen=True)
class Point:
    x: int
    y: int

    def distance_to(self, other):
        return abs(self.x - other.x) + abs(self.y - other.y)


@dataclasses.dataclass
class Item:
    name: str
    price: Decimal
    tags: list = dataclasses.field(default_factory=list)


class Vector:
    def __init__(self, *coords):
        self.coords = tuple(coords)

    def __add__(self, other):
        return Vector(*(a + b for a, b in zip(self.coords, other.coords)))

    def __mul__(self, k):
        return Vector(*(a * k for a in self.coords))

    __rmul__ = __mul__

    def __eq__(self, other):
        return isinstance(other, Vector) and self.coords == other.coords

    def __hash__(self):
        return hash(self.coords)

    def __abs__(self):
        return sum(a * a for a in self.coords) ** 0.5

    def __getitem__(self, i):
        return self.coords[i]

    def __len__(self):
        return len(self.coords)

    def __repr__(self):
        return f"Vector{self.coords}"


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


def color_of(name):
    return Color[name.upper()]


Pair = collections.namedtuple("Pair", "left right")


def make_pair(a, b):
    return Pair(a, b)


def pair_sum(pair):
    return pair.left + pair.right


class Inventory:
    def __init__(self):
        self._items = {}

    def __setitem__(self, key, value):
        if value < 0:
            raise ValueError("negative stock")
        self._items[key] = value

    def __getitem__(self, key):
        return self._items[key]

    def __delitem__(self, key):
        del self._items[key]

    def __contains__(self, key):
        return key in self._items

    def keys(self):
        return sorted(self._items)


class Transaction:
    def __init__(self, account):
        self.account = account
        self.snapshot = None
        self.state = "new"

    def __enter__(self):
        self.snapshot = self.account.balance
        self.state = "open"
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.account.balance = self.snapshot
            self.state = "rolled back"
            return issubclass(exc_type, BankError)
        self.state = "committed"
        return False


def day_after(day, days):
    return day + timedelta(days=days)


def new_year():
    return date(2024, 1, 1)


def env_hints():
    return sorted(k for k in os.environ if "PYTEST" in k.upper())


def chatty(x):
    print("candidate says hi")
    print("candidate complains", file=sys.stderr)
    return x * 2
'''

GEOMETRY_INIT = """
from .shapes import Square

__all__ = ["Square", "area"]


def area(shape):
    return shape.area()
"""

GEOMETRY_SHAPES = """
class Square:
    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side ** 2
"""

STYLE_TESTS = """
import copy
import importlib
import dataclasses
import math
from collections import Counter, OrderedDict, deque
from datetime import date
from decimal import Decimal
from itertools import islice

import pytest

import geometry
import geometry.shapes
import solution
from geometry import Square, area
from solution import Account, InsufficientFunds, Point, Vector


def test_function():
    assert solution.add(2, 3) == 5
    assert solution.add("a", "b") == "ab"
    assert solution.add([1], [2]) == [1, 2]


@pytest.mark.parametrize(("a", "b", "expected"), [(1, 2, 3), (-1, 1, 0), (10**20, 1, 10**20 + 1)])
def test_parametrized(a, b, expected):
    assert solution.add(a, b) == expected


@pytest.mark.parametrize("cls", [solution.Account, solution.Inventory])
def test_parametrized_with_remote_classes(cls):
    assert cls is not None
    assert callable(cls)


def test_builtin_exceptions_with_message():
    with pytest.raises(ZeroDivisionError, match="cannot divide by zero"):
        solution.divide(1, 0)
    with pytest.raises(KeyError, match="'missing'") as excinfo:
        solution.lookup({"a": 1}, "missing")
    assert excinfo.type is KeyError
    assert excinfo.value.args == ("missing",)
    with pytest.raises(ValueError) as excinfo:
        solution.parse_int("abc")
    assert str(excinfo.value) == "not a number: 'abc'"


def test_try_except_in_test():
    try:
        solution.parse_int("x1")
    except ValueError as exc:
        assert "x1" in str(exc)
    else:
        pytest.fail("no ValueError")


def test_custom_exception_hierarchy():
    account = Account("Ann", 10)
    with pytest.raises(InsufficientFunds, match=r"5 more needed") as excinfo:
        account.withdraw(15)
    assert excinfo.value.needed == 5
    assert isinstance(excinfo.value, solution.BankError)
    assert isinstance(excinfo.value, Exception)
    with pytest.raises(solution.BankError):
        account.withdraw(100)
    account.close()
    with pytest.raises(solution.AccountClosed, match="account of Ann is closed"):
        account.deposit(1)
    assert solution.InsufficientFunds is InsufficientFunds
    assert issubclass(solution.AccountClosed, solution.BankError)


def test_dict_list_set_tuple_returns():
    assert solution.stats([1, 2, 3, 6]) == {"min": 1, "max": 6, "mean": 3.0}
    assert solution.unique([1, 1, 2]) == {1, 2}
    assert solution.pairs(3) == [(0, 0), (1, 1), (2, 4)]
    assert type(solution.pairs(2)[0]) is tuple
    assert solution.LIMITS == {"max": 10, ("a", 1): "tuple key", 3: frozenset({1, 2})}
    assert solution.VERSION == "1.0"


def test_special_values():
    big, negative, nan, inf, zero, tiny, cplx = solution.specials()
    assert big == 2**100 and negative == -(2**70)
    assert math.isnan(nan) and inf == math.inf
    assert zero == 0 and math.copysign(1, zero) == -1
    assert tiny == 1e-300 and cplx == 3 + 4j
    raw, mutable = solution.blobs()
    assert raw == b"\\x00\\xffraw" and mutable == bytearray(b"ab")


def test_args_kwargs_and_builtin_callables():
    assert solution.echo(1, "x", key=(1, 2)) == {"args": (1, "x"), "kwargs": {"key": (1, 2)}}
    assert solution.apply(len, ["ab", "c"]) == [2, 1]
    assert solution.apply(str, [1, 2]) == ["1", "2"]


def test_container_subclasses_arrive_as_data():
    counts = solution.word_counts("a b a")
    assert counts == {"a": 2, "b": 1}
    assert counts == Counter({"a": 2, "b": 1})
    assert list(solution.recent_first()) == ["b", "c", "a"]
    assert solution.recent_first() == OrderedDict(b=2, c=3, a=1)
    assert solution.window([1, 2, 3, 4], 2) == deque([3, 4], maxlen=2)


def test_stdlib_values_cross_as_data():
    assert solution.new_year() == date(2024, 1, 1)
    assert solution.day_after(date(2024, 1, 31), 1) == date(2024, 2, 1)
    item = solution.Item("pen", Decimal("1.50"))
    assert item.price == Decimal("1.50")
    assert item.tags == []


def test_generator_is_lazy():
    before = solution.consumed()
    assert list(islice(solution.fib(), 10)) == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert solution.consumed() - before == 10
    gen = solution.fib()
    assert next(gen) == 0
    assert next(gen) == 1
    assert solution.consumed() - before == 12


def test_generator_return_value():
    gen = solution.countdown(2)
    assert next(gen) == 2
    assert next(gen) == 1
    with pytest.raises(StopIteration) as excinfo:
        next(gen)
    assert excinfo.value.value == "done"
    assert list(solution.countdown(3)) == [3, 2, 1]
    assert sum(x for x in solution.countdown(4)) == 10


def test_iterator_class():
    assert list(solution.Countdown(3)) == [3, 2, 1]
    total = 0
    for value in solution.Countdown(4):
        total += value
    assert total == 10
    it = iter(solution.Countdown(1))
    assert next(it) == 1
    assert next(it, "end") == "end"


def test_dataclass_by_attribute_and_by_value():
    p = Point(1, 2)
    assert p.x == 1 and p.y == 2
    assert p == Point(1, 2)
    assert p != Point(2, 1)
    assert Point(1, 2) < Point(1, 3)
    assert sorted([Point(2, 0), Point(1, 5)]) == [Point(1, 5), Point(2, 0)]
    assert p.distance_to(Point(4, 6)) == 7
    assert repr(p) == "Point(x=1, y=2)"
    assert len({Point(1, 1), Point(1, 1), Point(0, 1)}) == 2
    assert Point(1, 2) in [Point(0, 0), Point(1, 2)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 5


def test_remote_object_against_local_data_is_unequal():
    p = Point(1, 2)
    assert p != (1, 2)
    assert not (p == (1, 2))
    assert p is not None


def test_context_manager():
    account = Account("Bo", 10)
    with solution.Transaction(account) as tx:
        account.deposit(5)
    assert tx.state == "committed" and account.balance == 15
    with solution.Transaction(account) as tx:
        account.withdraw(100)  # InsufficientFunds: rolled back and suppressed
    assert tx.state == "rolled back" and account.balance == 15
    with pytest.raises(ValueError):
        with solution.Transaction(account) as tx:
            account.deposit(3)
            account.deposit(-1)
    assert tx.state == "rolled back" and account.balance == 15


def test_vector_arithmetic():
    v = Vector(1, 2) + Vector(3, 4)
    assert v == Vector(4, 6)
    assert 2 * Vector(1, 2) == Vector(2, 4)
    assert Vector(1, 2) * 3 == Vector(3, 6)
    assert abs(Vector(3, 4)) == 5.0
    assert Vector(7, 8)[1] == 8 and len(Vector(1, 2, 3)) == 3
    assert len({Vector(1), Vector(1), Vector(2)}) == 2
    assert f"{Vector(1, 2)!r}" == "Vector(1, 2)"


def test_enums_and_namedtuples():
    assert solution.color_of("red") == solution.Color.RED
    assert solution.color_of("red") is solution.Color.RED
    assert solution.color_of("green").name == "GREEN"
    assert solution.color_of("green").value == 2
    assert solution.Priority.HIGH == 2
    pair = solution.make_pair(1, 2)
    assert pair == (1, 2) and pair.left == 1 and pair.right == 2
    assert solution.pair_sum(pair) == 3


def test_mapping_protocol():
    inv = solution.Inventory()
    inv["apple"] = 3
    inv["pear"] = 0
    assert inv["apple"] == 3
    assert "apple" in inv and "kiwi" not in inv
    del inv["pear"]
    assert inv.keys() == ["apple"]
    with pytest.raises(KeyError):
        inv["pear"]
    with pytest.raises(ValueError, match="negative"):
        inv["fig"] = -1


def test_packages_and_submodules():
    assert area(Square(3)) == 9
    assert geometry.shapes.Square(2).area() == 4
    assert geometry.area(geometry.Square(5)) == 25
    assert geometry.__all__ == ["Square", "area"]
    with pytest.raises(ImportError):
        importlib.import_module("geometry.missing")


def test_module_attribute_errors():
    assert not hasattr(solution, "no_such_name")
    with pytest.raises(AttributeError):
        solution.no_such_name


def test_monkeypatch_module_data(monkeypatch):
    monkeypatch.setattr(solution, "VERSION", "2.0")
    assert solution.VERSION == "2.0"


def test_monkeypatch_restored():
    assert solution.VERSION == "1.0"


def test_copies_are_remote_and_independent():
    a = Account("Cy", 1)
    b = copy.deepcopy(a)
    b.deposit(5)
    assert a.balance == 1 and b.balance == 6


def test_candidate_output_does_not_disturb_the_channel():
    assert solution.chatty(21) == 42
    assert solution.chatty(1) == 2


def test_no_test_hints_in_candidate_environment():
    assert solution.env_hints() == []


class TestAccount:
    def setup_method(self):
        self.account = Account("Alice", 100)

    def test_deposit_and_withdraw(self):
        assert self.account.deposit(50) == 150
        assert self.account.withdraw(30) == 120
        assert self.account.balance == 120
        assert self.account.history == [("deposit", 50), ("withdraw", 30)]

    def test_protocols(self):
        self.account.deposit(1)
        assert len(self.account) == 1
        assert list(self.account) == [("deposit", 1)]
        assert "deposit" in self.account and "withdraw" not in self.account
        assert bool(self.account)
        self.account.close()
        assert not self.account

    def test_str_repr_format(self):
        assert str(self.account) == "Alice: 100"
        assert repr(self.account) == "Account('Alice', 100)"
        assert f"{self.account}" == "Alice: 100"
        assert "deposit" in dir(self.account)

    def test_class_level_members(self):
        assert Account.interest_rate == 0.05
        assert Account.from_string("Zed:7").balance == 7
        assert Account.valid_owner("Bob") is True
        assert self.account.summary == {"owner": "Alice", "balance": 100}
        assert isinstance(self.account, Account)
        assert not isinstance(self.account, solution.Inventory)
        assert Account(owner="Kim", balance=3).balance == 3

    def test_setattr(self):
        self.account.owner = "Bea"
        assert self.account.owner == "Bea"
        assert str(self.account) == "Bea: 100"
"""

STAR_TESTS = """
import os
from collections import OrderedDict

from geometry import *  # noqa: F403
from solution import *  # noqa: F403

import rpc_client


def test_star_import():
    assert area(Square(3)) == 9  # noqa: F405
    assert add(2, 2) == 4  # noqa: F405
    assert isinstance(Account("A"), Account)  # noqa: F405


def test_star_import_without_all_leaves_the_tests_own_names_alone():
    # solution.py has no __all__ and imports os, collections and OrderedDict's kin
    assert not isinstance(os, rpc_client.RemoteModule | rpc_client.RemoteObject)
    assert OrderedDict.__module__ == "collections"
    assert "dataclasses" not in globals() and "Decimal" not in globals()
"""

UNITTEST_TESTS = """
import unittest

import solution


class AccountTest(unittest.TestCase):
    def setUp(self):
        self.account = solution.Account("Dan", 10)

    def test_equal_and_true(self):
        self.assertEqual(self.account.deposit(5), 15)
        self.assertTrue(self.account)
        self.assertIn("deposit", self.account)
        self.assertIsInstance(self.account, solution.Account)
        self.assertAlmostEqual(solution.divide(1, 3), 0.3333333, places=5)

    def test_assert_raises_forms(self):
        self.assertRaises(ValueError, solution.parse_int, "x")
        with self.assertRaises(solution.InsufficientFunds) as ctx:
            self.account.withdraw(11)
        self.assertEqual(ctx.exception.needed, 1)
        with self.assertRaisesRegex(ValueError, "positive"):
            self.account.deposit(0)

    def test_sequences(self):
        self.assertListEqual(solution.pairs(2), [(0, 0), (1, 1)])
        self.assertDictEqual(solution.stats([2, 2]), {"min": 2, "max": 2, "mean": 2.0})
        self.assertCountEqual(solution.unique([3, 1, 3]), [1, 3])
"""


def test_ordinary_test_styles_pass_against_a_correct_solution(sandbox: Sandbox) -> None:
    sandbox.write(
        {
            "solution.py": SOLUTION,
            "geometry/__init__.py": GEOMETRY_INIT,
            "geometry/shapes.py": GEOMETRY_SHAPES,
        }
    )
    sandbox.start()
    run = sandbox.pytest(
        {"test_styles.py": STYLE_TESTS, "test_star.py": STAR_TESTS, "test_ut.py": UNITTEST_TESTS},
        modules="solution,geometry",
        # the configuration the sandbox runs pytest with (see launcher.py)
        ini=HARNESS / "pytest.ini",
        args=("--import-mode=importlib", "--capture=tee-sys"),
    )
    _all_passed(run, 40)
    log = sandbox.log()
    assert "candidate says hi" in log and "candidate complains" in log


def test_the_same_tests_fail_against_a_wrong_solution(sandbox: Sandbox) -> None:
    wrong = (
        SOLUTION.replace("return a + b", "return a - b")
        .replace("raise InsufficientFunds(amount - self.balance)", "raise ValueError('no')")
        .replace("yield a\n", "yield a + 1\n")
        .replace("return issubclass(exc_type, BankError)", "return True")
    )
    sandbox.write(
        {
            "solution.py": wrong,
            "geometry/__init__.py": GEOMETRY_INIT,
            "geometry/shapes.py": GEOMETRY_SHAPES,
        }
    )
    sandbox.start()
    run = sandbox.pytest({"test_styles.py": STYLE_TESTS}, modules="solution,geometry")
    failed = run.names("failed")
    for name in (
        "test_function",
        "test_parametrized[1-2-3]",
        "test_custom_exception_hierarchy",
        "test_generator_is_lazy",
        "test_context_manager",
    ):
        assert name in failed, run.output[-3000:]
    assert "test_vector_arithmetic" in run.names("passed")


def test_collection_time_import_failure_is_reported(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "def f(:\n    pass\n"})
    sandbox.start()
    run = sandbox.pytest({"test_a.py": "import solution\n\ndef test_f():\n    solution.f()\n"})
    assert not run.names("passed")
    assert run.returncode != 0
    assert "importing 'solution' in the candidate process failed: SyntaxError" in run.output


# ---------------------------------------------------------------------------
# attacks: none of them may turn a failing test into a passing one

ATTACK_SOLUTION = """
import os
import signal
import sys
import time


def ok(x):
    return x * 2


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __repr__(self):
        return "5"


def add(a, b):
    return AlwaysEqual()


class EvilInt(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__

    def __int__(self):
        raise RuntimeError("my __int__ must not be used")

    def __index__(self):
        raise RuntimeError("my __index__ must not be used")


class EvilStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__

    def __str__(self):
        return "hello world"


class EvilList(list):
    def __eq__(self, other):
        return True

    def __iter__(self):
        return iter([1, 2, 3])

    def __len__(self):
        return 3


class EvilDict(dict):
    def __eq__(self, other):
        return True

    def items(self):
        return [("a", 1)]


def mul(a, b):
    return EvilInt(a * b + 1)


def mul_right(a, b):
    return EvilInt(a * b)


def greet(name):
    return EvilStr("wrong")


def numbers():
    return EvilList([0])


def config():
    return EvilDict(z=0)


class Hostile:
    def __repr__(self):
        return "PASSED\\n" * 10000

    def __str__(self):
        raise RuntimeError("no str for you")


def hostile():
    return Hostile()


class Swallow:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def stop_iteration(x):
    raise StopIteration


def interrupt():
    raise KeyboardInterrupt


def candidate_skip():
    import pytest

    pytest.skip("skipped by the candidate")


def candidate_exit():
    import pytest

    pytest.exit("the candidate stops the run")


def unittest_skip():
    import unittest

    raise unittest.SkipTest("skip")


def exit_now():
    os._exit(0)


def sys_exit():
    sys.exit(0)


def loop_forever():
    while True:
        pass


def recurse(n=0):
    return recurse(n + 1)


class Loop:
    def __repr__(self):
        return repr(self)


def stack_overflow():
    sys.setrecursionlimit(10**7)
    return repr(Loop())


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def fake_frames():
    frame = b'{"i":3,"v":5}'
    sys.stdout.buffer.write(len(frame).to_bytes(4, "big") + frame)
    sys.stdout.flush()
    os.write(1, len(frame).to_bytes(4, "big") + frame)
    print('{"i": 4, "v": 5}')
    return 4


def _channel_fd():
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                return int(name)
        except OSError:
            continue
    raise RuntimeError("no socket")


def garbage_on_channel():
    os.write(_channel_fd(), b"\\x00\\x00\\x00\\x05hello")
    return 5


def extra_frame_on_channel():
    frame = b'{"i":99999,"v":5}'
    os.write(_channel_fd(), len(frame).to_bytes(4, "big") + frame)
    return 4


def delayed_frame():
    import threading

    fd = _channel_fd()

    def later():
        time.sleep(0.2)
        frame = b'{"i":1,"v":5}'
        os.write(fd, len(frame).to_bytes(4, "big") + frame)

    threading.Thread(target=later, daemon=True).start()
    return 4


def fork_and_die():
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    os._exit(0)


def huge():
    return "x" * (20 * 2**20)


def deep():
    value = []
    for _ in range(5000):
        value = [value]
    return value


def cyclic():
    value = []
    value.append(value)
    return value
"""

ATTACK_TESTS = """
import time

import pytest

import solution


def test_always_equal_result():
    assert solution.add(2, 3) == 5


def test_always_equal_result_reversed():
    assert 5 == solution.add(2, 3)


def test_evil_int_wrong_value():
    assert solution.mul(2, 3) == 6


def test_evil_int_right_value_arrives_as_int():
    value = solution.mul_right(2, 3)
    assert type(value) is int and value == 6 and value != 7


def test_evil_str():
    assert solution.greet("x") == "hello x"


def test_evil_list():
    assert solution.numbers() == [1, 2, 3]


def test_evil_dict():
    assert solution.config() == {"a": 1}


def test_hostile_repr():
    assert solution.hostile() == 1


def test_hostile_str():
    assert str(solution.hostile()) == "ok"


def test_control_1():
    assert solution.ok(2) == 4


def test_swallowing_context_manager():
    with solution.Swallow():
        assert solution.ok(1) == 3


def test_stop_iteration_cannot_end_a_loop():
    assert all(map(solution.stop_iteration, [1, 2, 3]))


def test_keyboard_interrupt_is_contained():
    solution.interrupt()


def test_candidate_skip_is_a_failure():
    solution.candidate_skip()


def test_candidate_exit_is_a_failure():
    solution.candidate_exit()


def test_unittest_skip_is_a_failure():
    solution.unittest_skip()


def test_control_2():
    assert solution.ok(2) == 4


def test_exit_mid_call():
    assert solution.exit_now() == 1


def test_control_after_exit():
    assert solution.ok(2) == 4


def test_sys_exit():
    assert solution.sys_exit() == 1


def test_control_after_sys_exit():
    assert solution.ok(3) == 6


@pytest.mark.timeout(2)
def test_infinite_loop():
    assert solution.loop_forever() == 1


def test_control_after_loop():
    assert solution.ok(4) == 8


def test_recursion():
    assert solution.recurse() == 1


def test_stack_overflow():
    assert solution.stack_overflow() == "x"


def test_control_after_overflow():
    assert solution.ok(5) == 10


def test_killed():
    assert solution.kill_self() == 1


def test_control_after_kill():
    assert solution.ok(6) == 12


def test_fake_frames_on_stdout():
    assert solution.fake_frames() == 5


def test_control_after_fake_frames():
    assert solution.ok(7) == 14


def test_garbage_on_channel():
    assert solution.garbage_on_channel() == 5


def test_control_after_garbage():
    assert solution.ok(8) == 16


def test_extra_frame_on_channel():
    assert solution.extra_frame_on_channel() == 5


def test_control_after_extra_frame():
    assert solution.ok(9) == 18


def test_delayed_frame_on_channel():
    value = solution.delayed_frame()
    time.sleep(0.5)  # the forged frame arrives after the reply, between two tests
    assert value == 5


def test_control_after_delayed_frame():
    assert solution.ok(12) == 24


def test_fork_and_die():
    assert solution.fork_and_die() == 1


def test_control_after_fork():
    assert solution.ok(10) == 20


def test_huge_result():
    assert solution.huge() == "x"


def test_deep_result():
    assert solution.deep() == []


def test_cyclic_result():
    assert solution.cyclic() == []


def test_control_last():
    assert solution.ok(11) == 22
"""


def test_attacks_do_not_raise_the_score(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": ATTACK_SOLUTION})
    sandbox.start()
    run = sandbox.pytest({"test_attacks.py": ATTACK_TESTS}, args=("--timeout=5",))
    outcomes = run.outcomes
    assert len(outcomes) == 42, run.output[-3000:]
    passed = run.names("passed")
    expected_pass = {n for n in outcomes if n.startswith("test_control")}
    expected_pass.add("test_evil_int_right_value_arrives_as_int")
    assert passed == expected_pass, run.output[-5000:]
    assert not run.names("skipped")
    assert run.duration < 60

    def message(name: str) -> str:
        return outcomes[name].message

    died = "candidate process died during the call to solution."
    for name in ("test_exit_mid_call", "test_stack_overflow", "test_killed", "test_fork_and_die"):
        assert died in message(name), message(name)
    assert "Timeout" in message("test_infinite_loop")
    assert "SystemExit" in message("test_sys_exit")
    assert "RecursionError" in message("test_recursion")
    assert "CandidateStopIteration" in message("test_stop_iteration_cannot_end_a_loop")
    assert "CandidateInterrupt" in message("test_keyboard_interrupt_is_contained")
    assert "Skipped" in message("test_candidate_skip_is_a_failure")
    assert "broke the protocol" in message("test_garbage_on_channel")
    assert "cannot be sent" in message("test_huge_result")
    assert "RuntimeError: no str for you" in message("test_hostile_str")
    assert "candidate traceback" in run.output
    assert "the left side is a AlwaysEqual object that lives in the candidate process" in (
        message("test_always_equal_result")
    )
    # The fake frames went to the candidate's stdout, not into the channel.
    assert '{"i": 4, "v": 5}' in sandbox.log()


def test_exit_at_import_fails_every_test_without_hanging(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "import os\nos._exit(0)\n"})
    sandbox.start()
    tests = {
        "test_top.py": "import solution\n\ndef test_top():\n    assert solution.f() == 1\n",
        "test_inside.py": (
            "def test_one():\n    import solution\n    assert solution.f() == 1\n\n"
            "def test_two():\n    import solution\n    assert solution.f() == 2\n"
        ),
    }
    run = sandbox.pytest(tests, args=("--continue-on-collection-errors",))
    assert not run.names("passed")
    assert run.outcomes["test_one"].outcome == "failed"
    assert run.outcomes["test_two"].outcome == "failed"
    for name in ("test_one", "test_two"):
        assert "candidate process died during the import of solution" in (
            run.outcomes[name].message
        )
    assert "test_top" not in run.names("passed")
    assert "ERROR" in run.output and "test_top.py" in run.output
    assert run.duration < 30


def test_sys_exit_at_import_is_an_import_error(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "import sys\nsys.exit(3)\n"})
    sandbox.start()
    run = sandbox.pytest({"test_a.py": "def test_a():\n    import solution\n    assert solution\n"})
    assert run.outcomes["test_a"].outcome == "failed"
    assert "importing 'solution' in the candidate process failed: SystemExit: 3" in (
        run.outcomes["test_a"].message
    )


def test_killing_the_supervisor_fails_the_remaining_tests_quickly(sandbox: Sandbox) -> None:
    sandbox.write(
        {
            "solution.py": (
                "import os, signal\n\n"
                "def kill_parent():\n"
                "    os.kill(os.getppid(), signal.SIGKILL)\n"
                "    return 'done'\n\n"
                "def ok():\n    return 1\n"
            )
        }
    )
    sandbox.start()
    tests = "import solution\n\ndef test_kill():\n    assert solution.kill_parent() == 'x'\n\n"
    tests += "".join(f"def test_after_{i}():\n    assert solution.ok() == 1\n\n" for i in range(5))
    run = sandbox.pytest({"test_k.py": tests}, args=("--rpc-connect-timeout=3",))
    assert not run.names("passed")
    assert len(run.names("failed")) == 6
    for i in range(5):
        message = run.outcomes[f"test_after_{i}"].message
        assert "cannot reach the candidate process" in message or "died" in message, message
    # One full connect timeout at most, then each test gives up within about a second.
    assert run.duration < 25, run.duration


# ---------------------------------------------------------------------------
# restarts, staleness, timeouts, connecting late

RESTART_SOLUTION = """
import gc
import os
import weakref

COUNTER = []


def pid():
    return os.getpid()


def bump():
    COUNTER.append(1)
    return len(COUNTER)


def crash():
    os._exit(1)


class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance


class Tracked:
    live = weakref.WeakSet()

    def __init__(self):
        Tracked.live.add(self)


def live_tracked():
    gc.collect()
    return len(Tracked.live)


def slow():
    import time

    time.sleep(3)
    return 1
"""

RESTART_TESTS = """
import pytest
import rpc_client

import solution
from solution import Account

STATE = {}


def test_create():
    STATE["pid"] = solution.pid()
    STATE["account"] = Account("A", 10)
    assert STATE["account"].balance == 10
    assert solution.bump() == 1
    assert solution.bump() == 2


def test_same_worker_between_tests_while_it_lives():
    assert solution.bump() == 3
    assert solution.pid() == STATE["pid"]


def test_crash():
    solution.crash()


def test_objects_of_the_dead_worker_are_stale():
    with pytest.raises(rpc_client.StaleReference, match="earlier test"):
        STATE["account"].balance
    assert repr(STATE["account"]) == "<remote Account object (StaleReference)>"


def test_released_proxies_free_remote_objects():
    kept = [solution.Tracked() for _ in range(3)]
    for _ in range(300):
        solution.Tracked()
    assert solution.live_tracked() == 3
    del kept
    assert solution.live_tracked() == 0


def test_names_imported_at_collection_still_work():
    assert Account("B", 5).balance == 5
    assert solution.pid() != STATE["pid"]


def test_fresh_worker_has_fresh_state():
    assert solution.bump() == 1


def test_modules_do_not_cross():
    with pytest.raises(rpc_client.CannotTransfer, match="cannot pass a module"):
        Account(pytest, 1)


def test_slow_call_times_out():
    solution.slow()


def test_after_timeout():
    assert solution.bump() == 1
"""


def test_restart_staleness_and_call_timeout(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": RESTART_SOLUTION})
    sandbox.start()
    run = sandbox.pytest({"test_r.py": RESTART_TESTS}, args=("--rpc-call-timeout=1",))
    failed = {"test_crash", "test_slow_call_times_out"}
    assert run.names("failed") == failed, run.output[-4000:]
    assert len(run.names("passed")) == 8, run.output[-4000:]
    assert run.duration < 20
    assert "did not complete the call to solution.slow() within 1.0 s" in (
        run.outcomes["test_slow_call_times_out"].message
    )
    assert "died during the call to solution.crash()" in run.outcomes["test_crash"].message


WORKER_STATE_SOLUTION = """
import os
import random
import signal
import stat
import sys


def files():
    # Each open file: its number, and "socket" or "other".
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            mode = os.stat(f"/proc/self/fd/{name}").st_mode
        except OSError:
            continue  # (the listing's own, now closed)
        out[int(name)] = "socket" if stat.S_ISSOCK(mode) else "other"
    return out


def listening():
    # Listening TCP sockets whose inode is one of this process's open files.
    mine = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            mine.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                parts = line.split()
                if parts[3] == "0A" and parts[9] in mine:
                    found.append(int(parts[1].rsplit(":", 1)[1], 16))
    return found


def state():
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "sid": os.getsid(0),
        "random": random.random(),
        "term": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
        "stdin": sys.stdin is None or sys.stdin.closed or os.read(0, 1) == b"",
        "cwd": os.getcwd(),
    }


def crash():
    os._exit(3)
"""

WORKER_STATE_TESTS = """
import solution

SEEN = []


def test_one_worker():
    files = solution.files()
    assert list(files.values()).count("socket") == 1, files
    assert solution.listening() == [], files
    SEEN.append(solution.state())


def test_crash():
    solution.crash()


def test_the_next_worker():
    SEEN.append(solution.state())
    first, second = SEEN
    assert first["pid"] != second["pid"] and first["ppid"] == second["ppid"]
    for one in SEEN:
        assert one["sid"] == one["pid"] and one["term"] and one["stdin"], one
    assert first["random"] != second["random"]
    assert first["cwd"] == second["cwd"] and first["cwd"].endswith("cand")
"""


def test_a_worker_holds_the_connection_only_and_starts_as_a_fresh_process_would(
    sandbox: Sandbox,
) -> None:
    """Each worker has its own session, default signal handlers, no stdin, fresh random
    numbers, and of the supervisor's files only the connection it serves (not the
    listener, with which it could take later tests' connections)."""
    sandbox.write({"solution.py": WORKER_STATE_SOLUTION})
    sandbox.start()
    run = sandbox.pytest({"test_w.py": WORKER_STATE_TESTS})
    assert run.names("failed") == {"test_crash"}, run.output[-4000:]
    assert run.names("passed") == {"test_one_worker", "test_the_next_worker"}, run.output[-4000:]


def test_tests_wait_for_a_late_candidate_process(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "def f():\n    return 1\n"})
    timer = __import__("threading").Timer(1.5, sandbox.start)
    timer.start()
    try:
        run = sandbox.pytest(
            {"test_late.py": "import solution\n\ndef test_f():\n    assert solution.f() == 1\n"}
        )
    finally:
        timer.join()
    _all_passed(run, 1)
    assert run.duration > 1.4


def test_plugin_is_inert_without_an_address(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.write({"test_plain.py": "def test_plain():\n    assert 1 + 1 == 2\n"}, "tests")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(HARNESS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "rpc_client", "-p", "no:cacheprovider", "-q"]
        + ["-c", str(tmp_path / "pytest.ini"), str(tmp_path / "tests")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


# ---------------------------------------------------------------------------
# test-side objects passed to candidate code (references back into the test process)

CALLBACK_SOLUTION = '''
"""Candidate code that takes functions and objects from the tests."""
import functools
import threading


def sort_by(xs, key):
    return sorted(xs, key=key)


def accumulate(xs, fn):
    return [fn(x) for x in xs]


def keep(xs, pred):
    return [x for x in xs if pred(x)]


def apply_twice(fn, x):
    return fn(fn(x))


class Cell:
    def __init__(self, value=0):
        self._value = value
        self._callbacks = []

    def add_callback(self, cb):
        self._callbacks.append(cb)

    def remove_callback(self, cb):
        self._callbacks.remove(cb)

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, new):
        old, self._value = self._value, new
        for cb in list(self._callbacks):
            cb(old, new)


def notify(sender, event):
    sender.send(event, priority=1)
    return "sent"


def count_lines(fh):
    return sum(1 for line in fh if line.strip())


def first_line(fh):
    return fh.readline().rstrip("\\n")


def word_totals(fh):
    totals = {}
    for line in fh:
        for word in line.split():
            totals[word] = totals.get(word, 0) + 1
    return totals


def write_report(rows, out):
    for name, score in rows:
        print(f"{name}: {score}", file=out)
    out.write("done\\n")


def use_store(store, key):
    if key not in store:
        store.put(key, len(key))
    return store.get(key) * 2


def safe_call(fn, *args):
    try:
        return ("ok", fn(*args))
    except ValueError as exc:
        return ("error", str(exc))


def call_it(fn):
    return fn()


def retry(fn, times, exceptions):
    for attempt in range(times):
        try:
            return fn()
        except exceptions:
            if attempt == times - 1:
                raise


def lazy_map(fn, xs):
    for x in xs:
        yield fn(x)


def consume(items):
    return [x * 10 for x in items]


def memoize(fn):
    cache = {}

    @functools.wraps(fn)
    def wrapper(*args):
        if args not in cache:
            cache[args] = fn(*args)
        return cache[args]

    return wrapper


def describe(fn):
    import inspect

    return fn.__name__, fn.__doc__, callable(fn), str(inspect.signature(fn))


def in_thread(fn, x):
    out = []
    worker = threading.Thread(target=lambda: out.append(fn(x)))
    worker.start()
    worker.join()
    return out[0]


def with_lock(lock, fn):
    with lock:
        return fn()


def lookup(mapping, key):
    return mapping[key], len(mapping), key in mapping, bool(mapping)


def same(obj):
    return obj


def down(fn, n):
    return 0 if n == 0 else 1 + fn(n - 1)


def helper(x):
    return x + 1


def compute(x):
    return helper(x) * 10


def hashes(obj):
    table = {obj: 1}
    return hash(obj) == hash(obj), obj == obj, table[obj], obj != obj


def protocols(obj):
    import collections.abc as abc

    return (
        callable(obj),
        hasattr(obj, "__iter__"),
        isinstance(obj, abc.Iterable),
        isinstance(obj, abc.Sized),
        type(obj).__name__,
    )


REGISTRY = []


def register(fn):
    REGISTRY.append(fn)
    return fn


def run_registered(x):
    return [f(x) for f in REGISTRY]


def swallow(fn, x):
    try:
        fn(x)
    except Exception:
        pass
    return "done"


LATER = []


def call_later(fn):
    def run():
        try:
            LATER.append(("ok", fn()))
        except Exception as exc:
            LATER.append(("error", f"{type(exc).__name__}: {exc}"))

    threading.Timer(0.2, run).start()
    return "scheduled"


def later_results():
    return list(LATER)
'''

CALLBACK_TESTS = """
import io
import threading
import time
import unittest.mock as mock

import pytest

import solution
from solution import Cell


def test_sorted_with_a_key_function():
    assert solution.sort_by(["bb", "a", "ccc"], key=len) == ["a", "bb", "ccc"]
    assert solution.sort_by([3, 1, 2], key=lambda x: -x) == [3, 2, 1]


def test_map_and_filter_helpers():
    def is_even(n):
        return n % 2 == 0

    assert solution.accumulate([1, 2, 3], lambda x: x * x) == [1, 4, 9]
    assert solution.keep(range(6), is_even) == [0, 2, 4]
    assert solution.apply_twice(str.upper, "ab") == "AB"


def test_observer_callbacks_run_later():
    seen = []
    cell = Cell(1)

    def record(old, new):
        seen.append((old, new))

    cell.add_callback(record)
    cell.value = 3
    cell.value = 4
    assert seen == [(1, 3), (3, 4)]
    cell.remove_callback(record)
    cell.value = 5
    assert seen == [(1, 3), (3, 4)]


def test_mock_passed_in_and_asserted():
    sender = mock.Mock()
    assert solution.notify(sender, "hello") == "sent"
    sender.send.assert_called_once_with("hello", priority=1)


def test_mock_as_a_callback():
    cb = mock.Mock(return_value=None)
    cell = Cell(0)
    cell.add_callback(cb)
    cell.value = 7
    cb.assert_called_once_with(0, 7)


def test_magicmock_protocols():
    m = mock.MagicMock()
    m.__len__.return_value = 3
    m.__getitem__.side_effect = lambda k: k * 2
    m.__contains__.return_value = True
    assert solution.lookup(m, 5) == (10, 3, True, True)


def test_file_object_opened_by_the_test(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("a b\\n\\nb c\\n")
    with open(path) as fh:
        assert solution.count_lines(fh) == 2
    with open(path) as fh:
        assert solution.first_line(fh) == "a b"
        assert solution.word_totals(fh) == {"b": 1, "c": 1}


def test_stream_passed_for_output():
    out = io.StringIO()
    solution.write_report([("ann", 3)], out)
    assert out.getvalue() == "ann: 3\\ndone\\n"


class Store:
    def __init__(self):
        self.data = {}

    def put(self, key, value):
        self.data[key] = value

    def get(self, key):
        return self.data[key]

    def __contains__(self, key):
        return key in self.data


def test_instance_of_a_test_class_with_public_methods():
    store = Store()
    assert solution.use_store(store, "abc") == 6
    assert store.data == {"abc": 3}


def test_bound_methods_of_test_objects():
    items = []
    assert solution.accumulate([1, 2], items.append) == [None, None]
    assert items == [1, 2]

    class Counter:
        def __init__(self):
            self.n = 0

        def bump(self, x):
            self.n += x
            return self.n

    counter = Counter()
    assert solution.accumulate([1, 2], counter.bump) == [1, 3]
    assert counter.n == 3


class MyError(Exception):
    pass


def test_callback_exceptions_cross_both_ways():
    def bad(x):
        raise ValueError(f"bad {x}")

    assert solution.safe_call(bad, 3) == ("error", "bad 3")
    original = MyError("boom")

    def boom():
        raise original

    with pytest.raises(MyError, match="boom") as info:
        solution.call_it(boom)
    assert info.value is original


def test_candidate_code_catches_only_the_listed_test_exception():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise MyError("not yet")
        return "ok"

    assert solution.retry(flaky, 5, MyError) == "ok"
    calls.clear()

    def wrong():
        calls.append(1)
        raise KeyError("k")

    with pytest.raises(KeyError):
        solution.retry(wrong, 5, MyError)
    assert len(calls) == 1


def test_callbacks_from_inside_candidate_generators():
    gen = solution.lazy_map(lambda x: x + 1, [1, 2, 3])
    assert next(gen) == 2
    assert list(gen) == [3, 4]


def test_test_side_generator_iterated_by_candidate_code():
    def numbers():
        yield 1
        yield 2

    assert solution.consume(numbers()) == [10, 20]
    assert solution.consume(x for x in range(3)) == [0, 10, 20]


def test_decorator_keeps_name_and_doc():
    calls = []

    def square(x):
        \"\"\"Square it.\"\"\"
        calls.append(x)
        return x * x

    fast = solution.memoize(square)
    assert fast(3) == 9 and fast(3) == 9
    assert calls == [3]
    assert fast.__name__ == "square"
    assert solution.describe(square) == ("square", "Square it.", True, "(*args, **kwargs)")


def test_callback_from_a_candidate_thread():
    assert solution.in_thread(lambda x: x * 2, 21) == 42


def test_test_side_context_manager():
    lock = threading.Lock()
    assert solution.with_lock(lock, lock.locked) is True
    assert not lock.locked()


def test_identity_round_trip_hash_and_protocols():
    def fn():
        return 1

    assert solution.same(fn) is fn
    assert solution.hashes(fn) == (True, True, 1, False)
    assert solution.protocols(fn) == (True, False, False, False, "TestObject")
    assert solution.protocols(io.StringIO("x"))[:4] == (False, True, True, False)


def test_nested_calls_back_and_forth():
    def fn(n):
        return solution.down(fn, n)

    assert fn(10) == 10


def test_nesting_too_deep_fails_cleanly():
    def fn(n):
        return solution.down(fn, n)

    with pytest.raises(RecursionError, match="nested"):
        fn(100)
    assert fn(3) == 3


def test_monkeypatch_candidate_global_with_a_test_function(monkeypatch):
    monkeypatch.setattr(solution, "helper", lambda x: x * 100)
    assert solution.compute(2) == 2000


def test_monkeypatch_undo_restored_the_original():
    assert solution.compute(2) == 30


def test_mock_patch_of_a_candidate_global():
    with mock.patch("solution.helper", return_value=5) as fake:
        assert solution.compute(1) == 50
    fake.assert_called_once_with(1)
    assert solution.compute(1) == 20


def test_callbacks_registered_in_an_earlier_call():
    solution.register(lambda x: x + 1)
    solution.register(str)
    assert solution.run_registered(1) == [2, "1"]


def test_callback_used_after_the_call_that_passed_it_returned():
    assert solution.call_later(lambda: "late") == "scheduled"


def test_that_late_use_failed_cleanly():
    time.sleep(0.6)
    [(status, text)] = solution.later_results()
    assert status == "error"
    assert "can only be used while the test is calling" in text
"""


def test_test_side_objects_cross_as_references(sandbox: Sandbox) -> None:
    """Lambdas, defs, Mocks, files, bound methods and test-class instances passed to
    candidate code work as in one process, including nested and later calls."""
    sandbox.write({"solution.py": CALLBACK_SOLUTION})
    sandbox.start()
    run = sandbox.pytest(
        {"test_callbacks.py": CALLBACK_TESTS},
        ini=HARNESS / "pytest.ini",
        args=("--import-mode=importlib", "--capture=tee-sys"),
    )
    _all_passed(run, CALLBACK_TESTS.count("\ndef test_"))
    for name, outcome in run.outcomes.items():
        assert not outcome.properties, (name, outcome.properties)


def test_the_callback_tests_fail_against_a_wrong_solution(sandbox: Sandbox) -> None:
    wrong = (
        CALLBACK_SOLUTION.replace("sorted(xs, key=key)", "sorted(xs)")
        .replace("cb(old, new)", "cb(new, old)")
        .replace("priority=1", "priority=2")
        .replace("[x for x in xs if pred(x)]", "[x for x in xs if not pred(x)]")
        .replace("except ValueError as exc", "except KeyError as exc")
    )
    sandbox.write({"solution.py": wrong})
    sandbox.start()
    run = sandbox.pytest({"test_callbacks.py": CALLBACK_TESTS})
    failed = run.names("failed")
    for name in (
        "test_sorted_with_a_key_function",
        "test_map_and_filter_helpers",
        "test_observer_callbacks_run_later",
        "test_mock_passed_in_and_asserted",
        "test_mock_as_a_callback",
        "test_callback_exceptions_cross_both_ways",
    ):
        assert name in failed, run.output[-3000:]
    assert "test_file_object_opened_by_the_test" in run.names("passed")


# ---------------------------------------------------------------------------
# escape attempts through test-side objects: refused, recorded, and the test fails

TAMPER_SOLUTION = '''
"""Each function tries to reach into the test process, catches the refusal, and
answers what the test wants to hear."""
import sys


def _try(action):
    try:
        action()
    except Exception as exc:
        print(f"REFUSED {type(exc).__name__}: {exc}", flush=True)
    return "fine"


def read_globals(fn):
    return _try(lambda: fn.__globals__)


def format_walk(fn):
    return _try(lambda: "{0.__globals__}".format(fn))


def getattr_code(fn):
    return _try(lambda: getattr(fn, "__code__"))


def mock_private(m):
    return _try(lambda: m._mock_children)


def mock_rewrite(m):
    return _try(lambda: m.configure_mock(**{"assert_called_once_with": lambda *a, **k: None}))


def mock_reset(m):
    return _try(lambda: m.reset_mock())


def write_attr(fn):
    def action():
        fn.hacked = 1

    return _try(action)


def delete_attr(obj):
    def action():
        del obj.data

    return _try(action)


def gen_frame(gen):
    return _try(lambda: gen.gi_frame.f_globals)


def module_attr(holder):
    return _try(lambda: holder.os)


def pytest_object(holder):
    return _try(lambda: holder.mp.setattr)


def self_of(method):
    return _try(lambda: method.__self__)


def dict_of(obj):
    return _try(lambda: vars(obj))


def globals_result(holder):
    return _try(lambda: holder.env())


def class_walk(fn):
    # the proxy's own class: candidate-side code, nothing of the test process
    init = fn.__class__.__init__
    names = init.__globals__.keys() if hasattr(init, "__globals__") else []
    return type(fn).__name__, sorted(n for n in names if n in ("HIDDEN_GLOBAL", "victim"))


def reduce(fn):
    try:
        fn.__reduce_ex__(2)
    except TypeError as exc:
        return str(exc)


def huge(make):
    try:
        make(20_000_000)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def swallow(check, x):
    try:
        check(x)
    except BaseException:
        pass
    return "fine"


def probe(fn):
    import functools
    import inspect

    functools.wraps(fn)(lambda: None)
    inspect.signature(fn)
    return hasattr(fn, "__len__"), hasattr(fn, "__iter__"), getattr(fn, "__wrapped__", None)
'''

TAMPER_TESTS = """
import os
import types
import unittest.mock as mock

import solution

HIDDEN_GLOBAL = "the test module's own data"


def victim():
    return 1


def test_read_globals():
    assert solution.read_globals(victim) == "fine"


def test_format_walk():
    assert solution.format_walk(victim) == "fine"


def test_getattr_code():
    assert solution.getattr_code(victim) == "fine"


def test_mock_private():
    assert solution.mock_private(mock.Mock()) == "fine"


def test_mock_rewrite():
    m = mock.Mock()
    assert solution.mock_rewrite(m) == "fine"
    m(42)
    m.assert_called_once_with(42)


def test_mock_reset():
    assert solution.mock_reset(mock.Mock()) == "fine"


def test_write_attr():
    assert solution.write_attr(victim) == "fine"


class Box:
    def __init__(self):
        self.data = [1]

    def method(self):
        return 1


def test_delete_attr():
    assert solution.delete_attr(Box()) == "fine"


def test_gen_frame():
    assert solution.gen_frame(x for x in [1]) == "fine"


def test_module_attr():
    assert solution.module_attr(types.SimpleNamespace(os=os)) == "fine"


def test_pytest_object(monkeypatch):
    assert solution.pytest_object(types.SimpleNamespace(mp=monkeypatch)) == "fine"


def test_self_of():
    assert solution.self_of(Box().method) == "fine"


def test_dict_of():
    assert solution.dict_of(Box()) == "fine"


class Env:
    def env(self):
        return globals()


def test_globals_result():
    assert solution.globals_result(Env()) == "fine"


def test_swallowed_assertion_of_a_callback_still_fails():
    def check(x):
        assert x > 100

    assert solution.swallow(check, 1) == "fine"


def test_harmless_class_walk():
    assert solution.class_walk(victim) == ("TestObject", [])


def test_harmless_reduce():
    assert "cannot pickle" in solution.reduce(victim)


def test_huge_result_fails_cleanly():
    assert "cannot be sent" in solution.huge(lambda n: "x" * n)


def test_standard_library_probes_are_not_attempts():
    assert solution.probe(victim) == (False, False, None)
"""

ATTEMPTS = {
    "test_read_globals": "'__globals__'",
    "test_format_walk": "'__globals__'",
    "test_getattr_code": "'__code__'",
    "test_mock_private": "'_mock_children'",
    "test_mock_rewrite": "'configure_mock'",
    "test_mock_reset": "'reset_mock'",
    "test_write_attr": "setting the attribute 'hacked'",
    "test_delete_attr": "deleting the attribute 'data'",
    "test_gen_frame": "'gi_frame'",
    "test_module_attr": "a module",
    "test_pytest_object": "_pytest.monkeypatch",
    "test_self_of": "'__self__'",
    "test_dict_of": "'__dict__'",
    "test_globals_result": "globals",
}


OUTSIDE_TESTS = """
import pytest

import solution


def victim():
    return 1


# at import (collection), outside of any test
solution.read_globals(victim)


def test_first():
    assert solution.swallow(lambda x: None, 1) == "fine"


def test_fail_in_a_callback():
    assert solution.swallow(lambda x: pytest.fail("failed in the callback"), 1) == "fine"


def test_skip_in_a_callback():
    solution.swallow(lambda x: pytest.skip("skipped in the callback"), 1)


def test_next_one_is_clean():
    assert solution.swallow(lambda x: None, 1) == "fine"
"""


def test_refusals_outside_a_test_and_pytest_outcomes_in_callbacks(sandbox: Sandbox) -> None:
    """A refusal at collection fails the first test that runs (at setup); ``pytest.fail`` and
    ``pytest.skip`` inside a test callback end the test as they would in one
    process (the candidate's code cannot swallow them), and the next test is clean."""
    sandbox.write({"solution.py": TAMPER_SOLUTION})
    sandbox.start()
    run = sandbox.pytest({"test_outside.py": OUTSIDE_TESTS})
    first = run.outcomes["test_first"]
    assert first.outcome == "error"
    assert "outside of any test" in first.prop("grader_tamper")[0]
    failed = run.outcomes["test_fail_in_a_callback"]
    assert failed.outcome == "failed" and "failed in the callback" in failed.message
    assert not failed.properties
    assert run.outcomes["test_skip_in_a_callback"].outcome == "skipped"
    clean = run.outcomes["test_next_one_is_clean"]
    assert clean.outcome == "passed" and not clean.properties, clean


def test_escape_attempts_are_refused_recorded_and_fail_the_test(sandbox: Sandbox) -> None:
    """Each attempt raises in the candidate's code with a clear message, fails the
    test although the candidate caught it, and leaves a ``grader_tamper`` property;
    what stays in the candidate's process (the proxy's own class, pickling) and the
    standard library's probes (functools.wraps, inspect.signature, hasattr of
    dunders) are no attempt."""
    sandbox.write({"solution.py": TAMPER_SOLUTION})
    sandbox.start()
    run = sandbox.pytest({"test_tamper.py": TAMPER_TESTS})
    for name, needle in ATTEMPTS.items():
        outcome = run.outcomes[name]
        assert outcome.outcome == "failed", (name, outcome)
        tamper = outcome.prop("grader_tamper")
        assert tamper and needle in tamper[0], (name, tamper)
        assert "was refused" in outcome.message and needle in outcome.message, name
    swallowed = run.outcomes["test_swallowed_assertion_of_a_callback_still_fails"]
    assert swallowed.outcome == "failed" and "assert 1 > 100" in swallowed.message
    assert not swallowed.prop("grader_tamper")
    for name in (
        "test_harmless_class_walk",
        "test_harmless_reduce",
        "test_huge_result_fails_cleanly",
        "test_standard_library_probes_are_not_attempts",
    ):
        assert run.outcomes[name].outcome == "passed", (name, run.outcomes[name].message)
        assert not run.outcomes[name].properties
    log = sandbox.log()
    assert "REFUSED AttributeError: grader: reading the attribute '__globals__'" in log
    assert "REFUSED PermissionError: grader: a result that would hand it a module" in log
    assert "HIDDEN_GLOBAL" not in log


# ---------------------------------------------------------------------------
# portability notes: why a failed test could not work under process isolation

PORTABILITY_SOLUTION = """
import os
import random
import time

CONFIG = {"debug": False}


def read_config(path):
    with open(path) as fh:
        return fh.read()


def now():
    return time.time()


def roll():
    return random.randint(1, 6)


def exists(path):
    return os.path.exists(path)


def env(name):
    return os.environ.get(name)


def cwd():
    return os.getcwd()


def greet(name):
    print(f"Hello, {name}!")


def debug():
    return CONFIG["debug"]


def size(path):
    return len(str(path))


class Thing:
    pass
"""

PORTABILITY_TESTS = """
import os
import random
import time
from unittest import mock

import solution


def test_patch_builtins_open():
    with mock.patch("builtins.open", mock.mock_open(read_data="x=1")):
        assert solution.read_config("/nowhere/app.cfg") == "x=1"


def test_monkeypatch_time(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 42.0)
    assert solution.now() == 42.0


def test_patch_random():
    with mock.patch("random.randint", return_value=6):
        assert solution.roll() == 7


def test_patch_os_path_exists():
    with mock.patch("os.path.exists", return_value=True):
        assert solution.exists("/nowhere/at/all")


def test_setenv(monkeypatch):
    monkeypatch.setenv("APP_MODE", "test")
    assert solution.env("APP_MODE") == "test"


def test_chdir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert solution.cwd() == str(tmp_path)


def test_capsys(capsys):
    solution.greet("Ann")
    assert capsys.readouterr().out == "Hello, Ann!\\\\n"


def test_setitem_on_a_copy(monkeypatch):
    monkeypatch.setitem(solution.CONFIG, "debug", True)
    assert solution.debug() is True


def test_patch_dict_of_a_candidate_global():
    with mock.patch.dict("solution.CONFIG", {"debug": True}):
        assert solution.debug() is True


def test_path_of_the_test_side(tmp_path):
    path = tmp_path / "input.txt"
    path.write_text("data")
    assert solution.size(str(path)) == 0
    assert solution.size(path) == 0


def test_value_that_cannot_cross(monkeypatch):
    solution.size(monkeypatch)


def test_two_causes_in_one_test(monkeypatch):
    monkeypatch.setenv("A", "1")
    monkeypatch.setattr(time, "time", lambda: 1.0)
    assert solution.env("A") == "1"


def test_a_test_failing_for_its_own_reasons_records_nothing():
    assert not isinstance(object(), solution.Thing)
    assert solution.Thing() + 1 == 2


def test_a_passing_test_records_nothing(monkeypatch):
    monkeypatch.setenv("X", "1")
    assert solution.env("PATH") is not None


def test_patching_the_candidate_module_works(monkeypatch):
    monkeypatch.setattr(solution, "CONFIG", {"debug": True})
    assert solution.debug() is True


def test_patch_of_a_candidate_module_attribute_chain():
    with mock.patch("solution.random.randint", return_value=6):
        assert solution.roll() == 6
    assert 1 <= solution.roll() <= 6
"""

EXPECTED_CAUSES = {
    "test_patch_builtins_open": ["patches builtins.open", "real open()"],
    "test_monkeypatch_time": ["monkeypatch.setattr patches time.time"],
    "test_patch_random": ["mock.patch patches random.randint"],
    "test_patch_os_path_exists": ["mock.patch patches posixpath.exists"],
    "test_setenv": ["the environment variable APP_MODE"],
    "test_chdir": ["the working directory"],
    "test_capsys": ["with capsys"],
    "test_setitem_on_a_copy": ["monkeypatch.setitem", "'debug'", "copy"],
    "test_patch_dict_of_a_candidate_global": ["solution.CONFIG, a copy"],
    "test_path_of_the_test_side": ["passes the path", "input.txt"],
    "test_value_that_cannot_cross": ["cannot cross", "_pytest.monkeypatch"],
    "test_two_causes_in_one_test": ["APP", "time.time"],
}


def test_failed_tests_that_cannot_work_in_another_process_say_why(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": PORTABILITY_SOLUTION})
    sandbox.start()
    run = sandbox.pytest({"test_port.py": PORTABILITY_TESTS})
    for name, needles in EXPECTED_CAUSES.items():
        outcome = run.outcomes[name]
        assert outcome.outcome == "failed", (name, outcome.message[-2000:])
        notes = [json.loads(value) for value in outcome.prop("grader_portability")]
        assert notes and all(set(n) == {"cause", "fix"} for n in notes), (name, notes)
        causes = " | ".join(n["cause"] for n in notes)
        if name == "test_two_causes_in_one_test":
            assert len(notes) == 2, notes
            needles = ["the environment variable A ", "time.time"]
        for needle in needles:
            assert needle in causes, (name, needle, causes)
        assert all('isolation = "in-process"' in n["fix"] for n in notes), notes
        assert "grader: process isolation" in outcome.message, name
        assert notes[0]["cause"] in outcome.message, name
        assert not outcome.prop("grader_tamper"), name
    open_note = json.loads(run.outcomes["test_patch_builtins_open"].prop("grader_portability")[0])
    assert "file's contents" in open_note["fix"]
    own_reasons = run.outcomes["test_a_test_failing_for_its_own_reasons_records_nothing"]
    assert own_reasons.outcome == "failed", own_reasons.message
    assert not own_reasons.properties, own_reasons.properties
    for name in (
        "test_a_passing_test_records_nothing",
        "test_patching_the_candidate_module_works",
        "test_patch_of_a_candidate_module_attribute_chain",
    ):
        assert run.outcomes[name].outcome == "passed", (name, run.outcomes[name].message)
        assert not run.outcomes[name].properties, name


# ---------------------------------------------------------------------------
# the test side's boundary: crafted requests of a candidate side that ignores its proxy


def _test_side_modules() -> types.SimpleNamespace:
    """The test-side harness modules, imported by name as the plugin does."""
    if str(HARNESS) not in sys.path:
        sys.path.insert(0, str(HARNESS))
    import rpc_connection
    import rpc_findings

    return types.SimpleNamespace(connection=rpc_connection, findings=rpc_findings)


class FakeCandidate:
    """A listening 'candidate side' that answers hello, then, on the test side's next
    request, sends the crafted ``requests`` and answers with the replies it got."""

    def __init__(self, requests: list[dict[str, object]]) -> None:
        self.requests = requests
        self.replies: list[dict[str, object]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = __import__("threading").Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            reader = P.FrameReader(conn)

            def read() -> dict:
                payload = reader.read_frame()
                assert payload is not None
                return P.loads(payload)

            hello = read()
            conn.sendall(P.pack_frame(P.dumps({"i": hello["i"], "v": ["d", ["version", 2]]})))
            first = read()
            args = first["a"]
            for n, request in enumerate(self.requests, 1):
                filled = _fill(request, args)
                assert isinstance(filled, dict)
                message = {"i": n, **filled}
                conn.sendall(P.pack_frame(P.dumps(message)))
                self.replies.append(read())
            answer = {"i": first["i"], "v": "done"}
            conn.sendall(P.pack_frame(P.dumps(answer)))
            with contextlib.suppress(OSError, P.ProtocolError):
                reader.read_frame()  # until the test side hangs up

    def close(self) -> None:
        self.listener.close()


def _fill(value: object, args: list) -> object:
    """Replace the strings ``argN`` by the N-th argument the test side sent."""
    if isinstance(value, str) and value.startswith("arg") and value[3:].isdigit():
        return args[int(value[3:])]
    if isinstance(value, list):
        return [_fill(v, args) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, args) for k, v in value.items()}
    return value


def test_the_test_side_refuses_what_the_reverse_channel_does_not_allow() -> None:
    """The rules hold on the test side whatever the candidate side sends: underscore
    names, frame-walking names, writes, module and pytest results, Mock rewrites and
    made-up targets are refused (and recorded), unknown references and operations
    are refused without running anything."""
    import os as os_module
    import unittest.mock

    mods = _test_side_modules()
    secret = "HIDDEN-EXPECTED-VALUE-1234"

    def fn() -> str:
        return "called"

    def gen() -> Iterator[int]:
        yield 1

    class Holder:
        os = os_module

        def env(self) -> dict:
            return globals()

        def fails(self) -> None:
            assert fn() == secret

    holder = Holder()
    mock = unittest.mock.Mock()
    requests = [
        {"o": "call", "a": ["arg0", ["l", []], ["d", []]]},  # 1 allowed
        {"o": "getattr", "a": ["arg0", "__globals__"]},  # 2
        {"o": "getattr", "a": ["{0.__globals__}", "format"]},  # 3 not a test-side target
        {"o": "getattr", "a": ["arg1", "gi_frame"]},  # 4
        {"o": "getattr", "a": ["arg2", "os"]},  # 5 a module
        {"o": "call", "a": [["q", 0], ["l", []], ["d", []]]},  # 6 forged id: filled below
        {"o": "setattr", "a": ["arg0", "x", 1]},  # 7
        {"o": "exec", "a": ["arg0", "print(1)"]},  # 8 no such operation
        {"o": "getattr", "a": ["arg3", "configure_mock"]},  # 9
        {"o": "getattr", "a": ["arg3", "_mock_children"]},  # 10
        {"o": "cmp", "a": ["eq", 1, 2]},  # 11 no test-side operand
        {"o": "meta", "a": ["arg0", "__globals__"]},  # 12 only the four names
        {"o": "meta", "a": ["arg0", "__name__"]},  # 13 allowed
        {"o": "getattr", "a": ["arg4", "monkeypatch"]},  # 14 a pytest object
        {"o": "delattr", "a": ["arg0", "__code__"]},  # 15
    ]
    requests[5]["a"][0] = ["q", 9999]
    fake = FakeCandidate(requests)
    findings = mods.findings.Findings()
    conn = mods.connection.Connection(f"127.0.0.1:{fake.port}", ("solution",), findings=findings)
    monkeypatch = pytest.MonkeyPatch()
    try:
        pytest_holder = types.SimpleNamespace(monkeypatch=monkeypatch)
        assert conn.call("ping", fn, gen(), holder, mock, pytest_holder) == "done"
    finally:
        monkeypatch.undo()
        conn.close()
        fake.close()
    replies = fake.replies
    assert len(replies) == len(requests)
    assert replies[0]["v"] == "called"
    refused_kinds = {2: "AttributeError", 4: "AttributeError", 5: "PermissionError",
                     7: "AttributeError", 9: "AttributeError", 10: "AttributeError",
                     14: "PermissionError", 15: "AttributeError"}  # fmt: skip
    for n, kind in refused_kinds.items():
        reply = replies[n - 1]
        assert "x" in reply, (n, reply)
        assert reply["x"]["c"]["q"] == kind, (n, reply)
        assert reply["x"]["s"].startswith("grader: "), (n, reply)
    for n in (3, 6, 8, 11, 12):
        assert "p" in replies[n - 1], (n, replies[n - 1])
    assert replies[12]["v"] == "fn"
    assert not mock.method_calls and "x" not in vars(fn)
    tamper = "\n".join(findings.pending)
    for needle in ("'__globals__'", "'gi_frame'", "a module", "'x'", "'configure_mock'",
                   "'_mock_children'", "_pytest.monkeypatch", "'__code__'"):  # fmt: skip
        assert needle in tamper, (needle, tamper)
    assert len(findings.pending) == len(refused_kinds)


def test_test_side_results_and_exceptions_reveal_no_test_internals() -> None:
    """A callback's failed assertion crosses without its text (it may hold expected
    values); a result holding a namespace of globals is refused; tracebacks of the
    test side never cross."""
    mods = _test_side_modules()
    secret = "HIDDEN-EXPECTED-VALUE-1234"

    def check() -> None:
        assert secret == "x"

    def env() -> dict:
        return {"__builtins__": {}, "x": 1}

    def oops() -> None:
        raise ValueError("plain message")

    requests = [
        {"o": "call", "a": ["arg0", ["l", []], ["d", []]]},
        {"o": "call", "a": ["arg1", ["l", []], ["d", []]]},
        {"o": "call", "a": ["arg2", ["l", []], ["d", []]]},
    ]
    fake = FakeCandidate(requests)
    findings = mods.findings.Findings()
    conn = mods.connection.Connection(f"127.0.0.1:{fake.port}", ("solution",), findings=findings)
    try:
        with pytest.raises(AssertionError, match="HIDDEN") as info:
            conn.call("ping", check, env, oops)
    finally:
        conn.close()
        fake.close()
    # the candidate swallowed the assertion: it still fails the call
    assert any("caught this failed assertion" in note for note in info.value.__notes__)
    assertion, globals_, plain = fake.replies
    assert assertion["x"]["c"]["q"] == "AssertionError"
    assert secret not in json.dumps(assertion)
    assert globals_["x"]["c"]["q"] == "PermissionError"
    assert "globals" in findings.pending[0]
    assert plain["x"]["s"] == "plain message" and plain["x"]["tb"] is None


# ---------------------------------------------------------------------------
# the candidate side at the protocol level


class RawClient:
    """Speaks the protocol directly (what a forged or buggy test side could send)."""

    def __init__(self, address: tuple[str, int], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(address, timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.reader = P.FrameReader(self.sock)
        self.next_id = 0

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> dict | None:
        payload = self.reader.read_frame()
        return None if payload is None else P.loads(payload)

    def call(self, op: str, *args: object) -> dict:
        self.next_id += 1
        self.send_raw(P.pack_frame(P.dumps({"i": self.next_id, "o": op, "a": list(args)})))
        reply = self.reply()
        assert reply is not None
        assert reply["i"] == self.next_id
        return reply


@contextlib.contextmanager
def raw_client(box: Sandbox) -> Iterator[RawClient]:
    client = RawClient(("127.0.0.1", box.port))
    try:
        yield client
    finally:
        client.close()


def test_worker_refuses_modules_outside_the_submission(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "X = 1\n", "json.py": "X = 2\n"})
    sandbox.start()
    with raw_client(sandbox) as c:
        hello = c.call("hello")["v"]
        assert P.Decoder(None, None, None, None, None).decode(hello)["version"] == 2
        for name in ("os", "json", "../solution", "solution; import os", ""):
            reply = c.call("import", name)
            assert "x" in reply, (name, reply)
            assert reply["x"]["c"]["q"] in ("ImportError", "ModuleNotFoundError")
        module = c.call("import", "solution")["v"]
        assert module[0] == "r" and module[2] == "module"
        assert c.call("getattr", ["r", module[1]], "X") == {"i": c.next_id, "v": 1}


def test_worker_refuses_malformed_requests_and_keeps_serving(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "def f(x):\n    return x\n"})
    sandbox.start()
    with raw_client(sandbox) as c:
        assert "p" in c.call("no-such-op")
        assert "unknown remote reference" in c.call("getattr", ["r", 12345], "x")["p"]
        assert "p" in c.call("call", ["zz", 1])
        c.send_raw(P.pack_frame(b"not json"))
        assert "malformed" in c.reply()["p"]  # type: ignore[index]
        c.send_raw(P.pack_frame(b'{"i": 1, "o": "hello", "a": [NaN]}'))
        assert "p" in c.reply()  # type: ignore[operator]
        module = c.call("import", "solution")["v"]
        fn = c.call("getattr", ["r", module[1]], "f")["v"]
        assert c.call("call", ["r", fn[1]], ["l", [7]], ["d", []])["v"] == 7
        # releasing a reference makes it unknown
        c.next_id += 1
        c.send_raw(P.pack_frame(P.dumps({"i": c.next_id, "o": "ping", "a": [], "r": [fn[1]]})))
        assert c.reply() == {"i": c.next_id, "v": None}
        assert "unknown remote reference" in c.call("repr", ["r", fn[1]])["p"]
        # a frame over the size limit ends the connection
        c.send_raw(struct.pack(">I", P.MAX_FRAME + 1))
        assert c.reply() is None


def test_supervisor_gives_each_connection_a_fresh_worker_and_reaps(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "import os\n\ndef pid():\n    return os.getpid()\n"})
    sandbox.start()
    assert sandbox.supervisor is not None
    pids = []
    for _ in range(12):
        with raw_client(sandbox) as c:
            pids.append(c.call("hello")["v"][1][3])  # {"version", 1, "pid", N} flattened
    assert len(set(pids)) == 12
    # An open connection is replaced by the next one: its worker is killed.
    first = RawClient(("127.0.0.1", sandbox.port))
    try:
        old = first.call("hello")
        with raw_client(sandbox) as second:
            assert second.call("hello")["v"] != old["v"]
            assert first.reply() is None  # the old worker's connection was closed
    finally:
        first.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        children = _children(sandbox.supervisor.pid)
        if all(state != "Z" for _, state in children) and len(children) <= 1:
            break
        time.sleep(0.05)
    assert all(state != "Z" for _, state in _children(sandbox.supervisor.pid))
    assert len(_children(sandbox.supervisor.pid)) <= 1
    assert sandbox.supervisor.poll() is None


def test_supervisor_stops_on_sigterm(sandbox: Sandbox) -> None:
    sandbox.write({"solution.py": "X = 1\n"})
    sandbox.start()
    assert sandbox.supervisor is not None
    with raw_client(sandbox) as c:
        c.call("hello")
        sandbox.supervisor.send_signal(signal.SIGTERM)
        assert sandbox.supervisor.wait(timeout=10) == 0
        assert c.reply() is None


# ---------------------------------------------------------------------------
# the wire format


def _decoder(on_ref=None):  # type: ignore[no-untyped-def]
    def exc_class(desc):  # type: ignore[no-untyped-def]
        return P.builtin_exception(P.exc_class_names(desc)[1]) or Exception

    def exception(desc, args, decode):  # type: ignore[no-untyped-def]
        return P.build_exception(exc_class(desc["c"]), args, desc["s"])

    def namedtuple(module, qualname, fields, items):  # type: ignore[no-untyped-def]
        return ("nt", qualname, fields, items)

    def builtin(name):  # type: ignore[no-untyped-def]
        if name not in P.SAFE_BUILTIN_TYPES:
            raise P.ProtocolError(name)
        return getattr(builtins, name)

    return P.Decoder(
        on_ref or (lambda item: ("ref", item[1])), exc_class, exception, namedtuple, builtin
    )


def _roundtrip(value: object) -> object:
    refs: list[object] = []

    def other(obj: object) -> object:
        refs.append(obj)
        return ["r", len(refs), type(obj).__name__]

    wire = json.loads(P.dumps({"v": P.Encoder(other).encode(value)}))["v"]
    return _decoder(lambda item: refs[item[1] - 1]).decode(wire)


def test_data_round_trips_with_exact_types() -> None:
    import datetime
    import decimal
    import fractions
    import uuid

    values = [
        None,
        True,
        0,
        -(2**63),
        2**63,
        10**5000,
        -(10**5000),
        1.5,
        -0.0,
        float("inf"),
        float("-inf"),
        "text \udc80 \u00e9 \U0001f600",
        b"\x00\xff",
        bytearray(b"ba"),
        [1, [2, (3, {4: "x"})]],
        (),
        {(1, 2): [3], frozenset({1}): {"a": None}, 3.5: b""},
        {1, "a", (2, 3)},
        frozenset({frozenset()}),
        2 + 3j,
        slice(1, None, 2),
        range(0, 10, 3),
        Ellipsis,
        decimal.Decimal("-1.250"),
        fractions.Fraction(1, 3),
        datetime.date(2024, 2, 29),
        datetime.datetime(2024, 1, 1, 12, 30, 5, 7, tzinfo=datetime.UTC),
        datetime.timedelta(days=-1, seconds=5),
        uuid.UUID(int=7),
        int,
    ]
    for value in values:
        back = _roundtrip(value)
        assert type(back) is type(value), value
        assert back == value or (value != value and back != back), value
    nan = _roundtrip(float("nan"))
    assert type(nan) is float and math.isnan(nan)  # type: ignore[arg-type]
    assert math.copysign(1, _roundtrip(-0.0)) == -1  # type: ignore[arg-type]


def test_subclasses_cross_as_their_builtin_base_without_running_overrides() -> None:
    calls: list[str] = []

    class EvilInt(int):
        def __eq__(self, other: object) -> bool:
            calls.append("eq")
            return True

        def __int__(self) -> int:
            calls.append("int")
            return 0

        def __index__(self) -> int:
            calls.append("index")
            return 0

        __hash__ = int.__hash__

    class EvilStr(str):
        def __str__(self) -> str:
            calls.append("str")
            return "fake"

    class EvilList(list):  # type: ignore[type-arg]
        def __iter__(self):  # type: ignore[no-untyped-def]
            calls.append("iter")
            return iter([9])

    class EvilDict(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            calls.append("items")
            return [("k", 9)]

        def __iter__(self):  # type: ignore[no-untyped-def]
            calls.append("iter")
            return iter(["k"])

    class EvilTuple(tuple):  # type: ignore[type-arg]
        def __getitem__(self, i):  # type: ignore[no-untyped-def]
            calls.append("getitem")
            return 9

    class EvilFloat(float):
        def __float__(self) -> float:
            calls.append("float")
            return 0.0

    class EvilBytes(bytes):
        def __bytes__(self) -> bytes:
            calls.append("bytes")
            return b"fake"

    class EvilSet(set):  # type: ignore[type-arg]
        def __iter__(self):  # type: ignore[no-untyped-def]
            calls.append("iter")
            return iter([9])

    cases = [
        (EvilInt(5), 5),
        (EvilStr("real"), "real"),
        (EvilList([1, EvilInt(2)]), [1, 2]),
        (EvilDict(a=EvilStr("b")), {"a": "b"}),
        (EvilTuple((1, 2)), (1, 2)),
        (EvilFloat(2.5), 2.5),
        (EvilBytes(b"raw"), b"raw"),
        (EvilSet({1}), {1}),
        (True, True),
    ]
    for value, expected in cases:
        back = _roundtrip(value)
        assert type(back) is type(expected) and back == expected, (value, back)
    assert calls == []


def test_non_data_becomes_a_reference_and_cycles_and_depth_are_bounded() -> None:
    class Thing:
        pass

    thing = Thing()
    assert _roundtrip([thing, {"k": thing}]) == [thing, {"k": thing}]
    cyclic: list[object] = []
    cyclic.append(cyclic)
    back = _roundtrip(cyclic)
    assert type(back) is list and back[0] is cyclic  # type: ignore[index]
    deep: list[object] = []
    for _ in range(500):
        deep = [deep]
    back = _roundtrip(deep)
    for _ in range(P.ENCODE_DEPTH):
        assert type(back) is list
        back = back[0]  # type: ignore[index]
    assert back is not None


def test_exceptions_cross_as_data() -> None:
    exc = KeyError("missing")
    back = _roundtrip(exc)
    assert type(back) is KeyError and back.args == ("missing",)  # type: ignore[union-attr]
    err = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    back = _roundtrip(err)
    assert type(back) is UnicodeDecodeError and str(back) == str(err)

    class Custom(LookupError):
        def __init__(self, code: int) -> None:
            super().__init__(f"code {code}")
            self.code = code

    desc = P.describe_exception(Custom(7), P.Encoder(P._refuse).encode, P.Encoder(P._refuse).encode)
    assert desc["s"] == "code 7" and desc["d"] == {"code": 7}
    bases = desc["c"]["b"]
    assert bases == [{"m": "builtins", "q": "LookupError"}]


def test_decoding_refuses_malformed_and_oversized_input() -> None:
    decoder = _decoder()
    nested: object = 1
    for _ in range(P.MAX_DEPTH + 5):
        nested = ["l", [nested]]
    bad_values = [
        nested,
        {"a": 1},
        ["zz", 1],
        ["l"],
        ["d", [1]],
        ["s", [["l", []]]],
        ["b", "!!"],
        ["B", "eval"],
        ["B", "open"],
        ["E", {"m": "os; x", "q": "Y"}],
        ["dt", [2024, 13, 1, 0, 0, 0], [0, 0], None],
    ]
    for value in bad_values:
        with pytest.raises(P.ProtocolError):
            decoder.decode(value)
    for payload in (b"[1]", b"\xff", b'{"a": NaN}', b'{"a": Infinity}', b"[" * 100000):
        with pytest.raises(P.ProtocolError):
            P.loads(payload)
    with pytest.raises(P.EncodeError):
        P.pack_frame(b"x" * (P.MAX_FRAME + 1))

    class FakeSock:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def recv(self, n: int) -> bytes:
            chunk, self.data = self.data[:n], self.data[n:]
            return chunk

    with pytest.raises(P.ProtocolError):
        P.FrameReader(FakeSock(struct.pack(">I", P.MAX_FRAME + 1))).read_frame()
    with pytest.raises(P.ProtocolError):
        P.FrameReader(FakeSock(struct.pack(">I", 10) + b"abc")).read_frame()
    reader = P.FrameReader(FakeSock(P.pack_frame(b"{}") + P.pack_frame(b"[]") + b"\x00"))
    assert reader.read_frame() == b"{}"
    assert reader.read_frame() == b"[]"
    assert reader.pending() == 1


def test_bytes_use_base64_and_big_ints_hex() -> None:
    wire = P.Encoder(P._refuse).encode([b"\x00\x01", 2**70])
    assert wire == ["l", [["b", base64.b64encode(b"\x00\x01").decode()], ["I", hex(2**70)]]]


def test_harness_imports_only_the_standard_library() -> None:
    """The RPC harness is standard library only (pytest in the plugin alone), imports
    nothing of the grader, and the candidate side imports nothing of the harness (it
    loads rpc_protocol.py by path, off sys.path)."""
    harness_modules = {p.stem for p in HARNESS.glob("rpc_*.py")}
    assert {"rpc_client", "rpc_connection", "rpc_errors", "rpc_protocol"} <= harness_modules
    for path in sorted(HARNESS.glob("rpc_*.py")):
        name = path.name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                assert top not in ("pickle", "marshal", "shelve", "ctypes", "grader", "runners")
                allowed = set(sys.stdlib_module_names)
                if name != "rpc_server.py":
                    allowed |= harness_modules
                if name == "rpc_client.py":
                    allowed |= {"pytest", "_pytest"}
                assert top in allowed, (name, module)


def test_every_harness_module_is_copied_into_the_sandbox() -> None:
    from runners.sandbox_io import harness_files

    assert {p.name for p in HARNESS.glob("*.py")} <= {p.name for p in harness_files()}
