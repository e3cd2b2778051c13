"""The health report: one verdict per check, rendered as text, Markdown or JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader import __version__

HEALTH_SCHEMA_VERSION = 1

Verdict = Literal["pass", "warn", "fail", "skipped"]
MutantStatus = Literal["killed", "timeout", "survived", "accepted", "invalid"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def worst(verdicts: list[Verdict]) -> Verdict:
    """The overall verdict: fail over warn over pass (skipped checks count as pass)."""
    for v in ("fail", "warn"):
        if v in verdicts:
            return v
    return "pass"


class MutantResult(_Model):
    """One mutant of the reference and what the tests made of it."""

    id: str
    file: str
    line: int
    operator: str
    description: str
    status: MutantStatus
    # The first test that failed against the mutant (killed), for authors.
    killed_by: str | None = None
    # Why an accepted survivor is accepted (from challenge.toml).
    reason: str | None = None
    # Survivors (accepted or not) and mutants whose live run differed from the record.
    diff: str | None = None
    # Graded in this run (rather than read from a record).
    live: bool = True


class MutationCheck(_Model):
    """Mutants of the reference solution that the tests do (not) fail."""

    verdict: Verdict
    message: str
    score: float | None = None
    min_score: float
    total: int = 0
    killed: int = 0
    timeout: int = 0
    survived: int = 0
    accepted: int = 0
    invalid: int = 0
    # Per class of mutation: how many were made and how many the tests killed.
    by_operator: dict[str, dict[str, int]] = Field(default_factory=dict)
    # Where the results come from: graded now, the committed record, the local cache.
    source: Literal["computed", "record", "cache", "none"] = "computed"
    record: str | None = None
    # With a record: mutants graded again now (every survivor and a sample of the
    # killed), and the ids whose live result differed (the live result counts).
    rechecked: int = 0
    differs: list[str] = Field(default_factory=list)
    # Accepted ids in challenge.toml that match no surviving mutant any more.
    stale_accepted: list[str] = Field(default_factory=list)
    # The per-test and wall limits mutants ran under (tightened from the reference's times).
    test_seconds: float = 0.0
    wall_seconds: float = 0.0
    jobs: int = 1
    # Seconds this run spent; seconds the results took to compute (from the record).
    duration_s: float = 0.0
    computed_s: float = 0.0
    mutants: list[MutantResult] = Field(default_factory=list)


class FlakyTest(_Model):
    id: str
    outcomes: list[str]


class FlakinessCheck(_Model):
    """The reference run several times: tests whose outcome changes between runs."""

    verdict: Verdict
    message: str
    runs: int
    flaky: list[FlakyTest] = Field(default_factory=list)


class Margin(_Model):
    what: str
    seconds: float
    limit: float
    margin: float | None


class TimeMarginCheck(_Model):
    """The slowest test against the per-test limit, the whole run against the wall limit."""

    verdict: Verdict
    message: str
    min_margin: float
    slowest_test: str | None = None
    test: Margin | None = None
    run: Margin | None = None


class KnownBad(_Model):
    name: str
    description: str = ""
    correctness: float
    max_correctness: float
    verdict: Verdict


class KnownBadCheck(_Model):
    """Known-bad submissions (``bad/<name>/``) each score at most their ``max_correctness``."""

    verdict: Verdict
    message: str
    min_count: int
    submissions: list[KnownBad] = Field(default_factory=list)


class HealthChecks(_Model):
    mutation: MutationCheck
    flakiness: FlakinessCheck
    time_margins: TimeMarginCheck
    known_bad: KnownBadCheck

    def verdicts(self) -> dict[str, Verdict]:
        return {
            "mutation": self.mutation.verdict,
            "flakiness": self.flakiness.verdict,
            "time margins": self.time_margins.verdict,
            "known-bad": self.known_bad.verdict,
        }


class ChallengeHealth(_Model):
    """``grader validate`` of one challenge; ``checks`` only with ``--strict``."""

    slug: str
    version: int
    language: str
    verdict: Verdict
    problems: list[str] = Field(default_factory=list)
    summary: str = ""
    checks: HealthChecks | None = None
    duration_s: float = 0.0


class ValidationReport(_Model):
    """What ``grader validate --format json`` prints."""

    schema_version: int = HEALTH_SCHEMA_VERSION
    grader_version: str = __version__
    strict: bool = False
    challenges: list[ChallengeHealth] = Field(default_factory=list)
