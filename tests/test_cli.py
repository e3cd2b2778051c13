"""The grader command: exit codes, one-line errors without tracebacks, formats, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests_support import make_adder_challenge

REPO = Path(__file__).resolve().parents[1]
GRADER = [sys.executable, "-m", "grader.cli"]


def grader(
    *args: str | Path, cwd: Path = REPO, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_CONTAINER_PREFIX"] = os.environ.get("GRADER_CONTAINER_PREFIX", "grader-test")
    env["GRADER_CACHE_DIR"] = (
        str(cwd / ".grader-test-cache")
        if cwd != REPO
        else env.get("GRADER_CACHE_DIR", str(Path.home() / ".cache" / "grader"))
    )
    return subprocess.run(
        [*GRADER, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]


def test_missing_challenge_exits_2(tmp_path: Path) -> None:
    proc = grader("run", tmp_path / "nope", tmp_path)
    assert_one_line_error(proc, 2, "no such challenge folder")


def test_invalid_challenge_toml_exits_2_naming_the_key(tmp_path: Path) -> None:
    root = make_adder_challenge(tmp_path)
    (root / "challenge.toml").write_text(
        'title = "x"\nlanguage = "python"\n[limits]\npids = "many"\n'
    )
    proc = grader("run", root, root / "solution")
    assert_one_line_error(proc, 2, "limits.pids")
    assert "challenge.toml" in proc.stderr


def test_malicious_archive_exits_2_with_reason(tmp_path: Path) -> None:
    root = make_adder_challenge(tmp_path)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escape.py", "x = 1\n")
    proc = grader("run", root, evil)
    assert_one_line_error(proc, 2, "escape.py")
    assert not (tmp_path.parent / "escape.py").exists()


def test_missing_submission_exits_2(tmp_path: Path) -> None:
    root = make_adder_challenge(tmp_path)
    proc = grader("run", root, tmp_path / "missing.zip")
    assert_one_line_error(proc, 2, "no such file")


def test_new_refuses_bad_slug_and_existing_folder(tmp_path: Path) -> None:
    assert_one_line_error(grader("new", "Bad Slug!", "--dir", tmp_path), 2, "slug")
    (tmp_path / "taken").mkdir()
    assert_one_line_error(grader("new", "taken", "--dir", tmp_path), 2, "already exists")


def test_new_scaffold_loads(tmp_path: Path) -> None:
    from grader.challenge import load_challenge

    proc = grader("new", "word-count", "--dir", tmp_path)
    assert proc.returncode == 0, proc.stderr
    ch = load_challenge(tmp_path / "word-count")
    assert ch.config.entrypoint == "solution.py"
    assert len(ch.test_files()) == 2


def test_validate_in_a_language_the_challenge_does_not_offer_exits_2() -> None:
    proc = grader("validate", REPO / "challenges" / "orders-api", "--language", "cobol")
    assert_one_line_error(proc, 2, "orders-api is not offered in 'cobol'")


def test_images_build_unknown_language_exits_2() -> None:
    assert_one_line_error(grader("images", "build", "cobol"), 2, "cobol")


@pytest.mark.docker
def test_run_json_reports_full_correctness_for_the_reference(
    tmp_path: Path, runner_image: str
) -> None:
    root = make_adder_challenge(tmp_path)
    proc = grader("run", root, root / "solution", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema_version"] == 1 and data["status"] == "graded"
    assert data["scores"]["correctness"] == 100
    assert proc.stderr == ""  # quiet when piped


@pytest.mark.docker
def test_fail_under_exits_1_and_output_writes_the_file(tmp_path: Path, runner_image: str) -> None:
    root = make_adder_challenge(tmp_path)
    out = tmp_path / "reports" / "r.json"
    proc = grader(
        "run",
        root,
        root / "starter",
        "--format",
        "json",
        "--output",
        out,
        "--fail-under",
        "90",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert json.loads(out.read_text())["scores"]["correctness"] == 0


@pytest.mark.docker
@pytest.mark.parametrize("fmt", ["text", "md", "html", "junit"])
def test_every_format_renders(tmp_path: Path, runner_image: str, fmt: str) -> None:
    root = make_adder_challenge(tmp_path)
    proc = grader("run", root, root / "solution", "--format", fmt, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "100" in proc.stdout
    assert "\x1b[" not in proc.stdout  # plain when piped


@pytest.mark.docker
def test_candidate_view_hides_hidden_tests(tmp_path: Path, runner_image: str) -> None:
    root = make_adder_challenge(tmp_path)
    proc = grader(
        "run", root, root / "starter", "--format", "json", "--view", "candidate", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "tests/hidden" not in proc.stdout and "test_weighted" not in proc.stdout


@pytest.mark.docker
def test_single_file_and_zip_submissions_are_graded(tmp_path: Path, runner_image: str) -> None:
    root = make_adder_challenge(tmp_path)
    single = root / "solution" / "adder.py"
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(single, "my-folder/adder.py")
    for sub in (single, archive):
        proc = grader("run", root, sub, "--format", "json", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["scores"]["correctness"] == 100
