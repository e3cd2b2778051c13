"""The launcher runs whatever command a job carries: placeholders filled in, the lint
step before anything else, a build step whose failure ends the run as data, results
through a pipe. Exercised through the local runner (the same launcher as in a sandbox)."""

from __future__ import annotations

from pathlib import Path

from runners.base import TESTS_ROLE, Command, Job, RunLimits
from runners.local import LocalRunner


def job(tmp_path: Path, command: Command, token: str = "tkn") -> Job:
    (tmp_path / "challenge" / "tests" / "hidden").mkdir(parents=True, exist_ok=True)
    (tmp_path / "challenge" / "tests" / "hidden" / "t.txt").write_text("hidden test\n")
    sub = tmp_path / "sub"
    sub.mkdir(exist_ok=True)
    (sub / "code.txt").write_text("submitted\n")
    return Job(
        image="python",
        submission_dir=sub,
        tests_root=tmp_path / "challenge",
        commands={TESTS_ROLE: command},
        limits=RunLimits(wall_seconds=20),
        token=token,
    )


def sh(script: str) -> tuple[str, ...]:
    return ("sh", "-c", script)


def test_placeholders_are_filled_and_results_come_through_the_pipe(tmp_path: Path) -> None:
    cmd = Command(
        argv=sh('cat code.txt > {results}; read -r t <&{token_fd}; echo "token=$t" >> {results}'),
        results=True,
    )
    res = LocalRunner().run(job(tmp_path, cmd, token="s3cret"))
    assert res.exit_code == 0
    assert res.results == b"submitted\ntoken=s3cret\n"


def test_the_lint_step_runs_first_and_its_report_is_kept(tmp_path: Path) -> None:
    cmd = Command(
        argv=sh("echo ran >> {work}/order; cat {work}/order > {results}"),
        lint=sh("echo linted > {work}/order; echo '[finding]'; echo noise >&2"),
        results=True,
    )
    res = LocalRunner().run(job(tmp_path, cmd))
    assert res.lint == b"[finding]\n"
    assert res.results == b"linted\nran\n"


def test_a_failing_build_ends_the_run_with_its_log(tmp_path: Path) -> None:
    cmd = Command(
        argv=sh("echo tests-ran > {results}"),
        build=sh("echo 'x.go:3: undefined: Foo' >&2; exit 2"),
        results=True,
    )
    res = LocalRunner().run(job(tmp_path, cmd))
    assert res.build_failed
    assert "undefined: Foo" in res.build_log
    assert res.exit_code == 2
    assert not res.results


def test_a_passing_build_is_followed_by_the_command(tmp_path: Path) -> None:
    cmd = Command(argv=sh("cat built > {results}"), build=sh("echo ok > built"), results=True)
    res = LocalRunner().run(job(tmp_path, cmd))
    assert not res.build_failed
    assert res.results == b"ok\n"


def test_the_app_folder_holds_code_and_tests_side_by_side_read_only(tmp_path: Path) -> None:
    base = job(tmp_path, Command(argv=(), results=True))
    cmd = Command(
        argv=sh("ls > {results}; echo x >> code.txt 2>/dev/null || echo read-only >> {results}"),
        results=True,
        cwd="app",
    )
    app_job = Job(
        image=base.image,
        submission_dir=base.submission_dir,
        tests_root=base.tests_root,
        commands={TESTS_ROLE: cmd},
        limits=base.limits,
        app_dir="app",
        extra_files={"sentinel.txt": "always fails\n"},
    )
    res = LocalRunner().run(app_job)
    assert res.results is not None
    listing = res.results.decode().split()
    assert listing[:3] == ["code.txt", "sentinel.txt", "t.txt"]


def test_the_command_holds_the_results_on_3_the_token_on_4_and_nothing_else(
    tmp_path: Path,
) -> None:
    script = (
        "import os, sys; fds = sorted(int(f) for f in os.listdir('/proc/self/fd')); "
        "token = os.read(4, 100).decode(); os.write(3, f'{fds} {token}'.encode())"
    )
    cmd = Command(argv=("{python}", "-I", "-c", script), results=True)
    res = LocalRunner().run(job(tmp_path, cmd, token="t0k"))
    assert res.results is not None
    fds, token = res.results.decode().rsplit(" ", 1)
    # 0-2, the two pipes, and the descriptor listdir itself had open.
    assert fds.strip("[]").split(", ")[:5] == ["0", "1", "2", "3", "4"]
    assert len(fds.split(",")) <= 6
    assert token == "t0k"


def test_code_that_rewrites_the_lint_report_changes_nothing(tmp_path: Path) -> None:
    cmd = Command(
        argv=sh("echo forged > {root}/out/lint; echo done > {results}"),
        lint=sh("echo '[real finding]'"),
        results=True,
    )
    res = LocalRunner().run(job(tmp_path, cmd))
    assert res.results == b"done\n"
    assert res.lint == b"[real finding]\n"
