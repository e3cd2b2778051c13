"""Evidence the test side gathers while a test runs under process isolation.

*Tampering*: every request of the candidate side that the reverse channel refuses
(see rpc_exports.py). It fails the test in progress, even if the candidate's code
caught the exception it got, and goes into the JUnit XML as a ``grader_tamper``
testcase property (a short text naming the attempt).

*Portability*: reasons why a test cannot work when the candidate's code runs in
another process: it patches the test process (``mock.patch("builtins.open")``,
``monkeypatch.setattr(time, "time", ...)``, ``monkeypatch.setenv``...), passes a
path of the test side's file system, reads the candidate's printed output with
``capsys``, or passes a value that cannot cross. When such a test fails or errors,
each distinct cause goes into the XML as a ``grader_portability`` property whose
value is JSON ``{"cause": "...", "fix": "..."}``, and into the test's failure text.

Standard library only (pytest's own classes are patched, never imported at module
level); never imports ``grader`` or ``runners``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import types
from collections.abc import Callable
from typing import Any

TAMPER_PROPERTY = "grader_tamper"
PORTABILITY_PROPERTY = "grader_portability"
IN_PROCESS = 'set isolation = "in-process" in challenge.toml'
MAX_TAMPER_PER_TEST = 20
MAX_NOTES_PER_TEST = 10
# Fixtures that capture output or logs of the test process only.
CAPTURE_FIXTURES = ("capsys", "capsysbinary", "capfd", "capfdbinary", "caplog")


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Findings:
    """Tamper and portability evidence, per test (``start``/``finish`` bracket one).

    Outside of pytest (benchmarks, ``connect()``) nothing starts a test and the
    evidence is only kept in ``pending``.
    """

    def __init__(self) -> None:
        self.item: Any = None
        self.pending: list[str] = []
        self.tamper: list[str] = []
        self.tamper_reported = 0
        self.notes: dict[str, str] = {}
        self.notes_recorded: set[str] = set()
        self.roots: tuple[str, ...] = ()
        self._paths_seen: set[str] = set()

    # -- the test in progress ---------------------------------------------------

    def start(self, item: Any) -> None:
        self.item = item
        self.tamper, self.tamper_reported = [], 0
        self.notes, self.notes_recorded = {}, set()
        self._paths_seen = set()
        pending, self.pending = self.pending, []
        for text in pending:
            self.refused(f"{text} (outside of any test, before this one)")

    def finish(self) -> None:
        self.item = None

    # -- tampering ----------------------------------------------------------------

    def refused(self, what: str) -> None:
        """The candidate's code was refused ``what`` (fails the test in progress)."""
        text = _short(what)
        if self.item is None:
            if len(self.pending) < MAX_TAMPER_PER_TEST:
                self.pending.append(text)
            return
        if text in self.tamper or len(self.tamper) >= MAX_TAMPER_PER_TEST:
            return
        self.tamper.append(text)
        props = getattr(self.item, "user_properties", None)
        if isinstance(props, list):
            props.append((TAMPER_PROPERTY, text))

    def new_tamper(self) -> list[str]:
        """Refusals not yet applied to a report of the test in progress."""
        new = self.tamper[self.tamper_reported :]
        self.tamper_reported = len(self.tamper)
        return new

    # -- portability ------------------------------------------------------------

    def note(self, cause: str, fix: str) -> None:
        if self.item is None or cause in self.notes or len(self.notes) >= MAX_NOTES_PER_TEST:
            return
        self.notes[cause] = fix

    def unrecorded_notes(self) -> list[tuple[str, str]]:
        out = [(c, f) for c, f in self.notes.items() if c not in self.notes_recorded]
        self.notes_recorded.update(c for c, _ in out)
        return out

    def saw_path(self, value: object) -> None:
        """A path-like value the test passes to candidate code (absolute only)."""
        if self.item is None or not self.roots:
            return
        text = os.fspath(value) if isinstance(value, os.PathLike) else value
        if not isinstance(text, str) or not text.startswith("/") or len(text) > 4096:
            return
        if text in self._paths_seen or len(self._paths_seen) > 1000:
            return
        self._paths_seen.add(text)
        path = os.path.normpath(text)
        if not any(path != root and path.startswith(root + os.sep) for root in self.roots):
            return
        try:
            exists = os.path.exists(path)
        except (OSError, ValueError):
            return
        if exists:
            self.note(
                f"passes the path {_short(text, 120)}, a file of the test process (beside "
                "the tests, or a temporary file); the candidate's code runs in another "
                "container and cannot open it",
                f"{IN_PROCESS}, or pass the file's contents (or the open file object, which "
                "crosses as a reference) instead of its path",
            )

    def transfer_failed(self, reason: str) -> None:
        self.note(
            f"passes a value to candidate code that cannot cross to the candidate's process: "
            f"{_short(reason, 160)}",
            f"{IN_PROCESS}, or pass plain data (or an object of the test's own) instead",
        )

    def captured(self, fixture: str) -> None:
        what, verb = ("logs", "logs") if fixture == "caplog" else ("printed output", "prints")
        self.note(
            f"reads {what} with {fixture}, but the candidate's code runs in another process, "
            f"so what it {verb} never reaches this one",
            f"{IN_PROCESS}, or have the function return the text (or write it to a stream "
            "passed as an argument) instead of printing or logging it",
        )

    def patched(self, how: str, target: object, attribute: str | None) -> None:
        """``how`` (mock.patch, monkeypatch.setattr...) changed ``target`` here."""
        name = describe_target(target, attribute)
        if isinstance(target, types.ModuleType) and target.__name__ == "builtins":
            fix = (
                f"{IN_PROCESS}, or pass the data in instead of patching builtins (for "
                "open(): the file's contents, or an open file object)"
            )
            cause = (
                f"{how} patches {name} in the test process, but the candidate's code runs "
                f"in another process and still uses the real {attribute}()"
            )
        else:
            fix = (
                f"{IN_PROCESS}, or patch the name where the candidate's module looks it up "
                '(mock.patch("<module of the submission>.<name>"), which reaches the '
                "candidate's process)"
            )
            cause = (
                f"{how} patches {name} in the test process, but the candidate's code runs "
                f"in another process and does not see the change"
            )
        self.note(cause, fix)

    def changed_process(self, how: str, detail: str) -> None:
        self.note(
            f"{how} changes {detail} of the test process, but the candidate's code runs in "
            "another process and does not see the change",
            f"{IN_PROCESS}, or pass the value to the function instead",
        )


def describe_target(target: object, attribute: str | None) -> str:
    if isinstance(target, types.ModuleType):
        base = target.__name__
    elif isinstance(target, type):
        base = f"{target.__module__}.{target.__qualname__}"
    elif isinstance(target, dict):
        base = "os.environ" if target is os.environ else "a dict"
    else:
        base = f"a {type(target).__name__} object"
    return f"{base}.{attribute}" if attribute else base


def portability_value(cause: str, fix: str) -> str:
    return json.dumps({"cause": cause, "fix": fix}, ensure_ascii=False)


# ---------------------------------------------------------------------------
# detectors: wrap the patching tools of the test process


def _guard() -> contextlib.AbstractContextManager[None]:
    # A detector must never break the test it watches: evidence is best effort.
    return contextlib.suppress(Exception)


def install_detectors(
    findings: Findings, is_candidate: Callable[[object], bool]
) -> Callable[[], None]:
    """Wrap ``unittest.mock`` patchers and pytest's ``MonkeyPatch`` so that patching
    the test process (not the candidate's) leaves a portability note. Returns the
    function that undoes the wrapping."""
    undo: list[Callable[[], None]] = []

    def wrap(owner: Any, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
        original = owner.__dict__.get(name)
        if original is None:
            return
        wrapper = make(original)
        wrapper.__name__ = getattr(original, "__name__", name)
        wrapper.__doc__ = getattr(original, "__doc__", None)
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(owner, name, wrapper)
        undo.append(lambda: setattr(owner, name, original))

    import unittest.mock as mock

    def patch_enter(original: Callable[..., Any]) -> Callable[..., Any]:
        def __enter__(self: Any) -> Any:
            result = original(self)
            with _guard():
                target, attribute = self.target, self.attribute
                if not is_candidate(target):
                    findings.patched("mock.patch", target, attribute)
            return result

        return __enter__

    def patch_dict_enter(original: Callable[..., Any]) -> Callable[..., Any]:
        def __enter__(self: Any) -> Any:
            spec = self.in_dict
            result = original(self)
            with _guard():
                if is_candidate(self.in_dict):
                    pass  # a mapping object of the candidate: patched remotely
                elif isinstance(spec, str) and is_candidate(spec.partition(".")[0]):
                    # a module global of the candidate, read as data: a copy
                    name = spec
                    findings.note(
                        f"mock.patch.dict patches {name}, a copy of the candidate's dict "
                        "(values cross as data); the candidate's code keeps its own",
                        f'{IN_PROCESS}, or set the values with mock.patch("{name}", new={{...}})'
                        " (which replaces the candidate's global)",
                    )
                else:
                    name = spec if isinstance(spec, str) else describe_target(self.in_dict, None)
                    findings.changed_process("mock.patch.dict", name)
            return result

        return __enter__

    wrap(mock._patch, "__enter__", patch_enter)
    wrap(mock._patch_dict, "__enter__", patch_dict_enter)

    monkeypatch = sys.modules.get("_pytest.monkeypatch")
    klass = getattr(monkeypatch, "MonkeyPatch", None)
    if isinstance(klass, type):
        _wrap_monkeypatch(klass, wrap, findings, is_candidate)

    def undo_all() -> None:
        for fn in reversed(undo):
            fn()
        undo.clear()

    return undo_all


def _wrap_monkeypatch(
    klass: type,
    wrap: Callable[[Any, str, Callable[[Any], Callable[..., Any]]], None],
    findings: Findings,
    is_candidate: Callable[[object], bool],
) -> None:
    # setenv and delenv go through setitem/delitem: one note is enough.
    inside = [0]

    def attr_change(how: str) -> Callable[[Any], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                before = len(getattr(self, "_setattr", ()))
                result = original(self, *args, **kwargs)
                with _guard():
                    entries = getattr(self, "_setattr", [])
                    if len(entries) > before:
                        target, name = entries[-1][0], entries[-1][1]
                        if not is_candidate(target):
                            findings.patched(f"monkeypatch.{how}", target, name)
                return result

            return method

        return make

    def item_change(how: str) -> Callable[[Any], Callable[..., Any]]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def method(self: Any, dic: Any, name: Any, *args: Any, **kwargs: Any) -> Any:
                result = original(self, dic, name, *args, **kwargs)
                with _guard():
                    if not inside[0] and not is_candidate(dic):
                        findings.note(
                            f"monkeypatch.{how} changes the key {str(name)[:60]!r} of "
                            f"{describe_target(dic, None)} in the test process (a dict read "
                            "from the candidate's module is a copy: values cross as data); "
                            "the candidate's code does not see the change",
                            f"{IN_PROCESS}, or replace the candidate's global with "
                            "monkeypatch.setattr(<module of the submission>, <name>, {...})",
                        )
                return result

            return method

        return make

    def process_change(how: str, detail: Callable[[tuple[Any, ...]], str]) -> Callable[..., Any]:
        def make(original: Callable[..., Any]) -> Callable[..., Any]:
            def method(self: Any, *args: Any, **kwargs: Any) -> Any:
                inside[0] += 1
                try:
                    result = original(self, *args, **kwargs)
                finally:
                    inside[0] -= 1
                with _guard():
                    findings.changed_process(f"monkeypatch.{how}", detail(args))
                return result

            return method

        return make

    wrap(klass, "setattr", attr_change("setattr"))
    wrap(klass, "delattr", attr_change("delattr"))
    wrap(klass, "setitem", item_change("setitem"))
    wrap(klass, "delitem", item_change("delitem"))
    env = "the environment variable {}"
    wrap(klass, "setenv", process_change("setenv", lambda a: env.format(a[0] if a else "?")))
    wrap(klass, "delenv", process_change("delenv", lambda a: env.format(a[0] if a else "?")))
    wrap(klass, "chdir", process_change("chdir", lambda a: "the working directory"))
    wrap(klass, "syspath_prepend", process_change("syspath_prepend", lambda a: "sys.path"))


def default_roots(rootdir: str | None) -> tuple[str, ...]:
    """Where files of the test side live: the run's root folder and the temp folder."""
    roots = [tempfile.gettempdir()]
    if rootdir:
        roots.append(rootdir)
    return tuple(os.path.normpath(r) for r in roots if r and r != "/")
