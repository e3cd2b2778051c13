"""Exceptions of the test side of process isolation (leaf module: imports nothing of ours).

Standard library only; copied into the sandbox next to the other ``rpc_*`` files.
"""

from __future__ import annotations


class CandidateError(Exception):
    """The candidate process could not serve a request (not an error of its code)."""


class CandidateProcessDied(CandidateError):
    """The connection to the candidate process broke during a call."""


class CandidateUnavailable(CandidateError):
    """No candidate process answered at the address."""


class NotAuthenticated(CandidateUnavailable):
    """A server that must prove it holds the run's secret (the reference's) did not."""


class CrossingTimedOut(CandidateProcessDied):
    """A timed crossing (``Connection.timed_call``) passed its time limit; the
    connection is dropped (the supervisor then stops that worker)."""

    def __init__(self, message: str, elapsed_s: float) -> None:
        super().__init__(message)
        self.elapsed_s = elapsed_s


class CandidateProtocolError(CandidateProcessDied):
    """The candidate process sent something that is not a valid reply."""


class CandidateRequestRefused(CandidateError):
    """The candidate process refused a request (e.g. a result too large to send)."""


class StaleReference(CandidateError):
    """A proxy whose object lived in a candidate process that has since been replaced."""


class CannotTransfer(TypeError):
    """A local value that cannot be passed to candidate code."""


class CandidateStopIteration(RuntimeError):
    """Candidate code raised StopIteration outside of ``next()`` (it must not end a
    loop of the test's own)."""


class CandidateInterrupt(Exception):
    """Candidate code raised KeyboardInterrupt or GeneratorExit (they must not
    interrupt the test run)."""


class Refused(Exception):
    """A request of the candidate side that the reverse channel does not allow.

    ``what`` names the attempt (it becomes the ``grader_tamper`` property);
    ``kind`` is the exception the candidate's code sees.
    """

    def __init__(self, what: str, kind: type[Exception] = PermissionError) -> None:
        super().__init__(what)
        self.what = what
        self.kind = kind

    def for_candidate(self) -> Exception:
        return self.kind(
            f"grader: {self.what}. A test-side object passed to the candidate's code can "
            "only be called, iterated, indexed, compared, hashed, printed, used with "
            "'with', asked len()/bool()/'in', and have its public attributes read; this "
            "attempt fails the test"
        )


# What candidate exceptions become on the test side: never an interrupt of the run.
SUBSTITUTES: dict[type[BaseException], type[BaseException]] = {
    KeyboardInterrupt: CandidateInterrupt,
    GeneratorExit: CandidateInterrupt,
}
