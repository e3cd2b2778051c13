"""Challenge health: are a challenge's tests strong, stable and fair?

``check(challenge, runner)`` runs four checks, each graded through the same sandbox
as a candidate's submission (``grader.engine.grade``), several at a time:

- mutation: mutants of the reference (``grader.mutation``) the tests fail to kill;
- flakiness: the reference run several times, tests whose outcome changes;
- time margins: the slowest test against its limit, the run against the wall limit;
- known-bad: submissions under ``bad/<name>/`` each score at most their
  ``expect.toml``'s ``max_correctness``.

``grader validate --strict`` prints the result (``grader.health.render``).
"""

from __future__ import annotations

from grader.health.checks import Context, check
from grader.health.model import ChallengeHealth, HealthChecks, ValidationReport

__all__ = ["ChallengeHealth", "Context", "HealthChecks", "ValidationReport", "check"]
