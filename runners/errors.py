"""The runners' exceptions. Leaf module: imports nothing else of ours."""

from __future__ import annotations


class RunnerError(Exception):
    """Base of the errors a runner raises on purpose; the message is user-facing."""

    code = "runner-error"


class SandboxError(RunnerError):
    """Our own infrastructure failed while running a submission (retryable)."""

    code = "sandbox-error"


class ImageError(SandboxError):
    """A runner image is missing or could not be built."""

    code = "image-error"
