"""JUnit XML from a sandbox → one outcome per test id, mapped onto the expected ids."""

from __future__ import annotations

import re
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


def _properties(case: TestCase) -> tuple[tuple[str, str], ...]:
    elem = case._elem  # noqa: SLF001 - junitparser has no accessor for testcase properties
    found: list[tuple[str, str]] = []
    for prop in elem.iterfind("properties/property"):
        name, value = prop.get("name"), prop.get("value")
        if name and value is not None and len(found) < MAX_PROPERTIES:
            found.append((name[:100], value[:2000]))
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
