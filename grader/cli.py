"""The ``grader`` command: run, validate, new, images build, similarity.

Exit codes: 0 graded (at or above ``--fail-under``), 1 graded below it (or a
validation failed), 2 bad input (challenge, submission, usage), 3 our own
infrastructure failed (Docker engine, image). No traceback reaches a user.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from grader import __version__
from grader.errors import USER_ERRORS, GraderError, RunnerError

if TYPE_CHECKING:
    from grader.challenge import Challenge
    from grader.health.model import ChallengeHealth
    from grader.report import Report
    from grader.settings import Settings
    from runners.base import Runner

EXIT_OK, EXIT_BELOW, EXIT_INPUT, EXIT_INFRA = 0, 1, 2, 3


class _Progress:
    """Step messages on a terminal (stderr), silence when piped."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._status: Any = None
        if self.enabled:
            from rich.console import Console

            self._console = Console(stderr=True, log_path=False)

    @contextlib.contextmanager
    def running(self, first: str) -> Iterator[_Progress]:
        if not self.enabled:
            yield self
            return
        with self._console.status(first) as status:
            self._status = status
            try:
                yield self
            finally:
                self._status = None

    def __call__(self, message: str) -> None:
        if self._status is not None:
            self._status.update(message)
            self._console.log(message, highlight=False)


def _fail(message: str, code: int) -> None:
    click.echo(f"grader: {message}", err=True)
    sys.exit(code)


def _exit_code_for(exc: BaseException) -> int:
    from grader.errors import SandboxError

    return EXIT_INFRA if isinstance(exc, SandboxError) else EXIT_INPUT


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Sandboxed grading of take-home coding challenges."""


@cli.command()
@click.argument("challenge", type=click.Path(path_type=Path))
@click.argument("submission", type=click.Path(path_type=Path))
@click.option(
    "--runner",
    "runner_name",
    type=click.Choice(["docker", "local"]),
    default="docker",
    show_default=True,
    help="local runs the code unsandboxed: trusted code only.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "md", "html", "junit"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="Exit 1 when the total score is below this.",
)
@click.option(
    "--view",
    type=click.Choice(["reviewer", "candidate"]),
    default="reviewer",
    show_default=True,
    help="candidate: only what the challenge's feedback allows.",
)
@click.option(
    "--language",
    default=None,
    help="A service challenge's language of the submission (default: recognised from its files).",
)
def run(
    challenge: Path,
    submission: Path,
    runner_name: str,
    fmt: str,
    output: Path | None,
    fail_under: float | None,
    view: str,
    language: str | None,
) -> None:
    """Grade SUBMISSION (folder, file, .zip or .tar.gz) against CHALLENGE (a folder)."""
    from grader.settings import Settings

    settings = Settings()
    progress = _Progress()
    try:
        report, ch = _grade(challenge, submission, runner_name, settings, progress, language)
        text = _render(report, ch, fmt, view)
    except USER_ERRORS as exc:
        _fail(str(exc), _exit_code_for(exc))
        return
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"{output}: cannot write the report: {exc.strerror}", EXIT_INPUT)
    else:
        click.echo(text)
    if fail_under is not None and report.scores.total < fail_under:
        sys.exit(EXIT_BELOW)


def _grade(
    challenge_path: Path,
    submission_path: Path,
    runner_name: str,
    settings: Settings,
    progress: _Progress,
    language: str | None = None,
) -> tuple[Report, Challenge]:
    from grader.challenge import load_challenge
    from grader.engine import grade
    from grader.service import detect_language
    from grader.submission import open_submission

    ch = load_challenge(challenge_path)
    if language is not None and language not in ch.languages:
        raise GraderError(f"--language {language}: {ch.slug} is in {', '.join(ch.languages)}")
    if not submission_path.exists():
        raise GraderError(f"{submission_path}: no such file or folder")
    runner = _runner(runner_name, progress)
    with tempfile.TemporaryDirectory(prefix="grader-run-") as tmp:
        sub = open_submission(submission_path, tmp, settings.upload_limits(), ignore=ch.ignores)
        if ch.is_service:
            ch = ch.for_language(language or detect_language(ch, sub.files))
        with progress.running(f"grading {submission_path} against {ch.slug}"):
            report = grade(ch, sub, runner, progress=progress, cache_dir=settings.cache_dir)
    return report, ch


def _runner(name: str, progress: _Progress) -> Runner:
    from runners import make_runner

    if name == "docker":
        from grader.settings import Settings

        return make_runner("docker", progress=progress, name_prefix=Settings().container_prefix)
    return make_runner(name)


def _render(report: Report, ch: Challenge, fmt: str, view: str) -> str:
    import json

    from grader.render import render
    from grader.views import candidate_view

    if view == "candidate":
        data = candidate_view(report, ch.config.feedback)
        if fmt != "json":
            raise GraderError("--view candidate supports --format json only")
        return json.dumps(data, indent=2)
    color = None if fmt == "text" else False
    return render(report, fmt, color=color)


@cli.command()
@click.argument("challenges", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--runner",
    "runner_name",
    type=click.Choice(["docker", "local"]),
    default="docker",
    show_default=True,
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also check the tests' health: mutants of the reference they must kill, "
    "flaky tests, time margins, known-bad submissions (bad/<name>/).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "json"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    envvar="GRADER_HEALTH_JOBS",
    help="--strict: gradings run at once (each within the challenge's limits).",
)
@click.option(
    "--recompute",
    is_flag=True,
    help="--strict: grade every mutant even when health.json or the cache is current.",
)
@click.option(
    "--no-record",
    is_flag=True,
    help="--strict: do not write challenges/<slug>/health.json after grading the mutants.",
)
def validate(
    challenges: tuple[Path, ...],
    runner_name: str,
    strict: bool,
    fmt: str,
    output: Path | None,
    jobs: int,
    recompute: bool,
    no_record: bool,
) -> None:
    """Prove each challenge: reference scores 100, starter less, weighted tests exist;
    with --strict, that its tests are strong, stable and fair (exit 1 otherwise)."""
    from grader.challenge import load_challenge
    from grader.health.model import ValidationReport
    from grader.health.render import render
    from grader.settings import Settings

    settings = Settings()
    paths = list(challenges) or sorted(
        p for p in settings.challenges_dir.glob("*") if (p / "challenge.toml").is_file()
    )
    if not paths:
        _fail(f"{settings.challenges_dir}: no challenges found", EXIT_INPUT)
    progress = _Progress()
    report = ValidationReport(strict=strict)
    # Text goes out as each challenge is done, unless it goes to a file.
    stream = fmt == "text" and output is None
    try:
        runner = _runner(runner_name, progress)
        for path in paths:
            ch = load_challenge(path)
            with progress.running(f"validating {ch.slug}"):
                result = _validate_one(
                    ch,
                    runner,
                    settings,
                    progress,
                    strict=strict,
                    jobs=jobs,
                    recompute=recompute,
                    write_record=not no_record,
                )
            report.challenges.append(result)
            if stream:
                click.echo(render(ValidationReport(strict=strict, challenges=[result]), fmt))
    except USER_ERRORS as exc:
        _fail(str(exc), _exit_code_for(exc))
    if not stream:
        text = render(report, fmt)
        if output is None:
            click.echo(text)
        else:
            try:
                output.parent.mkdir(parents=True, exist_ok=True)
                output.write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                _fail(f"{output}: cannot write the report: {exc.strerror}", EXIT_INPUT)
    failed = any(c.verdict == "fail" for c in report.challenges)
    sys.exit(EXIT_BELOW if failed else EXIT_OK)


def _validate_one(
    ch: Challenge,
    runner: Runner,
    settings: Settings,
    progress: _Progress,
    *,
    strict: bool,
    jobs: int,
    recompute: bool,
    write_record: bool,
) -> ChallengeHealth:
    import time

    from grader.errors import ChallengeError
    from grader.health import Context, check
    from grader.health.model import ChallengeHealth, worst
    from grader.validate import validate_challenge

    t0 = time.monotonic()
    problems, summary = validate_challenge(
        ch, runner, cache_dir=settings.cache_dir, progress=progress
    )
    result = ChallengeHealth(
        slug=ch.slug,
        version=ch.config.version,
        language=ch.config.language or "/".join(ch.languages),
        verdict="fail" if problems else "pass",
        problems=problems,
        summary=summary,
    )
    if strict:
        ctx = Context(
            challenge=ch,
            runner=runner,
            jobs=jobs,
            cache_dir=settings.cache_dir,
            progress=progress,
            recompute=recompute,
            write_record=write_record,
        )
        # A reference that fails its own tests still runs several times: a flaky test
        # shows as such; mutants and known-bad submissions are then skipped.
        try:
            result.checks = check(ctx, reference_passes=not problems)
        except ChallengeError:
            if not problems:
                raise
            # The reference does not even run (validate's problems say why).
        if result.checks is not None:
            verdicts = list(result.checks.verdicts().values())
            result.verdict = worst([*verdicts, result.verdict])
    result.duration_s = round(time.monotonic() - t0, 1)
    return result


_SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@cli.command()
@click.argument("slug")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path),
    default=None,
    help="Where challenges live (default: ./challenges).",
)
@click.option(
    "--language",
    default="python",
    show_default=True,
    help="The language of the challenge (grader languages lists them).",
)
def new(slug: str, parent: Path | None, language: str) -> None:
    """Scaffold challenges/SLUG: a challenge that validates out of the box."""
    from grader.languages import LANGUAGES
    from grader.scaffold import write_scaffold

    if language not in LANGUAGES:
        _fail(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})", EXIT_INPUT)

    if not _SLUG.match(slug) or len(slug) > 60:
        _fail(
            f"{slug!r}: a slug is lower-case words joined by '-', e.g. 'rate-limiter'", EXIT_INPUT
        )
    from grader.settings import Settings

    parent = parent or Settings().challenges_dir
    dest = parent / slug
    if dest.exists():
        _fail(f"{dest}: already exists", EXIT_INPUT)
    try:
        write_scaffold(dest, slug, language)
    except OSError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        _fail(f"{dest}: cannot write: {exc.strerror}", EXIT_INPUT)
    click.echo(f"created {dest}; next: edit it, then `grader validate {dest}`")


@cli.group()
def images() -> None:
    """Runner images (one per language)."""


@images.command("build")
@click.argument("languages", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even when up to date.")
def images_build(languages: tuple[str, ...], force: bool) -> None:
    """Build the runner images of LANGUAGES (Python's by default; `all` for every one and
    the databases of service challenges; `databases` for those: postgres, mariadb, redis)."""
    from grader.languages import LANGUAGES
    from runners.images import DATABASE_IMAGES, build

    if languages == ("all",):
        languages = tuple(LANGUAGES) + DATABASE_IMAGES
    elif languages == ("databases",):
        languages = DATABASE_IMAGES

    unknown = [lang for lang in languages if lang not in LANGUAGES and lang not in DATABASE_IMAGES]
    if unknown:
        _fail(
            f"no language or database image {unknown[0]!r} (known: {', '.join(LANGUAGES)}; "
            f"{', '.join(DATABASE_IMAGES)})",
            EXIT_INPUT,
        )
    progress = _Progress()
    try:
        for name in languages or ("python",):
            recipe = LANGUAGES[name].image if name in LANGUAGES else name
            with progress.running(f"building the {name} image"):
                tag = build(recipe, force=force, progress=progress)
            click.echo(tag)
    except RunnerError as exc:
        _fail(str(exc), EXIT_INFRA)


@cli.command()
@click.argument("challenge", type=click.Path(path_type=Path))
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="List only pairs scoring at least this.")
def similarity(challenge: Path, submissions: tuple[Path, ...], fmt: str,
               min_score: float) -> None:
    """Score every pair of SUBMISSIONS (folders, files, .zip, .tar.gz) for likeness; the
    starter and the reference solution of CHALLENGE are left out. Ids are the paths."""
    import json

    from grader import similarity as sim
    from grader.challenge import load_challenge
    from grader.settings import Settings

    try:
        ch = load_challenge(challenge)
        base = sim.base_of(ch.root)
        prints = {str(p): sim.fingerprint_upload(p, Settings().upload_limits())
                  for p in submissions}
    except USER_ERRORS as exc:
        _fail(str(exc), _exit_code_for(exc))
    pairs = sim.all_pairs(prints, base=base, min_score=min_score)
    if fmt == "json":
        click.echo(json.dumps({"pairs": [p.to_json() for p in pairs]}, indent=2))
        return
    threshold = ch.config.similarity.threshold
    for p in pairs:
        mark = "ALIKE" if p.score >= threshold else "     "
        click.echo(f"{mark} {p.score:.2f}  {p.a}  {p.b}  ({len(p.regions)} regions)")
    click.echo(f"{len(pairs)} pairs; threshold {threshold:g}")


@cli.command("languages")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def languages_cmd(fmt: str) -> None:
    """The languages challenges can be written in: toolchain, tests, linter, docs rule."""
    import json

    from grader.languages import LANGUAGES

    described = [lang.describe() for lang in LANGUAGES.values()]
    if fmt == "json":
        click.echo(json.dumps(described, indent=2))
        return
    for d in described:
        click.echo(f"{d['name']:<11} {d['versions']}")
        click.echo(f"{'':<11} tests {', '.join(d['tests'])} · {d['framework']}")  # type: ignore[arg-type]
        click.echo(f"{'':<11} style {d['linter']} · docs: {d['docs']}")


def main() -> None:
    """Entry point: no traceback reaches a user unless GRADER_DEBUG is set."""
    import os

    try:
        cli.main(standalone_mode=True)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("GRADER_DEBUG"):
            raise
        _fail(
            f"internal error: {exc.__class__.__name__}: {exc} "
            "(set GRADER_DEBUG=1 for the traceback)",
            EXIT_INFRA,
        )


if __name__ == "__main__":
    main()
