"""Static analysis: figures for ordinary code, and bounded, graded results for hostile code."""

from __future__ import annotations

import json
import resource
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.analysis import Analysis, analyse, is_candidate_test
from grader.analysis import files as files_mod
from grader.analysis import python as analysis
from grader.challenge import ComplexityConfig, StyleConfig
from grader.errors import AnalysisError

# Generous: each pathological case takes well under a second here; this is the bound
# that proves "no hang", not a performance target.
BOUND_S = 30.0

GOOD = textwrap.dedent(
    '''\
    """A small module."""
    import os


    def add(a, b):
        """Add two numbers."""
        return a + b


    def branchy(x):
        if x > 1:
            return 1
        elif x > 2:
            return 2
        elif x > 3:
            return 3
        elif x > 4:
            return 4
        elif x > 5:
            return 5
        return 0  # fallback


    class Counter:
        """Counts things."""

        def bump(self, n):
            for _ in range(n):
                if n and n % 2:
                    pass
            return n

        def _hidden(self):
            pass
    '''
)


def write(root: Path, files: dict[str, str | bytes]) -> list[str]:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return sorted(files)


def run(root: Path, files: list[str], **kw: object) -> tuple[Analysis, float]:
    t0 = time.monotonic()
    result = analyse(root, files, StyleConfig(), ComplexityConfig(hotspots=2), **kw)  # type: ignore[arg-type]
    return result, time.monotonic() - t0


def test_ordinary_module_gets_every_figure(tmp_path: Path) -> None:
    files = write(tmp_path, {"pkg/mod.py": GOOD})
    a, _ = run(tmp_path, files)

    assert a.style.analysable and a.style.reason is None
    codes = {(f.code, f.line) for f in a.style.findings}
    assert ("F401", 2) in codes
    assert a.style.findings_total == len(a.style.findings)
    assert all(f.file == "pkg/mod.py" for f in a.style.findings)

    c = a.complexity
    by_name = {f.name: f for f in c.functions}
    assert set(by_name) == {"add", "branchy", "Counter.bump", "Counter._hidden"}
    assert (by_name["add"].complexity, by_name["add"].rank) == (1, "A")
    assert (by_name["branchy"].complexity, by_name["branchy"].rank) == (6, "B")
    assert by_name["Counter.bump"].complexity == 4
    assert [h.name for h in c.hotspots] == ["branchy", "Counter.bump"]
    [metrics] = c.files
    assert metrics.file == "pkg/mod.py"
    assert (metrics.loc, metrics.comments) == (GOOD.count("\n"), 1)
    assert 0 < metrics.sloc < metrics.loc
    assert 0 < metrics.maintainability_index <= 100
    assert c.maintainability_index == metrics.maintainability_index
    assert a.style.lines_of_code == metrics.sloc

    docs = {(i.name, i.kind): i.documented for i in a.docs.items}
    assert docs == {
        ("pkg.mod", "module"): True,
        ("add", "function"): True,
        ("branchy", "function"): False,
        ("Counter", "class"): True,
        ("Counter.bump", "function"): False,
    }
    assert (a.docs.documented, a.docs.total) == (3, 5)
    assert [s.path for s in a.sources] == ["pkg/mod.py"]
    assert a.sources[0].text == GOOD and not a.sources[0].truncated


def test_candidate_tests_are_shown_but_not_analysed(tmp_path: Path) -> None:
    files = write(
        tmp_path,
        {
            "sol.py": '"""Doc."""\n',
            "test_sol.py": "import os\n",
            "sol_test.py": "import os\n",
            "conftest.py": "import os\n",
            "tests/helpers.py": "import os\n",
            "README.md": "# not python\n",
        },
    )
    a, _ = run(tmp_path, files)
    assert a.style.findings == []
    assert [f.file for f in a.complexity.files] == ["sol.py"]
    assert [s.path for s in a.sources] == [
        "sol.py",
        "conftest.py",
        "sol_test.py",
        "test_sol.py",
        "tests/helpers.py",
    ]
    assert is_candidate_test("a/test/x.py") and not is_candidate_test("testing.py")


def test_submission_cannot_configure_or_silence_ruff(tmp_path: Path) -> None:
    files = write(
        tmp_path,
        {
            "pyproject.toml": '[tool.ruff]\nexclude = ["*"]\n[tool.ruff.lint]\nignore = ["ALL"]\n',
            "ruff.toml": 'extend-exclude = ["*.py"]\n',
            "a.py": "# ruff: noqa\nimport os\n",
            "b.py": "import sys  # noqa: F401\n",
        },
    )
    a, _ = run(tmp_path, files)
    assert {(f.file, f.code) for f in a.style.findings} == {("a.py", "F401"), ("b.py", "F401")}


def test_rule_selection_comes_from_the_challenge(tmp_path: Path) -> None:
    files = write(tmp_path, {"a.py": "import os, sys\nx = 1\nif x: pass\n"})
    cfg = StyleConfig(select=["E", "F"], ignore=["F401"])
    a = analyse(tmp_path, files, cfg, ComplexityConfig())
    assert {f.code for f in a.style.findings} == {"E401", "E701"}


def test_ruff_rejecting_the_challenge_rules_is_our_error(tmp_path: Path) -> None:
    files = write(tmp_path, {"a.py": "x = 1\n"})
    with pytest.raises(AnalysisError, match="ruff rejected"):
        analyse(tmp_path, files, StyleConfig(select=["NOPE999"]), ComplexityConfig())


def test_the_submission_is_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    files = write(
        tmp_path, {"evil.py": f"open({str(marker)!r}, 'w').close()\nimport os\nos._exit(3)\n"}
    )
    a, _ = run(tmp_path, files)
    assert not marker.exists()
    assert a.complexity.analysable


def deep_parens() -> str:
    return "x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n"


def long_sum() -> str:
    return "x = " + "+".join(["1"] * 200_000) + "\n"


def long_attribute_chain() -> str:
    return "x = a" + ".b" * 100_000 + "\n"


def many_functions() -> str:
    return "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(60_000))


def huge_file() -> str:
    return "x = 1\n" * 800_000  # 4.8 MB, valid Python


PATHOLOGICAL: dict[str, tuple[object, str]] = {
    "deep-parens": (deep_parens, "nested parentheses"),
    "long-sum": (long_sum, "too deeply nested"),
    "attribute-chain": (long_attribute_chain, "too deeply nested"),
    "nesting-under-parser-limit": ("x = " + "+".join(["1"] * 500) + "\n", "nested more than"),
    "60000-functions": (many_functions, "more than 50,000 functions"),
    "nul-byte": (b"x = 1\x00\n", "NUL byte"),
    "invalid-utf8": (b"x = '\xff\xfe'\n", "not valid UTF-8"),
    "syntax-error": ("def f(:\n    pass\n", "syntax error at line 1"),
    "huge-file": (huge_file, "over the 4 MiB limit"),
}


@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
def test_pathological_source_alone_is_graded_not_analysable(tmp_path: Path, case: str) -> None:
    make, why = PATHOLOGICAL[case]
    content = make() if callable(make) else make
    assert isinstance(content, str | bytes)
    files = write(tmp_path, {"bad.py": content})
    a, elapsed = run(tmp_path, files)
    assert elapsed < BOUND_S
    for section in (a.style, a.complexity, a.docs):
        assert section.analysable is False
        assert section.reason is not None and "bad.py" in section.reason and why in section.reason
        [problem] = section.unanalysable
        assert problem.file == "bad.py" and why in problem.reason and problem.lines >= 1
    assert [s.path for s in a.sources] == ["bad.py"]


@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
def test_pathological_file_next_to_good_code_is_the_worst_case(tmp_path: Path, case: str) -> None:
    make, why = PATHOLOGICAL[case]
    content = make() if callable(make) else make
    assert isinstance(content, str | bytes)
    files = write(tmp_path, {"bad.py": content, "good.py": GOOD})
    a, elapsed = run(tmp_path, files)
    assert elapsed < BOUND_S
    for section in (a.style, a.complexity, a.docs):
        assert section.analysable is True
        assert section.reason is not None and "bad.py" in section.reason
        assert [p.file for p in section.unanalysable] == ["bad.py"]
    assert {f.file for f in a.complexity.functions} == {"good.py"}
    assert {f.file for f in a.style.findings} == {"good.py"}


def test_analysable_nesting_just_under_the_limit(tmp_path: Path) -> None:
    files = write(tmp_path, {"ok.py": "x = " + "+".join(["1"] * 150) + "\n"})
    a, _ = run(tmp_path, files)
    assert a.complexity.analysable and a.complexity.unanalysable == []
    assert a.style.analysable


def test_more_than_5_mib_of_source_is_not_analysable(tmp_path: Path) -> None:
    chunk = "x = 1\n" * 150_000  # 900 kB each, under the per-file limit
    files = write(tmp_path, {f"m{i}.py": chunk for i in range(6)})
    a, elapsed = run(tmp_path, files)
    assert elapsed < BOUND_S
    for section in (a.style, a.complexity, a.docs):
        assert not section.analysable and section.reason is not None
        assert "5 MiB" in section.reason


def test_links_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    sub = tmp_path / "sub"
    files = write(sub, {"good.py": GOOD})
    (sub / "link.py").symlink_to(outside)
    a, _ = run(sub, [*files, "link.py", "../outside.py"])
    assert {p.file for p in a.complexity.unanalysable} == {"link.py", "../outside.py"}
    assert all("SECRET" not in s.text for s in a.sources)


def test_no_source_files(tmp_path: Path) -> None:
    files = write(tmp_path, {"test_only.py": "def test_x():\n    pass\n", "notes.txt": "hi"})
    a, _ = run(tmp_path, files)
    assert not a.style.analysable and "no Python source files" in (a.style.reason or "")


def test_findings_are_all_counted_but_listed_up_to_a_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis, "MAX_FINDINGS_LISTED", 10)
    files = write(tmp_path, {"a.py": "".join(f"import m{i}\n" for i in range(50))})
    a, _ = run(tmp_path, files)
    assert len(a.style.findings) == 10 and a.style.findings_total == 50


def test_source_text_is_capped_and_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_mod, "MAX_SOURCE_BYTES", 100)
    files = write(tmp_path, {"a.py": "x = 1\n" * 30, "b.py": "y = 2\n", "c.py": b"z = '\xff'\n"})
    a, _ = run(tmp_path, files)
    first, second, third = a.sources
    assert first.truncated and len(first.text) <= 100 and first.text.endswith("\n")
    assert "truncated" in (first.note or "")
    assert second.truncated and len(second.text) <= 100 - len(first.text)
    assert third.truncated
    assert a.complexity.analysable  # the cap is about display, not analysis


def test_undecodable_source_is_shown_with_a_note(tmp_path: Path) -> None:
    files = write(tmp_path, {"a.py": b"x = '\xff'\x00\n"})
    a, _ = run(tmp_path, files)
    [src] = a.sources
    assert "\x00" not in src.text and "\ufffd" in src.text
    assert "UTF-8" in (src.note or "") and "NUL" in (src.note or "")


# --- the subprocess machinery, with stand-in analysers ---------------------------------

FAKE_WORKER = textwrap.dedent(
    """\
    import json, os, signal, sys, time
    req = json.loads(sys.stdin.read())
    for rel in req["files"]:
        print(json.dumps({"start": rel}), flush=True)
        if rel.startswith("crash"):
            os.kill(os.getpid(), signal.SIGSEGV)
        if rel.startswith("sleep"):
            time.sleep(600)
        if rel.startswith("hog"):
            hog = bytearray(2 << 30)
        print(json.dumps({"file": rel, "ok": True, "loc": 1, "sloc": 1, "comments": 0,
                          "mi": 100.0, "functions": [], "docs": []}), flush=True)
    print(json.dumps({"done": True}), flush=True)
    """
)


@pytest.fixture
def fake_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    monkeypatch.setattr(analysis, "_WORKER", script)
    sub = tmp_path / "sub"
    sub.mkdir()
    return sub


def test_a_file_that_kills_the_analyser_is_isolated(fake_worker: Path) -> None:
    files = write(fake_worker, {"a.py": "x = 1\n", "crash.py": "x = 1\n", "z.py": "x = 1\n"})
    a, _ = run(fake_worker, files)
    assert a.complexity.analysable
    [problem] = a.complexity.unanalysable
    assert problem.file == "crash.py" and "SIGSEGV" in problem.reason
    assert [f.file for f in a.complexity.files] == ["a.py", "z.py"]


def test_analysis_that_hangs_is_cut_at_the_deadline(fake_worker: Path) -> None:
    files = write(fake_worker, {"a.py": "x = 1\n", "sleep.py": "x = 1\n", "z.py": "x = 1\n"})
    a, elapsed = run(fake_worker, files, timeout_s=2)
    assert elapsed < 8
    reasons = {p.file: p.reason for p in a.complexity.unanalysable}
    assert "timed out" in reasons["sleep.py"]
    assert "time ran out" in reasons["z.py"]
    assert [f.file for f in a.complexity.files] == ["a.py"]


def test_analysis_memory_is_limited(fake_worker: Path) -> None:
    files = write(fake_worker, {"hog.py": "x = 1\n", "z.py": "x = 1\n"})
    a, _ = run(fake_worker, files, memory_mb=256)
    [problem] = a.complexity.unanalysable
    assert problem.file == "hog.py" and "memory limit" in problem.reason
    assert [f.file for f in a.complexity.files] == ["z.py"]


def test_worker_that_cannot_start_is_our_error(fake_worker: Path) -> None:
    (analysis._WORKER).write_text("raise SystemExit('radon missing')\n")
    files = write(fake_worker, {"a.py": "x = 1\n"})
    with pytest.raises(AnalysisError, match="radon missing"):
        run(fake_worker, files)


FAKE_RUFF = textwrap.dedent(
    """\
    #!{python}
    import json, os, signal, sys
    paths = sys.argv[sys.argv.index("--") + 1:]
    if len(paths) > 1 or any(p.startswith("boom") for p in paths):
        os.kill(os.getpid(), signal.SIGABRT)
    for p in paths:
        print(json.dumps({{"code": "X1", "filename": os.path.abspath(p), "message": "fake",
                          "location": {{"row": 1, "column": 1}}}}))
    """
)


def test_a_file_that_crashes_ruff_is_isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ruff = tmp_path / "fake-ruff"
    ruff.write_text(FAKE_RUFF.format(python=sys.executable))
    ruff.chmod(0o755)
    monkeypatch.setattr(analysis, "_ruff_binary", lambda: str(ruff))
    sub = tmp_path / "sub"
    files = write(sub, {"a.py": "x = 1\n", "boom.py": "x = 1\n", "c.py": "x = 1\n"})
    a, _ = run(sub, files)
    assert a.style.analysable
    assert [(f.file, f.code) for f in a.style.findings] == [("a.py", "X1"), ("c.py", "X1")]
    [problem] = a.style.unanalysable
    assert problem.file == "boom.py" and "ruff crashed" in problem.reason
    assert a.style.lines_of_code == 2
    assert a.complexity.unanalysable == []  # radon was fine with it


def test_subprocesses_run_under_rlimits(tmp_path: Path) -> None:
    seen: list[bytes] = []
    code = (
        "import resource, json; print(json.dumps([resource.getrlimit(r) for r in "
        "(resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE)]))"
    )
    proc = analysis.run_limited(
        [sys.executable, "-I", "-c", code],
        stdin=b"",
        cwd=tmp_path,
        env={},
        deadline=time.monotonic() + 20,
        memory_mb=300,
        on_line=seen.append,
        max_output=1 << 16,
    )
    assert proc.returncode == 0
    (as_soft, _), (cpu_soft, cpu_hard), (fsize, _) = json.loads(seen[0])
    assert as_soft == 300 << 20
    assert 1 <= cpu_soft <= 22 and cpu_hard == cpu_soft + 1
    assert fsize == 0
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != 300 << 20  # ours is untouched


def test_output_of_a_subprocess_is_bounded(tmp_path: Path) -> None:
    seen: list[bytes] = []
    proc = analysis.run_limited(
        [sys.executable, "-I", "-c", "while True: print('x' * 1000)"],
        stdin=b"",
        cwd=tmp_path,
        env={},
        deadline=time.monotonic() + 20,
        memory_mb=300,
        on_line=seen.append,
        max_output=1 << 20,
    )
    assert proc.overflow and not proc.timed_out
    assert sum(len(s) + 1 for s in seen) <= 1 << 20


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("module.exports = { add, divide: div, mean };", {"add", "div", "mean"}),
        ("module.exports = {\n  Router,\n  HttpError,\n};", {"Router", "HttpError"}),
        ("module.exports = Router;", {"Router"}),
        ("exports.area = area;", {"area"}),
        ("export { a, b as c };\nexport default main;", {"a", "b", "main"}),
        ("const x = { a, b };", set()),
    ],
)
def test_javascript_exported_names_are_read_from_export_statements(
    source: str, names: set[str]
) -> None:
    """Only exported functions and classes count for JavaScript's docs score."""
    from grader.analysis._lizard_worker import exported_names
    from grader.languages.javascript import JavaScript

    assert exported_names(source, list(JavaScript.docs.exports)) == names
