"""JUnit XML from a sandbox → one outcome per test id, mapped onto the expected ids."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase

MAX_TEXT = 8000
_OUTCOME_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


@dataclass
class CaseResult:
    """One test case as the XML reported it."""

    id: str
    outcome: str
    duration_s: float
    message: str | None
    output: str | None
    # ``<properties>`` of the testcase (the harness records limits and tampering there).
    properties: tuple[tuple[str, str], ...] = ()

    def property_values(self, name: str) -> list[str]:
        return [v for k, v in self.properties if k == name]


def _clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if not text:
        return None
    text = text.strip()
    if len(text) > limit:
        return text[: limit // 2] + "\n…[truncated]…\n" + text[-limit // 2 :]
    return text


def _module_of(file: str) -> str:
    return file.removesuffix(".py").replace("/", ".")


def _case_id(case: TestCase, files: list[str]) -> str | None:
    classname = case.classname or ""
    name = case.name or ""
    file_attr = case._elem.get("file")  # noqa: SLF001 - junitparser has no accessor for it
    candidates = [file_attr] if file_attr else []
    candidates += sorted(files, key=len, reverse=True)
    for file in candidates:
        module = _module_of(file)
        if classname == module:
            return f"{file}::{name}"
        if classname.startswith(module + "."):
            rest = classname[len(module) + 1 :].replace(".", "::")
            return f"{file}::{rest}::{name}"
    return None


def _collection_error_file(case: TestCase, files: list[str]) -> str | None:
    """pytest reports a module that failed to import as a case named after the module."""
    if case.classname:
        return None
    for file in files:
        if case.name == _module_of(file):
            return file
    return None


MAX_PROPERTIES = 20
MAX_PROPERTY_CHARS = 2000
# Properties that carry a document, not a note: a performance case's raw figures.
LONG_PROPERTIES = {"grader_perf": 64 * 1024}


def _properties(case: TestCase) -> tuple[tuple[str, str], ...]:
    elem = case._elem  # noqa: SLF001 - junitparser has no accessor for testcase properties
    found: list[tuple[str, str]] = []
    for prop in elem.iterfind("properties/property"):
        name, value = prop.get("name"), prop.get("value")
        if name and value is not None and len(found) < MAX_PROPERTIES:
            limit = LONG_PROPERTIES.get(name, MAX_PROPERTY_CHARS)
            found.append((name[:100], value[:limit]))
    return tuple(found)


def parse_junit(xml: bytes, files: list[str]) -> tuple[dict[str, CaseResult], dict[str, str]]:
    """Parse JUnit XML. Returns per-id results and per-file collection errors.

    Refuses DTDs outright (no entity expansion) and, where one id is reported more
    than once, keeps its worst outcome, so a duplicated passing case cannot mask a
    failure.
    """
    if re.search(rb"<!(DOCTYPE|ENTITY)", xml[:65536], re.IGNORECASE):
        raise ValueError("JUnit XML with a DTD is refused")
    suites = JUnitXml.fromstring(xml.decode("utf-8", errors="replace"))
    results: dict[str, CaseResult] = {}
    file_errors: dict[str, str] = {}
    iterable = [suites] if suites._tag == "testsuite" else list(suites)  # noqa: SLF001
    for suite in iterable:
        for case in suite:
            if not isinstance(case, TestCase):
                continue
            outcome, message = "passed", None
            for res in case.result:
                if isinstance(res, Error):
                    outcome = "error"
                elif isinstance(res, Failure):
                    outcome = "failed"
                elif isinstance(res, Skipped):
                    outcome = "skipped"
                else:
                    continue
                message = "\n".join(x for x in (res.message, res.text) if x)
            bad_file = _collection_error_file(case, files)
            if bad_file is not None:
                file_errors[bad_file] = _clip(message) or "collection error"
                continue
            case_id = _case_id(case, files)
            if case_id is None:
                continue
            out = "\n".join(x for x in (case.system_out, case.system_err) if x and x.strip())
            new = CaseResult(
                case_id,
                outcome,
                float(case.time or 0.0),
                _clip(message),
                _clip(out),
                _properties(case),
            )
            old = results.get(case_id)
            if old is None or _OUTCOME_RANK[new.outcome] > _OUTCOME_RANK[old.outcome]:
                results[case_id] = new
    return results, file_errors


MALFORMED = "(it is not well-formed: cut short, or something else wrote to it)"
# A sentinel case: (classname, name) → True for the harness's always-failing check.
SentinelTest = Callable[[str, str], bool]


def reported_failing(case: ET.Element) -> bool:
    """The sentinel as most runners report an honest run: a failure (or an error)."""
    return case.find("failure") is not None or case.find("error") is not None


def verify_junit(
    xml: bytes | None,
    token: str,
    is_sentinel: SentinelTest,
    *,
    honest: Callable[[ET.Element], bool] = reported_failing,
    require_sentinel: bool = True,
    token_property: str = "grader_run",
    writer: str = "the grader's test runner",
) -> tuple[bytes | None, str | None]:
    """Keep JUnit XML only if the harness's test runner wrote it: (xml or None, why not).

    Every test suite must carry the run token as a ``token_property`` property (only
    the runner got it, through a pipe), and the harness's sentinel check, which always
    fails, must be reported as ``honest`` says an honest run reports it (never as
    passed: that is a run whose outcomes were rewritten). A run stopped at a limit may
    end before the sentinel ran (``require_sentinel=False``). The verified XML comes
    back without the token and the sentinel.
    """
    if not xml:
        return None, None
    why = f"the results were not written by {writer}"
    if re.search(rb"<!(DOCTYPE|ENTITY)", xml[:65536], re.IGNORECASE):
        return None, f"{why} (they carry a DTD)"
    try:
        root = ET.fromstring(xml)
    except (ET.ParseError, ValueError):
        return None, f"{why} {MALFORMED}"
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        return None, f"{why} (they hold no test suite)"
    for suite in suites:
        tokens = [
            p.get("value")
            for p in suite.findall("properties/property")
            if p.get("name") == token_property
        ]
        if not tokens or any(t != token for t in tokens):
            return None, f"{why} (the run token is missing or wrong)"
    sentinels = [
        case
        for case in root.iter("testcase")
        if is_sentinel(case.get("classname") or "", case.get("name") or "")
    ]
    if not sentinels and require_sentinel:
        return None, f"{why} (the harness's sentinel check is missing)"
    for case in sentinels:
        if not honest(case):
            return None, (
                "the harness's always-failing sentinel check was reported as not failing: "
                "the test outcomes were rewritten"
            )
    return _without_harness(root, suites, is_sentinel, token_property), None


def _without_harness(
    root: ET.Element, suites: list[ET.Element], is_sentinel: SentinelTest, token_property: str
) -> bytes:
    """The verified XML without what the harness added (token, sentinel)."""
    for suite in suites:
        for props in suite.findall("properties"):
            for prop in props.findall("property"):
                if prop.get("name") == token_property:
                    props.remove(prop)
            if len(props) == 0:
                suite.remove(props)
        for case in suite.findall("testcase"):
            if is_sentinel(case.get("classname") or "", case.get("name") or ""):
                suite.remove(case)
                for key in ("tests", "skipped", "failures", "errors"):
                    value = suite.get(key, "")
                    if (
                        value.isdigit()
                        and int(value) > 0
                        and (key == "tests" or case.find(key.rstrip("s")) is not None)
                    ):
                        suite.set(key, str(int(value) - 1))
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
