"""Sandboxes that execute a submission. An explicit registry, no discovery."""

from __future__ import annotations

from collections.abc import Callable

from runners.base import Job, RunLimits, Runner, RunResult
from runners.errors import RunnerError

__all__ = ["RUNNERS", "Job", "RunLimits", "RunResult", "Runner", "make_runner"]


def _docker(**kwargs: object) -> Runner:
    from runners import images
    from runners.docker import DockerRunner

    progress = kwargs.get("progress")

    def image_for(recipe: str) -> str:
        return images.ensure(recipe, progress=progress)  # type: ignore[arg-type]

    kwargs.setdefault("image_for", image_for)
    return DockerRunner(**kwargs)  # type: ignore[arg-type]


def _local(**kwargs: object) -> Runner:
    from runners.local import LocalRunner

    return LocalRunner()


RUNNERS: dict[str, Callable[..., Runner]] = {"docker": _docker, "local": _local}


def make_runner(name: str, **kwargs: object) -> Runner:
    """Build a runner by name: ``docker`` (the default sandbox) or ``local`` (trusted only)."""
    try:
        factory = RUNNERS[name]
    except KeyError:
        raise RunnerError(f"unknown runner {name!r} (choose from {', '.join(RUNNERS)})") from None
    return factory(**kwargs)
