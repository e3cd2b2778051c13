"""The JUnit XML rendering (CI systems)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.render.common import (
    XML_UNSAFE,
    _visible,
    clean,
    findings_total,
    first_line,
    perf_line,
    score_note,
    score_str,
    secs_str,
    shown_sections,
    tail,
    weight_str,
)
from grader.report import Report, TestResult

# --- JUnit XML -------------------------------------------------------------------------


def _x(s: object) -> str:
    return XML_UNSAFE.sub(_visible, clean(str(s)))


def _split_id(test_id: str) -> tuple[str, str, str]:
    """``tests/a/test_x.py::Cls::test_y`` → (file, ``tests.a.test_x.Cls``, ``test_y``)."""
    file, sep, rest = test_id.partition("::")
    if not sep:
        return "", "", test_id
    parts = rest.split("::")
    module = file.removesuffix(".py").replace("/", ".")
    return file, ".".join([module, *parts[:-1]]), parts[-1] or test_id


def render(report: Report) -> str:
    """The report as JUnit XML."""
    r = report
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    cases = [_testcase(t, counts) for t in r.tests]
    duration = secs_str(sum(t.duration_s for t in r.tests))
    attrs = {"tests": str(len(r.tests)), **{k: str(v) for k, v in counts.items()}, "time": duration}
    root = ET.Element("testsuites", {"name": "grader", **attrs})
    suite = ET.SubElement(root, "testsuite", {"name": _x(r.challenge.slug), **attrs})
    props = ET.SubElement(suite, "properties")
    for name, value in _properties(r):
        ET.SubElement(props, "property", {"name": _x(name), "value": _x(value)})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(t: TestResult, counts: dict[str, int]) -> ET.Element:
    """One test as a ``testcase`` element; ``counts`` gets its failure, error or skip."""
    file, classname, name = _split_id(t.id)
    case = ET.Element(
        "testcase",
        {"classname": _x(classname), "name": _x(name), "time": secs_str(t.duration_s)},
    )
    if file:
        case.set("file", _x(file))
    body = _x(t.message or "")
    if not t.counted:
        counts["skipped"] += 1
        ET.SubElement(
            case, "skipped", {"message": "skipped by the challenge author; not counted"}
        ).text = body or None
    elif t.outcome == "not_reported":
        counts["failures"] += 1
        ET.SubElement(case, "failure", {"message": "not reported", "type": "not_reported"})
    elif t.outcome == "error":
        counts["errors"] += 1
        ET.SubElement(
            case, "error", {"message": _x(first_line(t.message) or "error"), "type": "error"}
        ).text = body or None
    elif t.outcome in ("failed", "skipped"):
        counts["failures"] += 1
        message = first_line(t.message) or t.outcome
        if t.outcome == "skipped":
            message = f"skipped by the submission (counts as failed): {message}"
        ET.SubElement(case, "failure", {"message": _x(message), "type": t.outcome}).text = (
            body or None
        )
    if t.output:
        ET.SubElement(case, "system-out").text = _x(tail(t.output))
    return case


def _properties(r: Report) -> list[tuple[str, str]]:
    """The suite's properties: scores, weights, notes, flags, limits and error."""
    values = [
        ("grader.version", r.grader_version),
        ("schema_version", str(r.schema_version)),
        ("status", r.status),
        ("challenge", f"{r.challenge.slug} v{r.challenge.version}"),
        ("submission.id", r.submission.id),
        ("submission.sha256", r.submission.sha256),
        ("score.total", score_str(r.scores.total)),
    ]
    for key in shown_sections(r):
        values.append((f"score.{key}", score_str(getattr(r.scores, key))))
        values.append((f"weight.{key}", weight_str(r.weights.get(key, 0.0))))
        if note := score_note(r, key):
            values.append((f"note.{key}", note))
    values.append(("style.findings", str(findings_total(r))))
    values.append(
        ("complexity.maintainability_index", score_str(r.complexity.maintainability_index))
    )
    values.append(("docs.coverage", f"{r.docs.documented}/{r.docs.total}"))
    if r.performance is not None:
        for pc in r.performance.cases:
            line = f"score {score_str(pc.score)} · {perf_line(pc)}"
            values.append((f"performance.{pc.id}", line))
    if r.limits_hit:
        values.append(("limits_hit", ",".join(r.limits_hit)))
    values += [(f"flag.{f.code}", f.message) for f in r.flags]
    if r.error is not None:
        values.append(("error", f"{r.error.code}: {r.error.message}"))
    return values
