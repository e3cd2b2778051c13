"""Performance cases (``tests/perf/``): the ``bench`` fixture, candidate against reference.

Loaded by ``pytest_boot.py`` in a performance run (``--perf-reference HOST:PORT``), next
to ``rpc_client`` (the candidate's code). The reference solution runs in its own
container behind the same RPC server (``rpc_server.py --secret-fd``), which serves only
a client that proves it holds the run's secret; this module holds the one connection
that does. Standard library and pytest only; never imports ``grader`` or ``runners``.

``bench(func, make_args, sizes, ...)`` times ``func`` (a function or class of the
submission, reached from its module: ``from logagg import aggregate``) against the
reference's object of the same module path, over input sizes:

- ``make_args(n)`` builds the arguments here, as data (a tuple is the positional
  arguments, anything else the one argument). They are sent once per size and side
  (``perf_stage``), so a timed crossing carries nothing but references.
- Each measurement is one crossing, ``perf_run(fn, staged, k)``: the candidate's (or
  the reference's) side calls ``fn`` ``k`` times in a row and says it is done. The
  time is read here, with this process's clock, around the crossing; the cost of an
  empty crossing (``k = 0``, measured at each size) is taken off, and the rest divided
  by ``k``. Nothing the candidate's process says about time is used.
- ``k`` is chosen at each size so that the reference's crossing takes at least
  ``min_time_s``; the candidate gets the same ``k``.
- Candidate and reference alternate (C R R C C R ...) for ``repeat`` repetitions per
  size (twice that at the largest size, whose ratio is scored, and more there while
  the budget lasts until the median ratio settles: see ``MAX_PAIRS``), so the load of a
  shared machine falls on both. A warm-up call of each comes
  first, and the two results are compared (``check``: a fast wrong answer is no
  performance); the case fails when they differ.
- The case has a time budget (``budget_s``): past it no new size starts and no new
  repetition beyond the third. A crossing that outruns the budget is abandoned (its
  worker is stopped): the case then records the time it ran as a lower bound. Once a
  size's median ratio passes ``stop_ratio``, larger sizes are not measured (the score
  is 0 from ``zero_at_ratio`` on; they would only take longer).

The raw figures go into the JUnit XML as the ``grader_perf`` property of the test (JSON,
see ``record`` below); the host turns them into medians, spreads, growth fits, the
ratio and the score (``grader/performance.py``).
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import rpc_protocol as P
from grader_contract import PERF_PROPERTY
from rpc_connection import Connection
from rpc_errors import CandidateError, CrossingTimedOut
from rpc_findings import Findings
from rpc_proxies import RemoteObject

# Set by pytest_boot before pytest starts: where the reference's server listens and the
# secret it must be shown (derived from the run token; never on a command line).
REFERENCE: dict[str, str] = {}
FORMAT = 1
MIN_REPEAT = 3
MAX_SIZES = 12
MAX_REPEAT = 31
# At the largest size (the scored one), repetitions go on past ``2 × repeat``, up to
# this many pairs and within the budget, until the standard error of the median log
# ratio is at most SETTLED_SE (about ±1.5 points of score at the default ratios): a
# loaded machine gets the samples a quiet one does not need.
MAX_PAIRS = 60
SETTLED_SE = 0.02
EMPTY_CROSSINGS = 5
MAX_CALLS = 1_000_000
# Seconds past the budget a started crossing may still take (the reference's).
GRACE_S = 5.0
# A candidate crossing is never abandoned sooner than this.
MIN_STOP_S = 1.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perf", "performance cases (candidate against reference)")
    group.addoption("--perf-repeat", type=int, default=7, help="repetitions per size")
    group.addoption("--perf-budget", type=float, default=20.0, help="seconds per case")
    group.addoption(
        "--perf-min-time", type=float, default=0.05, help="seconds per measurement (at least)"
    )
    group.addoption(
        "--perf-stop-ratio",
        type=float,
        default=10.0,
        help="abandon a candidate crossing past this many times the reference's",
    )


class _Reference:
    """The session's authenticated connection to the reference solution's server."""

    def __init__(self, address: str, secret: str) -> None:
        self.conn = Connection(address, (), 10.0, None, findings=Findings(), secret=secret)

    def resolve(self, module: str, attrs: tuple[str, ...]) -> RemoteObject:
        target = self.conn.call("import", module)
        for attr in attrs:
            target = self.conn.call("getattr", target, attr)
        if not isinstance(target, RemoteObject):
            raise TypeError(f"{'.'.join((module, *attrs))} of the reference is not an object")
        return target

    def close(self) -> None:
        self.conn.close()


_STATE: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    if REFERENCE.get("address") and REFERENCE.get("secret"):
        _STATE["reference"] = _Reference(REFERENCE["address"], REFERENCE["secret"])


def pytest_unconfigure(config: pytest.Config) -> None:
    ref = _STATE.pop("reference", None)
    if isinstance(ref, _Reference):
        ref.close()


def _settled(cand: Sequence[float], ref: Sequence[float]) -> bool:
    """Whether the median of the pairs' log ratios is known to within ``SETTLED_SE``: its
    standard error, estimated from the median absolute deviation, is that small."""
    logs = [math.log(c / r) for c, r in zip(cand, ref, strict=False) if c > 0 and r > 0]
    if len(logs) < MIN_REPEAT:
        return False
    middle = statistics.median(logs)
    sd = 1.4826 * statistics.median(abs(x - middle) for x in logs)
    return 1.2533 * sd / math.sqrt(len(logs)) <= SETTLED_SE


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _sig(x: float) -> float:
    """Four significant digits (the figures are measurements, not exact values)."""
    return float(f"{x:.4g}")


def _args_of(made: object) -> list[object]:
    return list(made) if type(made) is tuple else [made]


def _is_data(value: object) -> bool:
    try:
        P.data_only(value)
    except (P.EncodeError, RecursionError):
        return False
    return True


class _Side:
    """One side of the comparison: a connection, the object timed, the staged args.

    Whatever goes wrong on the reference's side is ``_ReferenceFailed`` (never the
    candidate's fault); a candidate crossing past its limit is ``_CandidateStopped``.
    """

    def __init__(self, name: str, conn: Connection, fn: RemoteObject) -> None:
        self.name = name
        self.conn = conn
        self.fn = fn
        self.staged: object = None

    @contextlib.contextmanager
    def _blame(self) -> Iterator[None]:
        try:
            yield
        except CrossingTimedOut as exc:
            if self.name == "c":
                raise _CandidateStopped(exc.elapsed_s) from None
            raise _ReferenceFailed(str(exc)) from None
        except Exception as exc:
            if self.name == "c":
                raise
            raise _ReferenceFailed(f"{type(exc).__name__}: {exc}") from None

    def stage(self, args: list[object], kwargs: dict[str, object] | None) -> None:
        self.staged = None  # the previous size's arguments go first
        with self._blame():
            self.staged = self.conn.call("perf_stage", args, kwargs, export=False, notes=False)

    def cross(self, k: int, timeout: float) -> float:
        """The seconds one crossing of ``k`` calls took, read on this side."""
        with self._blame():
            _, seconds = self.conn.timed_call("perf_run", self.fn, self.staged, k, timeout=timeout)
        return float(seconds)

    def result(self) -> object:
        with self._blame():
            return self.conn.call("perf_result", self.staged, export=False, notes=False)


class Bench:
    """The ``bench`` fixture's value: call it once per test."""

    def __init__(self, item: pytest.Item, config: pytest.Config) -> None:
        self.item = item
        self.used = False
        self.repeat = int(config.getoption("perf_repeat"))
        self.budget_s = float(config.getoption("perf_budget"))
        self.min_time_s = float(config.getoption("perf_min_time"))
        self.stop_ratio = float(config.getoption("perf_stop_ratio"))

    def __call__(
        self,
        func: object,
        make_args: Callable[[int], object],
        sizes: Sequence[int],
        *,
        kwargs: dict[str, object] | None = None,
        repeat: int | None = None,
        budget_s: float | None = None,
        min_time_s: float | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """Time ``func`` against the reference over ``sizes``; the raw figures."""
        __tracebackhide__ = True
        if self.used:
            raise pytest.UsageError("bench: one measurement per test (split it into tests)")
        self.used = True
        path = func._grader_path if isinstance(func, RemoteObject) else None
        if path is None:
            raise TypeError(
                "bench times the candidate's code: pass a function or class of the "
                "submission, reached from its module (from solution import work)"
            )
        ns = sorted({int(n) for n in sizes})
        if not ns or len(ns) > MAX_SIZES or ns[0] < 0:
            raise ValueError(f"bench: give 1 to {MAX_SIZES} sizes, none negative")
        reps = max(MIN_REPEAT, min(int(repeat or self.repeat), MAX_REPEAT))
        budget = float(budget_s if budget_s is not None else self.budget_s)
        min_time = float(min_time_s if min_time_s is not None else self.min_time_s)
        record: dict[str, Any] = {
            "v": FORMAT,
            "kind": "bench",
            "function": ".".join((path[0], *path[1])),
            "repeat": reps,
            "budget_s": budget,
            "min_time_s": min_time,
            "stop_ratio": self.stop_ratio,
            "check": "equal" if check else "off",
            "sizes": [],
            "stopped": None,
        }
        started = time.perf_counter()
        try:
            reference = _STATE.get("reference")
            if not isinstance(reference, _Reference):
                raise RuntimeError("bench: this run has no reference solution to compare with")
            try:
                ref_fn = reference.resolve(path[0], path[1])
            except (CandidateError, ImportError, AttributeError, TypeError) as exc:
                raise _ReferenceFailed(f"{type(exc).__name__}: {exc}") from None
            assert isinstance(func, RemoteObject)
            cand = _Side("c", func._grader_conn, func)
            ref = _Side("r", reference.conn, ref_fn)
            deadline = started + budget
            for n in ns:
                if time.perf_counter() >= deadline:
                    record["stopped"] = {"why": "budget", "n": n}
                    break
                # The largest size sets the score: it gets twice the repetitions.
                here = reps * 2 if n == ns[-1] else reps
                entry = self._size(
                    n, make_args, kwargs, cand, ref, deadline, here, min_time, check, n == ns[-1]
                )
                record["sizes"].append(entry)
                if entry.get("stopped"):
                    record["stopped"] = entry.pop("stopped")
                    break
                if entry.get("beyond"):
                    record["stopped"] = {"why": "ratio", "n": n, "ratio": entry.pop("beyond")}
                    break
                if entry.get("differs"):
                    record["check"] = f"differs at n={n}"
                    raise AssertionError(
                        f"under benchmark, the candidate's result for n={n} differs from the "
                        "reference solution's: a performance case measures a correct answer"
                    )
            return record
        except _ReferenceFailed as exc:
            record["reference_error"] = str(exc)[:500]
            raise RuntimeError(f"the reference solution could not be measured: {exc}") from None
        except BaseException as exc:
            record.setdefault("error", f"{type(exc).__name__}: {exc}"[:500])
            raise
        finally:
            record["elapsed_s"] = _sig(time.perf_counter() - started)
            text = json.dumps(record, separators=(",", ":"), allow_nan=False)
            self.item.user_properties.append((PERF_PROPERTY, text))

    def _size(
        self,
        n: int,
        make_args: Callable[[int], object],
        kwargs: dict[str, object] | None,
        cand: _Side,
        ref: _Side,
        deadline: float,
        reps: int,
        min_time: float,
        check: bool,
        settle: bool = False,
    ) -> dict[str, Any]:
        """Measure one size: stage, calibrate, warm up, check, then the repetitions (with
        ``settle``, more of them while the budget lasts until the ratio settles)."""
        args = _args_of(make_args(n))
        if not _is_data(args) or not _is_data(kwargs or {}):
            raise TypeError("bench: make_args must return data (numbers, strings, lists...)")
        entry: dict[str, Any] = {"n": n}
        for side in (ref, cand):
            side.stage(args, kwargs)
        del args
        empty: dict[str, list[float]] = {"c": [], "r": []}
        try:
            for _ in range(EMPTY_CROSSINGS):
                for side in (ref, cand):
                    empty[side.name].append(side.cross(0, GRACE_S + MIN_STOP_S))
            # The reference's empty crossing is taken off both sides: the candidate's
            # process could slow its own to make its calls look faster. Its least time:
            # a shared machine only ever adds to it.
            overhead = min(empty["r"])
            entry["empty"] = [_sig(min(empty["c"])), _sig(overhead)]
            left = max(deadline - time.perf_counter(), 0.0)
            ref_once = self._autorange(ref, overhead, min_time, left + GRACE_S)
            entry["warmup"] = [None, _sig(ref_once)]
            cand_once = cand.cross(1, max(left, MIN_STOP_S) + GRACE_S)
            entry["warmup"][0] = _sig(max(cand_once - overhead, 0.0))
            if check:
                mine, theirs = cand.result(), ref.result()
                if not (_is_data(mine) and _is_data(theirs)):
                    entry["unchecked"] = "the results are not data"
                elif mine != theirs:
                    entry["differs"] = True
                    return entry
            k = max(1, min(math.ceil(min_time / ref_once), MAX_CALLS))
            entry["k"] = k
            samples: dict[str, list[float]] = {"c": [], "r": []}
            entry["c"], entry["r"] = samples["c"], samples["r"]
            for i in range(max(reps, MAX_PAIRS) if settle else reps):
                if i >= MIN_REPEAT and time.perf_counter() >= deadline:
                    break
                if i >= reps and _settled(samples["c"], samples["r"]):
                    break
                pair: dict[str, float] = {}
                for side in (cand, ref) if i % 2 == 0 else (ref, cand):
                    # Only the budget abandons a crossing: a burst of load on a busy
                    # machine must not end a measurement.
                    timeout = max(deadline - time.perf_counter(), MIN_STOP_S) + GRACE_S
                    pair[side.name] = max(side.cross(k, timeout) - overhead, 0.0) / k
                for name, value in pair.items():
                    samples[name].append(_sig(value))
            ratio = _median(samples["c"]) / max(_median(samples["r"]), 1e-12)
            if ratio > self.stop_ratio:
                # Larger sizes would only take longer: the score is 0 from here.
                entry["beyond"] = _sig(ratio)
        except _CandidateStopped as stop:
            done = entry.get("r") or []
            reference_s = _median(done) if done else entry["warmup"][1]
            entry["stopped"] = {
                "why": "slow",
                "n": n,
                "lower_bound_s": _sig(stop.elapsed_s / max(entry.get("k", 1), 1)),
                "reference_s": _sig(reference_s if reference_s is not None else 0.0),
                "after_s": _sig(stop.elapsed_s),
            }
        return entry

    @staticmethod
    def _autorange(side: _Side, overhead: float, min_time: float, timeout: float) -> float:
        """Seconds per call of ``side``'s function: one call, then runs of 10, 100...
        calls until a crossing takes a fifth of ``min_time`` (as ``timeit`` does), so a
        call shorter than a crossing's own cost is still measured."""
        k = 1
        while True:
            t = side.cross(k, timeout)
            if t >= min_time / 5 or k >= MAX_CALLS:
                return max((t - overhead) / k, 1e-9)
            k = min(k * 10, MAX_CALLS)


class _CandidateStopped(Exception):
    """A candidate crossing ran past its time limit (it was abandoned)."""

    def __init__(self, elapsed_s: float) -> None:
        super().__init__(f"abandoned after {elapsed_s:.3g} s")
        self.elapsed_s = elapsed_s


class _ReferenceFailed(Exception):
    """The reference solution could not be reached or measured."""


@pytest.fixture
def bench(request: pytest.FixtureRequest) -> Iterator[Bench]:
    """Time a function of the submission against the reference solution's (see module)."""
    yield Bench(request.node, request.config)
