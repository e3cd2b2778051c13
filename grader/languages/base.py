"""What a language is: data plus a small adapter.

A language says which image runs its code, which files are sources and which are
tests, what a submission may not bring, which command runs the tests and how its
results become the report's test ids, and how its code is analysed (style,
complexity, docs) and scanned for tampering. Runners and the in-sandbox launcher
know none of this: they run the job a language builds.

Most languages override :meth:`Language.job` and :meth:`Language.read_results`
only; the rest is data on the class.
"""

from __future__ import annotations

import fnmatch
import secrets
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from grader.junit import CaseResult

if TYPE_CHECKING:
    from grader.analysis import Analysis
    from grader.challenge import Challenge
    from grader.report import ComplexitySection, Flag
    from runners.base import Job, Runner, RunResult

# Operating-system metadata that archivers add; never part of a solution, in any language.
OS_METADATA = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db"})


@dataclass
class Results:
    """A run's results, read and checked: one case per reported test id."""

    cases: dict[str, CaseResult] = field(default_factory=dict)
    # Test files that failed as a whole (did not import, did not compile): file → why.
    file_errors: dict[str, str] = field(default_factory=dict)
    # Why the results were thrown away (forged, cut short...), for the report's flags.
    problem: str | None = None
    # The problem is evidence of tampering (not, say, a kill at a limit).
    tampered: bool = False
    # A test that started and never finished (the process died inside it).
    in_progress: str | None = None
    # The submission did not build (a compiled language): every test is an error.
    build_failed: bool = False
    build_log: str = ""


@dataclass(frozen=True)
class DocRule:
    """Which items are public and what documents one (see ``_lizard_worker``)."""

    items: tuple[tuple[str, str], ...]
    comment: str = "block"
    prefix: str = "//"
    skip: str = r"^\s*@"
    private: str | None = None
    # Where only exported items count (JavaScript): regexes over the whole text whose
    # groups "name" / "names" list the exported names, and a regex for a line that
    # exports the item it declares.
    exports: tuple[str, ...] = ()
    exported: str | None = None

    def as_request(self) -> dict[str, Any]:
        return {
            "items": [list(i) for i in self.items],
            "comment": self.comment,
            "prefix": self.prefix,
            "skip": self.skip,
            "private": self.private,
            "exports": list(self.exports),
            "exported": self.exported,
        }


def is_os_metadata(rel_path: str) -> bool:
    """True for archiver metadata (``__MACOSX/``, ``._x``, ``.DS_Store``...)."""
    return any(p in OS_METADATA or p.startswith("._") for p in rel_path.split("/"))


class Language:
    """A language's data and adapter. Subclasses fill the class attributes."""

    name: ClassVar[str]
    title: ClassVar[str]
    # Versions of the toolchain in the image, for people ("Python 3.13, pytest 9").
    versions: ClassVar[str]
    # The runner image's recipe (a folder under runners/images/).
    image: ClassVar[str]
    source_suffixes: ClassVar[tuple[str, ...]]
    # The Pygments lexer of its sources (similarity, syntax highlighting).
    pygments_lexer: ClassVar[str] = ""
    # File-name patterns of test files (fnmatch, on the name alone).
    test_patterns: ClassVar[tuple[str, ...]]
    # Names (any path component) a submission may not bring: they would configure the
    # test run. Never copied into a sandbox; listed as ignored.
    config_names: ClassVar[frozenset[str]] = frozenset()
    config_suffixes: ClassVar[tuple[str, ...]] = ()
    # Isolation modes the language supports; the first is its default.
    isolation_modes: ClassVar[tuple[str, ...]] = ("in-process",)
    framework: ClassVar[str]
    linter: ClassVar[str]
    doc_rule: ClassVar[str]
    # Libraries the image carries for submissions (beyond the standard library).
    libraries: ClassVar[tuple[str, ...]] = ()
    # Performance cases (tests/perf/): timed against the reference by ``perf_job``.
    supports_performance: ClassVar[bool] = False

    # -- service challenges -------------------------------------------------------------
    # What the image carries for a service (a web framework, the PostgreSQL, MySQL and
    # Redis clients: Debian's packages, Python's from the wheelhouse), for statements.
    service_libraries: ClassVar[tuple[str, ...]] = ()
    # The default build step and start command of a service (``sh -c`` in the
    # submission's folder, with PORT and the databases' variables set); a challenge's
    # [service.build] / [service.start] replace them.
    service_build: ClassVar[str] = ""
    service_start: ClassVar[str] = ""
    # Variables the service's build and start need in this image (PATH, CLASSPATH...).
    service_env: ClassVar[dict[str, str]] = {}
    # Top-level files that say a submission is in this language (go.mod, package.json).
    markers: ClassVar[tuple[str, ...]] = ()

    # -- files ------------------------------------------------------------------------

    def is_test_file(self, name: str) -> bool:
        base = PurePosixPath(name).name
        return any(fnmatch.fnmatchcase(base, pat) for pat in self.test_patterns)

    def is_source(self, rel_path: str) -> bool:
        return rel_path.endswith(self.source_suffixes)

    def ignores(self, rel_path: str) -> bool:
        """True for a submitted file that must never reach the sandbox."""
        parts = rel_path.split("/")
        return (
            is_os_metadata(rel_path)
            or any(p in self.config_names for p in parts)
            or rel_path.endswith(self.config_suffixes)
        )

    def test_files(self, challenge_root: Path) -> list[str]:
        """Test files under ``tests/public`` then ``tests/hidden`` (paths relative to the
        challenge), sorted within each."""
        out: list[str] = []
        for vis in ("public", "hidden"):
            folder = challenge_root / "tests" / vis
            if not folder.is_dir():
                continue
            found = [
                p
                for p in folder.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and self.is_test_file(p.name)
            ]
            out += sorted(p.relative_to(challenge_root).as_posix() for p in found)
        return out

    def layout_problems(self, challenge_root: Path) -> list[str]:
        """What in a challenge's folders this language cannot run (empty: nothing)."""
        return []

    def source_files(self, files: tuple[str, ...] | list[str]) -> list[str]:
        """The submitted files this language analyses (its sources, not its tests)."""
        return [f for f in files if self.is_source(f) and not self.is_test_file(f)]

    # -- running ----------------------------------------------------------------------

    def default_isolation(self) -> str:
        return self.isolation_modes[0]

    def new_token(self) -> str:
        return secrets.token_hex(16)

    def job(
        self,
        challenge: Challenge,
        submission_dir: Path,
        submission_files: tuple[str, ...],
        *,
        token: str,
        label: str,
    ) -> Job:
        """The sandbox job that runs the challenge's tests against a submission."""
        raise NotImplementedError

    def read_results(self, result: RunResult, token: str, test_files: list[str]) -> Results:
        """Check the run's results against ``token`` and map them onto test ids."""
        raise NotImplementedError

    def perf_job(
        self,
        challenge: Challenge,
        submission_dir: Path,
        submission_files: tuple[str, ...],
        *,
        token: str,
        label: str,
    ) -> Job:
        """The sandbox job that times the performance cases, the submission against the
        reference solution (only where ``supports_performance``)."""
        raise NotImplementedError

    # -- analysis -----------------------------------------------------------------------

    def analyse(
        self, challenge: Challenge, root: Path, files: tuple[str, ...], runner: Runner
    ) -> Analysis:
        """Style, complexity and docs of the submitted sources (never runs them). It needs
        nothing of the test run, so the engine runs it while the sandbox runs."""
        raise NotImplementedError

    def with_run(self, challenge: Challenge, analysis: Analysis, result: RunResult) -> Analysis:
        """The analysis completed with what the run brought (a sandboxed linter's report)."""
        return analysis

    def reference_complexity(self, challenge: Challenge, runner: Runner) -> ComplexitySection:
        """The reference solution's complexity (to show beside a submission's)."""
        raise NotImplementedError

    def static_flags(self, root: Path, files: tuple[str, ...]) -> list[Flag]:
        """Evidence of reaching for the harness in the submitted sources."""
        return []

    # -- authors ------------------------------------------------------------------------

    def scaffold(self, title: str) -> dict[str, str]:
        """Files of a new challenge in this language that validates as is (path → text,
        ``{title}`` filled in), ``challenge.toml`` aside."""
        raise NotImplementedError

    # The scaffold's entry point and one test given weight 2 in its challenge.toml, and
    # limits that fit the toolchain (a JVM or a Go build needs more than Python).
    scaffold_entrypoint: ClassVar[str] = ""
    scaffold_weighted_test: ClassVar[str] = ""
    scaffold_memory_mb: ClassVar[int] = 256
    scaffold_pids: ClassVar[int] = 64

    def describe(self) -> dict[str, object]:
        """What ``GET /v1/languages`` shows of this language."""
        return {
            "name": self.name,
            "title": self.title,
            "versions": self.versions,
            "tests": list(self.test_patterns),
            "framework": self.framework,
            "linter": self.linter,
            "docs": self.doc_rule,
            "isolation": list(self.isolation_modes),
            "libraries": list(self.libraries),
            "service": {
                "libraries": list(self.service_libraries),
                "build": self.service_build,
                "start": self.service_start,
                # Beside PORT and the databases' variables (RACK_ENV, PATH, CLASSPATH...).
                "env": dict(self.service_env),
            },
        }

    def detect_score(self, files: tuple[str, ...] | list[str]) -> int:
        """How strongly ``files`` look like a submission in this language: a marker file
        at the top counts for many sources."""
        top = {f for f in files if "/" not in f}
        markers = sum(1 for m in self.markers if m in top)
        sources = sum(1 for f in files if f.endswith(self.source_suffixes))
        return 100 * markers + sources
