"""Python: pytest, ruff, radon, docstrings; the only language with process isolation.

Under ``isolation = "process"`` (the default) the tests container runs pytest as the
``tester`` user and imports the submission's modules as proxies; the candidate
container runs the harness's RPC server as ``candidate`` over the loopback interface
the two share. Under ``in-process`` pytest imports the submission directly (put
last on ``sys.path``, after the standard library, pytest and the harness).
"""

from __future__ import annotations

import dataclasses
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from grader.junit import MALFORMED, parse_junit, verify_junit
from grader.languages.base import Language, Results
from runners.base import CANDIDATE_ROLE, REFERENCE_ROLE, TESTS_ROLE, Command, Job
from runners.harness import grader_contract as C

if TYPE_CHECKING:
    from grader.analysis import Analysis
    from grader.challenge import Challenge
    from grader.report import ComplexitySection, Flag
    from runners.base import Runner, RunResult

# Module names a submission cannot take: the tests always get the standard library's,
# pytest's and the harness's own module under these names (in-process isolation puts
# the submission last on sys.path; process isolation does not proxy these names).
HARNESS_MODULES = frozenset(
    {
        "pytest",
        "_pytest",
        "pluggy",
        "iniconfig",
        "packaging",
        "pytest_timeout",
        "py",
        "launcher",
        "pytest_boot",
        "grader_contract",
        "test_grader_sentinel",
        "grader_perf",
        "grader_load",
        "sitecustomize",
        "usercustomize",
    }
    | {p.stem for p in (Path(C.__file__).parent).glob("rpc_*.py")}
)
RESERVED_MODULES = HARNESS_MODULES | {"tests", "conftest"} | frozenset(sys.stdlib_module_names)


def _top_level_modules(root: Path) -> set[str]:
    names: set[str] = set()
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_file() and entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and any(entry.rglob("*.py")):
            names.add(entry.name)
    return names


def candidate_modules(root: Path) -> list[str]:
    """Top-level importable names of a submission (``x.py`` files and packages), less
    the reserved ones: the tests never import a submission's ``json`` or ``pytest``."""
    return sorted(_top_level_modules(root) - RESERVED_MODULES)


def shadowing_modules(root: Path) -> list[str]:
    """The submission's top-level modules that would shadow the standard library, pytest
    or the harness (they are never what the tests import)."""
    return sorted(_top_level_modules(root) & RESERVED_MODULES)


def _is_sentinel(classname: str, name: str) -> bool:
    return classname == C.SENTINEL_CLASS


def _xfailed(case: ET.Element) -> bool:
    # A strict xfail: an honest run reports it skipped; passing it makes it a failure.
    return case.find("skipped") is not None


def verify(xml: bytes | None, token: str) -> tuple[bytes | None, str | None]:
    """The JUnit XML if the harness's pytest wrote it (see ``grader.junit.verify_junit``)."""
    return verify_junit(
        xml,
        token,
        _is_sentinel,
        honest=_xfailed,
        # pytest stops before the sentinel on collection errors and interrupts; the
        # token proves the XML is pytest's, the sentinel that no outcome was rewritten.
        require_sentinel=False,
        token_property=C.TOKEN_PROPERTY,
        writer="the grader's pytest",
    )


def pytest_command(test_seconds: float, *, path: str | None) -> list[str]:
    """The harness's pytest command up to its plugins and test files: the grader's
    configuration only, JUnit XML into the results pipe with the token. ``path``: where
    the submission is importable from (in-process isolation only)."""
    harness = f"{C.ROOT_PLACEHOLDER}/{C.HARNESS_DIR}"
    root = C.ROOT_PLACEHOLDER
    boot = [C.PYTHON_PLACEHOLDER, "-I", f"{harness}/pytest_boot.py"]
    if path is not None:
        boot.append(f"--path={path}")
    return boot + [
        f"--token-fd={C.TOKEN_FD_PLACEHOLDER}",
        f"--collected={root}/{C.OUT_DIR}/{C.COLLECTED_FILE}",
        "--",
        "-c",
        f"{harness}/pytest.ini",
        f"--rootdir={root}",
        f"--confcutdir={root}/{C.TESTS_DIR}",
        "--import-mode=importlib",
        "-p",
        "no:cacheprovider",
        f"--junitxml={C.RESULTS_PLACEHOLDER}",
        f"--timeout={test_seconds}",
        "-q",
        "-rN",
        "--capture=tee-sys",
    ]


def _rpc_client(submission_dir: Path) -> list[str]:
    """The tests' side of process isolation: the submission's modules, remotely."""
    modules = candidate_modules(submission_dir)
    address = f"127.0.0.1:{C.PORT_PLACEHOLDER}"
    return ["-p", "rpc_client", "--rpc-address", address, "--rpc-modules", ",".join(modules) or "-"]


def _server(port: str, *, secret: bool = False) -> Command:
    """A container serving a solution's modules over the run's loopback; with
    ``secret``, only to a client that proves it holds the one from the token pipe."""
    harness = f"{C.ROOT_PLACEHOLDER}/{C.HARNESS_DIR}"
    argv = [C.PYTHON_PLACEHOLDER, "-I", f"{harness}/rpc_server.py"]
    argv += ["--listen", f"127.0.0.1:{port}", "--path", C.WORK_PLACEHOLDER]
    if secret:
        argv += ["--secret-fd", C.TOKEN_FD_PLACEHOLDER]
    return Command(argv=tuple(argv), code=True, token=secret)


class Python(Language):
    name: ClassVar[str] = "python"
    title: ClassVar[str] = "Python"
    versions: ClassVar[str] = "Python 3, pytest 9"
    image: ClassVar[str] = "python"
    pygments_lexer: ClassVar[str] = "python"
    source_suffixes: ClassVar[tuple[str, ...]] = (".py",)
    test_patterns: ClassVar[tuple[str, ...]] = ("test_*.py", "*_test.py")
    config_names: ClassVar[frozenset[str]] = frozenset(
        {
            "conftest.py",
            "pytest.ini",
            "pyproject.toml",
            "setup.cfg",
            "tox.ini",
            "setup.py",
            "sitecustomize.py",
            "usercustomize.py",
            ".pytest_cache",
            "__pycache__",
        }
    )
    config_suffixes: ClassVar[tuple[str, ...]] = (".pth", ".pyc", ".pyo")
    isolation_modes: ClassVar[tuple[str, ...]] = ("process", "in-process")
    framework: ClassVar[str] = "pytest (JUnit XML through a pipe)"
    linter: ClassVar[str] = "ruff"
    doc_rule: ClassVar[str] = "docstrings of modules, public classes and public functions"
    libraries: ClassVar[tuple[str, ...]] = ()
    supports_performance: ClassVar[bool] = True

    service_libraries: ClassVar[tuple[str, ...]] = (
        "FastAPI 0.165 + uvicorn 0.54",
        "Flask 3.1",
        "psycopg 3.3 (PostgreSQL; psycopg_pool)",
        "PyMySQL 1.2 (MySQL/MariaDB)",
        "redis-py 8.1",
        "httpx 0.28",
    )
    service_start: ClassVar[str] = (
        'for f in app.py main.py server.py; do if [ -f "$f" ]; then exec python3 "$f"; fi; '
        'done; echo "grader: no app.py, main.py or server.py to start" >&2; exit 2'
    )
    markers: ClassVar[tuple[str, ...]] = ("requirements.txt", "pyproject.toml", "Pipfile")

    def is_source(self, rel_path: str) -> bool:
        return rel_path.endswith(".py")

    def is_test_file(self, name: str) -> bool:
        # A candidate's own tests: test_*.py, *_test.py, conftest.py, or anything in a
        # tests/ or test/ folder (they are kept, never run, and not analysed).
        parts = name.split("/")
        return (
            super().is_test_file(parts[-1])
            or parts[-1] == "conftest.py"
            or any(p in ("tests", "test") for p in parts[:-1])
        )

    # -- running ----------------------------------------------------------------------

    def job(
        self,
        challenge: Challenge,
        submission_dir: Path,
        submission_files: tuple[str, ...],
        *,
        token: str,
        label: str,
    ) -> Job:
        isolation = challenge.isolation
        process = isolation == "process"
        boot = pytest_command(
            challenge.config.limits.test_seconds, path=None if process else C.WORK_PLACEHOLDER
        )
        commands = {}
        if process:
            boot += _rpc_client(submission_dir)
            commands[CANDIDATE_ROLE] = _server(C.PORT_PLACEHOLDER)
        boot += [f"{C.ROOT_PLACEHOLDER}/{f}" for f in challenge.test_files()]
        commands[TESTS_ROLE] = Command(argv=tuple(boot), results=True, code=not process)
        return Job(
            image=self.image,
            submission_dir=submission_dir,
            tests_root=challenge.root,
            commands=commands,
            limits=challenge.run_limits(),
            label=label,
            token=token,
            isolation="process" if process else "in-process",
            submission_files=submission_files,
        )

    def perf_job(
        self,
        challenge: Challenge,
        submission_dir: Path,
        submission_files: tuple[str, ...],
        *,
        token: str,
        label: str,
    ) -> Job:
        """Three containers on one loopback: the tests (pytest with ``grader_perf``), the
        candidate's server and the reference solution's server (which serves only a
        client holding the secret derived from the run token)."""
        perf = challenge.config.performance
        # pytest-timeout is a safety net: the bench keeps each case to its budget.
        case_limit = perf.case_seconds * 2 + 30
        boot = pytest_command(case_limit, path=None)
        boot.insert(boot.index("--"), f"--perf-reference=127.0.0.1:{C.REFERENCE_PORT_PLACEHOLDER}")
        boot += _rpc_client(submission_dir)
        boot += [
            f"--perf-repeat={perf.repetitions}",
            f"--perf-budget={perf.case_seconds}",
            f"--perf-min-time={perf.min_time_ms / 1000}",
            # Past four times the ratio that scores 0, larger sizes would tell nothing
            # more of the score (the sizes measured until then still show the growth).
            f"--perf-stop-ratio={4 * perf.zero_at_ratio}",
        ]
        boot += [f"{C.ROOT_PLACEHOLDER}/{f}" for f in challenge.perf_files()]
        reference = _server(C.REFERENCE_PORT_PLACEHOLDER, secret=True)
        limits = dataclasses.replace(challenge.run_limits(), wall_seconds=perf.wall_seconds)
        return Job(
            image=self.image,
            submission_dir=submission_dir,
            tests_root=challenge.root,
            commands={
                TESTS_ROLE: Command(argv=tuple(boot), results=True, code=False),
                CANDIDATE_ROLE: _server(C.PORT_PLACEHOLDER),
                REFERENCE_ROLE: reference,
            },
            limits=limits,
            label=label,
            token=token,
            isolation="process",
            submission_files=submission_files,
            reference_dir=challenge.solution_dir,
            pin_together=(CANDIDATE_ROLE, REFERENCE_ROLE),
        )

    def read_results(self, result: RunResult, token: str, test_files: list[str]) -> Results:
        xml, why = verify(result.results, token)
        if why is not None:
            # XML cut short by a kill at a limit is a lost result, not evidence of forging.
            cut_short = why.endswith(MALFORMED) and bool(result.limits_hit)
            return Results(problem=why, tampered=not cut_short)
        if xml is None:
            return Results()
        try:
            cases, file_errors = parse_junit(xml, test_files)
        except Exception as exc:  # noqa: BLE001 - malformed XML from a sandbox is data
            return Results(problem=f"the test report could not be read ({type(exc).__name__})")
        return Results(cases=cases, file_errors=file_errors)

    # -- analysis -----------------------------------------------------------------------

    def analyse(
        self, challenge: Challenge, root: Path, files: tuple[str, ...], runner: Runner
    ) -> Analysis:
        from grader.analysis import analyse

        cfg = challenge.config
        return analyse(root, files, cfg.style, cfg.complexity)

    def reference_complexity(self, challenge: Challenge, runner: Runner) -> ComplexitySection:
        from grader.analysis import analyse

        solution = challenge.solution_dir
        files = tuple(sorted(p.relative_to(solution).as_posix() for p in solution.rglob("*.py")))
        cfg = challenge.config
        return analyse(solution, files, cfg.style, cfg.complexity).complexity

    def static_flags(self, root: Path, files: tuple[str, ...]) -> list[Flag]:
        from grader import tamper
        from grader.report import Flag

        flags: list[Flag] = []
        shadowing = shadowing_modules(root)
        if shadowing:
            harness = [m for m in shadowing if m in HARNESS_MODULES]
            flags.append(
                Flag(
                    code="tamper-suspect" if harness else "shadowed-modules",
                    message="modules named like the standard library, pytest or the harness "
                    f"are never what the tests import: {', '.join(shadowing[:8])}",
                )
            )
        return flags + tamper.static_flags(root, files)

    # -- authors ------------------------------------------------------------------------

    scaffold_entrypoint: ClassVar[str] = "solution.py"
    scaffold_weighted_test: ClassVar[str] = "tests/hidden/test_hidden.py::test_large_input"

    def scaffold(self, title: str) -> dict[str, str]:
        return dict(_SCAFFOLD)


_SCAFFOLD = {
    "README.md": """# {title}

Write `solution.py` with a function `word_count(text: str) -> dict[str, int]` that
returns how many times each word occurs in `text`. Words are separated by white
space and compared case-insensitively (keys are lower-case). A `TypeError` is
raised when `text` is not a `str`.

```python
>>> word_count("the cat and The hat")
{"the": 2, "cat": 1, "and": 1, "hat": 1}
```
""",
    "starter/solution.py": '''"""Your solution goes here."""


def word_count(text: str) -> dict[str, int]:
    """Count each word of ``text``, case-insensitively."""
    raise NotImplementedError
''',
    "solution/solution.py": '''"""Reference solution."""

from collections import Counter


def word_count(text: str) -> dict[str, int]:
    """Count each word of ``text``, case-insensitively."""
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    return dict(Counter(word.lower() for word in text.split()))
''',
    "tests/public/test_public.py": """from solution import word_count


def test_counts_words():
    assert word_count("a b a") == {"a": 2, "b": 1}


def test_empty_text_has_no_words():
    assert word_count("") == {}
""",
    "tests/hidden/test_hidden.py": """import pytest
from solution import word_count


def test_case_insensitive():
    assert word_count("Go go GO") == {"go": 3}


def test_any_whitespace_separates():
    assert word_count("a\\tb\\n a") == {"a": 2, "b": 1}


def test_rejects_non_text():
    with pytest.raises(TypeError):
        word_count(42)


def test_large_input():
    assert word_count("x " * 100_000) == {"x": 100_000}
""",
}
