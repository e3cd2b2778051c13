"""Service challenges end to end (grader/service.py with the Docker runner): a reference
scores 100, and each way a service can fail gives a graded report with its cause."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.challenge import Challenge, load_challenge
from grader.engine import grade
from grader.report import Report
from grader.submission import open_submission
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FIXTURES = Path(__file__).parent / "service_challenges"

# A working echo service the variants below break one way each.
HEAD = '''\
import json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(os.environ["PORT"])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/healthz":
            body = {"ok": True}
        elif url.path == "/echo":
            on_echo()
            body = {k: v[0] for k, v in parse_qs(url.query).items()}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def on_echo():
    pass
'''
SERVE = '\nThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()\n'


@pytest.fixture(scope="module")
def echo() -> Challenge:
    return load_challenge(FIXTURES / "echo")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def run(challenge: Challenge, runner: DockerRunner, tmp_path: Path, app: str,
        cache: Path) -> Report:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "app.py").write_text(textwrap.dedent(app))
    sub = open_submission(folder, tmp_path, ignore=challenge.ignores)
    return grade(challenge, sub, runner, cache_dir=cache)


def codes(report: Report) -> list[str]:
    return [f.code for f in report.flags]


def test_reference_scores_100_and_reports_how_the_service_ran(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    report = run(echo, docker_runner, tmp_path, HEAD + SERVE, cache)
    assert report.scores.correctness == 100, [(t.id, t.message) for t in report.tests]
    assert report.language == "python"
    assert report.service is not None
    assert report.service.ready and report.service.ready_s is not None
    assert report.service.starts == 1 and report.service.exits == []
    assert not any(c.startswith("service-") for c in codes(report))


def test_a_service_that_never_gets_ready_errors_every_test(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    app = HEAD.replace('body = {"ok": True}', "self.send_error(503); return") + SERVE
    report = run(echo, docker_runner, tmp_path, app, cache)
    assert {t.outcome for t in report.tests} == {"error"}
    assert "service-not-ready" in codes(report)
    assert report.service is not None and report.service.cause == "service-not-ready"
    assert "within 6 s" in (report.service.message or "")
    assert report.scores.correctness == 0


def test_a_service_on_the_wrong_port_is_not_ready_and_the_report_says_where_it_listens(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    app = HEAD + SERVE.replace("PORT)", "9090)")
    report = run(echo, docker_runner, tmp_path, app, cache)
    assert "service-not-ready" in codes(report)
    assert report.service is not None
    assert "nothing listens on port 8080" in (report.service.message or "")
    assert "9090" in (report.service.message or "")
    assert {t.outcome for t in report.tests} == {"error"}


def test_a_service_that_crashes_at_start_is_reported_with_its_exit_and_log(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    app = HEAD + 'print("cannot open the config", file=sys.stderr)\nsys.exit(3)\n'
    report = run(echo, docker_runner, tmp_path, app, cache)
    assert "service-crashed" in codes(report)
    assert report.service is not None and report.service.cause == "service-crashed"
    assert report.service.exits and report.service.exits[0].code == 3
    assert "cannot open the config" in report.service.log
    assert {t.outcome for t in report.tests} == {"error"}


def test_a_service_that_crashes_mid_run_fails_the_later_tests_and_is_flagged(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    app = HEAD + "def on_echo():\n    print('dying', flush=True)\n    os._exit(7)\n" + SERVE
    report = run(echo, docker_runner, tmp_path, app, cache)
    assert report.service is not None and report.service.ready
    assert "service-crashed" in codes(report)
    assert [e.code for e in report.service.exits] == [7]
    assert "dying" in report.service.log
    assert report.scores.correctness < 100
    # It was ready, so the tests ran (and failed to reach it), rather than erred at setup.
    assert {t.outcome for t in report.tests} == {"failed"}


def test_a_service_that_floods_its_log_hits_the_output_limit_and_its_log_stays_bounded(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    flood = (
        "def flood():\n    line = 'x' * 1000\n    while True:\n        print(line)\n"
        "threading.Thread(target=flood, daemon=True).start()\n"
    )
    report = run(echo, docker_runner, tmp_path, HEAD + flood + SERVE, cache)
    assert "output" in report.limits_hit
    assert report.service is not None
    assert report.service.log_bytes > 64 * 1024
    assert len(report.service.log) <= 40 * 1024
    assert len(report.to_json()) < 1_000_000


def test_a_service_that_forks_without_end_hits_the_pids_limit(
    echo: Challenge, docker_runner: DockerRunner, tmp_path: Path, cache: Path
) -> None:
    bomb = (
        "def bomb():\n    while True:\n        try:\n            os.fork()\n"
        "        except OSError:\n            pass\n"
        "threading.Thread(target=bomb, daemon=True).start()\n"
    )
    report = run(echo, docker_runner, tmp_path, HEAD + bomb + SERVE, cache)
    assert report.status == "graded"
    assert "pids" in report.limits_hit
    assert "limit-hit" in codes(report)
