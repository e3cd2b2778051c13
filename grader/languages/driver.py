"""Languages whose tests and code share one process: Go, Java, JavaScript, Ruby, PHP.

Their images carry two commands (``runners/images/base/``): ``grader-test`` runs the
test files with the language's framework and writes one JUnit document to fd 3 (each
suite carrying the run token it read from fd 4; a harness sentinel that always
fails; build failures and anything it dropped as suites of its own), and
``grader-lint`` reports the linter's findings as JSON. The job lays the submission
and the tests side by side in a root-owned, read-only app folder; the lint step runs
before any submitted code does.

Forging results is hard and visible, not impossible: candidate code in the same
process can reach the token. A run whose sentinel did not fail, a suite without the
token, or anything the driver flagged as an anomaly makes the results evidence of
tampering; the static scan lists what in the source reaches for the harness.
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, ClassVar

from grader.junit import MALFORMED, CaseResult, reported_failing, verify_junit
from grader.languages.base import DocRule, Language, Results
from runners.base import TESTS_ROLE, Command, Job
from runners.harness import grader_contract as C

if TYPE_CHECKING:
    from grader.analysis import Analysis
    from grader.analysis.lizard import Lint
    from grader.challenge import Challenge
    from grader.report import ComplexitySection
    from runners.base import Runner, RunResult

APP_DIR = "app"
TEST_COMMAND = "/opt/grader/bin/grader-test"
LINT_COMMAND = "/opt/grader/bin/grader-lint"
SENTINEL_CLASS = "grader.sentinel"
BUILD_PROPERTY = "grader_build"
BUILD_FILE_PROPERTY = "grader_build_file"
ANOMALY_PROPERTY = "grader_anomaly"
# The framework's process ended before the sentinel ran (an exit or a crash in candidate
# code): the driver says where; finished tests keep their outcome.
STOPPED_PROPERTY = "grader_stopped"
MAX_TEXT = 8000
# The build log reviewers read (compilers put the first errors first: its head is kept).
MAX_BUILD_LOG = 16000
_OUTCOME_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


@dataclass(frozen=True)
class TamperPattern:
    """Source text that reaches for the harness or the test run (a regex, and what it means)."""

    regex: str
    what: str


def _is_sentinel(classname: str, name: str) -> bool:
    return classname == SENTINEL_CLASS


def _clip(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    text = text.strip()
    if len(text) > MAX_TEXT:
        half = MAX_TEXT // 2
        return text[:half] + "\n…[truncated]…\n" + text[-half:]
    return text


def app_paths(test_files: list[str]) -> dict[str, str]:
    """Where each test file sits in the app folder (its path under tests/public or
    tests/hidden) → the file's id prefix (``tests/hidden/x_test.go``)."""
    out: dict[str, str] = {}
    for test_file in test_files:
        parts = PurePosixPath(test_file).parts
        out[PurePosixPath(*parts[2:]).as_posix()] = test_file
    return out


class DriverLanguage(Language):
    """A language run by its image's ``grader-test`` driver (see the module's doc)."""

    isolation_modes: ClassVar[tuple[str, ...]] = ("in-process",)
    # Whether a test id carries the suite (classname): Go's carry only the test name.
    suite_in_id: ClassVar[bool] = True
    docs: ClassVar[DocRule]
    tamper_patterns: ClassVar[tuple[TamperPattern, ...]] = ()
    # Rules of the linter left out by default (a challenge's [style] ignore adds to it).
    lint_ignore: ClassVar[tuple[str, ...]] = ()

    def layout_problems(self, challenge_root: Path) -> list[str]:
        # Public and hidden tests sit side by side in one folder at run time.
        seen: dict[str, str] = {}
        problems = []
        for vis in ("public", "hidden"):
            folder = challenge_root / "tests" / vis
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                rel = path.relative_to(folder).as_posix()
                if rel in seen:
                    problems.append(
                        f"tests/{vis}/{rel}: tests/{seen[rel]}/{rel} has the same path; "
                        f"{self.title} runs public and hidden tests side by side, so names "
                        "must be unique across both"
                    )
                seen[rel] = vis
        return problems

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
        limits = challenge.config.limits
        tests = list(app_paths(challenge.test_files()))
        sources = [f for f in self.source_files(submission_files) if f not in tests]
        src = f"{C.ROOT_PLACEHOLDER}/{APP_DIR}"
        argv = [TEST_COMMAND, "--src", src, "--timeout", f"{limits.wall_seconds:g}"]
        argv += ["--test-timeout", f"{limits.test_seconds:g}", *tests]
        lint = (LINT_COMMAND, "--src", src, *sources) if sources else ()
        return Job(
            image=self.image,
            submission_dir=submission_dir,
            tests_root=challenge.root,
            commands={TESTS_ROLE: Command(argv=tuple(argv), lint=lint, results=True, cwd=APP_DIR)},
            limits=challenge.run_limits(),
            label=label,
            token=token,
            isolation="in-process",
            submission_files=submission_files,
            app_dir=APP_DIR,
        )

    def read_results(self, result: RunResult, token: str, test_files: list[str]) -> Results:
        props = _suite_properties(result.results)
        stopped = props.get(STOPPED_PROPERTY)
        xml, why = verify_junit(
            result.results,
            token,
            _is_sentinel,
            honest=reported_failing,
            # A run stopped at a limit, by an exit or crash, or one whose build failed,
            # ends before the sentinel.
            require_sentinel=not result.limits_hit
            and props.get(BUILD_PROPERTY) != "failed"
            and stopped is None,
            token_property=C.TOKEN_PROPERTY,
            writer="the grader's test driver",
        )
        if why is not None:
            cut_short = why.endswith(MALFORMED) and bool(result.limits_hit)
            return Results(problem=why, tampered=not cut_short)
        res = Results()
        if xml is None:
            return res
        if stopped is not None:
            res.problem = stopped[:1000]
        paths = app_paths(test_files)
        root = ET.fromstring(xml)
        for suite in root.iter("testsuite"):
            self._suite(suite, paths, res)
        return res

    def _suite(self, suite: ET.Element, paths: dict[str, str], res: Results) -> None:
        props = {
            p.get("name", ""): p.get("value", "") for p in suite.findall("properties/property")
        }
        if props.get(ANOMALY_PROPERTY):
            anomaly = props[ANOMALY_PROPERTY][:1000]
            res.problem = f"{res.problem}; {anomaly}" if res.problem else anomaly
            res.tampered = True
        if props.get(BUILD_PROPERTY) == "failed":
            log = (suite.findtext("system-err") or "").strip()
            file = props.get(BUILD_FILE_PROPERTY)
            if file:
                res.file_errors[paths.get(file, file)] = f"does not build: {log[-3000:]}"
            else:
                res.build_failed = True
                res.build_log = _clip_log(log)
        for case in suite.iter("testcase"):
            found = self._case(case, paths)
            if found is None:
                continue
            old = res.cases.get(found.id)
            if old is None or _OUTCOME_RANK[found.outcome] > _OUTCOME_RANK[old.outcome]:
                res.cases[found.id] = found

    def _case(self, case: ET.Element, paths: dict[str, str]) -> CaseResult | None:
        file = paths.get(case.get("file") or "")
        name = case.get("name") or ""
        if file is None or not name:
            return None
        classname = case.get("classname") or ""
        test_id = (
            f"{file}::{classname}::{name}" if self.suite_in_id and classname else f"{file}::{name}"
        )
        outcome, message = "passed", None
        for tag, kind in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
            elem = case.find(tag)
            if elem is not None:
                outcome = kind
                message = _message(elem.get("message"), elem.text)
                break
        output = "\n".join(
            x for x in (case.findtext("system-out"), case.findtext("system-err")) if x
        )
        try:
            duration = float(case.get("time") or 0.0)
        except ValueError:
            duration = 0.0
        return CaseResult(test_id, outcome, duration, _clip(message), _clip(output))

    # -- analysis -----------------------------------------------------------------------

    def parse_lint(self, data: bytes | None, ignore: list[str], select: list[str] | None) -> Lint:
        """The findings of ``grader-lint``'s JSON report, filtered by rule prefixes."""
        from grader.analysis.lizard import Lint
        from grader.report import StyleFinding

        if not data:
            return Lint(problem="the linter produced no report")
        try:
            doc = json.loads(data)
            raw = doc["findings"]
            if not isinstance(raw, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return Lint(problem="the linter's report could not be read")
        skip = tuple(ignore) + self.lint_ignore
        lint = Lint()
        for f in raw:
            if not isinstance(f, dict):
                continue
            rule = str(f.get("rule", ""))
            if (skip and rule.startswith(skip)) or (select and not rule.startswith(tuple(select))):
                continue
            lint.total += 1
            if len(lint.findings) < 5000:
                lint.findings.append(
                    StyleFinding(
                        file=str(f.get("file", "")),
                        line=_int(f.get("line")),
                        column=_int(f.get("column")),
                        code=rule[:100],
                        message=str(f.get("message", ""))[:500],
                    )
                )
        errors = doc.get("errors") or []
        if errors and not lint.total:
            return Lint(problem=f"the linter could not run: {str(errors[0])[:300]}")
        return lint

    def analyse(
        self, challenge: Challenge, root: Path, files: tuple[str, ...], runner: Runner
    ) -> Analysis:
        from grader.analysis import lizard

        tests = set(app_paths(challenge.test_files()))
        kept = [f for f in files if not self.ignores(f)]
        sources = [f for f in self.source_files(kept) if f not in tests]
        shown = [f for f in kept if self.is_source(f)]
        return lizard.analyse(
            root,
            sources,
            doc_rule=self.docs,
            complexity=challenge.config.complexity,
            shown=shown,
            tamper=[(p.regex, p.what) for p in self.tamper_patterns],
        )

    def with_run(self, challenge: Challenge, analysis: Analysis, result: RunResult) -> Analysis:
        from grader.analysis import lizard

        style = challenge.config.style
        lint = self.parse_lint(result.lint, list(style.ignore), style.select)
        if analysis.complexity.reason and not analysis.complexity.analysable:
            return analysis  # nothing could be read: the style section says why already
        return dataclasses.replace(analysis, style=lizard.style_section(analysis.complexity, lint))

    def reference_complexity(self, challenge: Challenge, runner: Runner) -> ComplexitySection:
        from grader.analysis import lizard

        solution = challenge.solution_dir
        files = [p.relative_to(solution).as_posix() for p in solution.rglob("*") if p.is_file()]
        sources = self.source_files(sorted(files))
        cfg = challenge.config
        return lizard.analyse(
            solution, sources, doc_rule=self.docs, complexity=cfg.complexity
        ).complexity


def _message(summary: str | None, text: str | None) -> str:
    """The summary line and the full text, without the summary twice when the text
    starts with it (as most frameworks' texts do)."""
    summary, text = (summary or "").strip(), (text or "").strip()
    if summary and text.startswith(summary):
        return text
    return "\n".join(x for x in (summary, text) if x)


def _clip_log(log: str) -> str:
    if len(log) <= MAX_BUILD_LOG:
        return log
    head = log[: MAX_BUILD_LOG - 2000]
    return f"{head}\n…[{len(log) - MAX_BUILD_LOG:,} characters cut]…\n{log[-2000:]}"


def _suite_properties(xml: bytes | None) -> dict[str, str]:
    """The suites' own properties (the first value of each name; every stop), read before
    the results are verified; candidate text in a test's output never counts as one."""
    if not xml or re.search(rb"<!(DOCTYPE|ENTITY)", xml[:65536], re.IGNORECASE):
        return {}
    try:
        root = ET.fromstring(xml)
    except (ET.ParseError, ValueError):
        return {}
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    out: dict[str, str] = {}
    for suite in suites:
        for prop in suite.findall("properties/property"):
            name, value = prop.get("name", ""), prop.get("value", "")
            if name == STOPPED_PROPERTY and name in out:
                out[name] = f"{out[name]}; {value}"  # several framework processes stopped
            else:
                out.setdefault(name, value)
    return out


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
