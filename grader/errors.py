"""The grader's exceptions: one base class and a few kinds.

The sandbox's own errors live in ``runners.errors`` (runners never import grader);
they are re-exported here so callers catch everything from one place.
"""

from __future__ import annotations

from runners.errors import ImageError, RunnerError, SandboxError

__all__ = [
    "USER_ERRORS",
    "AnalysisError",
    "ChallengeError",
    "GraderError",
    "ImageError",
    "RunnerError",
    "SandboxError",
    "SubmissionError",
]


class GraderError(Exception):
    """Base of every error the grader raises on purpose; its message is user-facing."""

    code = "grader-error"


class ChallengeError(GraderError):
    """A challenge folder or its ``challenge.toml`` is invalid."""

    code = "invalid-challenge"


class SubmissionError(GraderError):
    """An upload breaks a submission rule (size, links, paths, ...)."""

    code = "invalid-submission"


class AnalysisError(GraderError):
    """Static analysis could not be carried out (for infrastructure reasons)."""

    code = "analysis-error"


# Errors whose message is meant for the user (CLI prints it, API returns it).
USER_ERRORS = (GraderError, RunnerError)
