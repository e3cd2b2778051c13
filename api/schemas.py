"""Request and response bodies of the HTTP API (they make the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field


def _no_nul(value: str) -> str:
    if "\0" in value:
        raise ValueError("contains a NUL character")
    return value


# A string a client sends: no database stores a NUL character, so none is accepted.
Text = Annotated[str, AfterValidator(_no_nul)]

Role = Literal["candidate", "reviewer", "admin"]
Status = Literal["queued", "running", "graded", "error"]


class ChallengeSummary(BaseModel):
    slug: str
    title: str
    version: int
    language: str = Field(description="the language (a service challenge: its first)")
    kind: Literal["tests", "service"] = "tests"
    languages: list[str] = Field(
        default_factory=list, description="every language a submission may be in"
    )


class ChallengeDetail(ChallengeSummary):
    """A challenge's statement and what a candidate needs to know to submit."""

    statement: str = Field(description="README.md of the challenge (Markdown)")
    entrypoint: str | None
    limits: dict[str, Any]
    feedback: dict[str, Any] = Field(description="what a candidate sees of their result")
    starter: dict[str, str] = Field(description="download links of the starter files")
    service: dict[str, Any] | None = Field(
        None,
        description="a service challenge: port, readiness, databases, and per language "
        "its start command, build step, environment and libraries",
    )


class ChallengeList(BaseModel):
    items: list[ChallengeSummary]


class LanguageList(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="each language as `grader languages --format json` shows it"
    )


class ChallengeRefOut(BaseModel):
    slug: str
    version: int


class ReviewInfo(BaseModel):
    """What reviewers (and admins) see on top of the candidate's view."""

    total: float | None
    scores: dict[str, float] | None
    error: dict[str, Any] | None
    attempts: int
    token_id: int
    token_name: str
    callback_url: str | None
    worker: str | None
    report: dict[str, str] = Field(description="links to the full report, per format")


class SubmissionOut(BaseModel):
    """A submission's state; ``feedback`` is what the challenge lets a candidate see."""

    id: str
    challenge: ChallengeRefOut
    status: Status
    stale: bool = Field(description="graded against an older version of the challenge")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    filename: str
    sha256: str
    size_bytes: int
    feedback: dict[str, Any] | None
    review: ReviewInfo | None = None


class RankedItem(BaseModel):
    rank: int | None = Field(description="1 for the best graded total; null when not graded")
    id: str
    token_id: int
    token_name: str
    status: Status
    total: float | None
    scores: dict[str, float] | None
    stale: bool
    challenge_version: int
    created_at: datetime
    finished_at: datetime | None


class RankedList(BaseModel):
    challenge: ChallengeRefOut
    count: int
    limit: int
    offset: int
    items: list[RankedItem]


class RegradeOut(BaseModel):
    queued: int
    skipped: int
    ids: list[str]


class TokenCreate(BaseModel):
    role: Role
    name: Text = Field("", max_length=200)


class TokenOut(BaseModel):
    id: int
    role: Role
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the bearer token; shown once, stored only as a hash")


class TokenList(BaseModel):
    items: list[TokenOut]


class CheckOut(BaseModel):
    ok: bool
    detail: str


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckOut]
    # Workers that announced themselves within their last three heartbeats (None: unknown).
    workers: int | None = None


class InvitationCreate(BaseModel):
    challenge: Text = Field(max_length=100)
    candidate_name: Text = Field(min_length=1, max_length=200)
    window_minutes: int | None = Field(
        None, ge=1, description="how long the candidate has, from the first starter download"
    )
    max_attempts: int | None = Field(None, ge=1, description="graded attempts allowed")


class InvitationOut(BaseModel):
    id: int
    challenge: str
    candidate_name: str
    token_id: int
    token_prefix: str
    window_minutes: int | None
    max_attempts: int | None
    created_at: datetime
    started_at: datetime | None
    revoked: bool


class InvitationCreated(InvitationOut):
    token: str = Field(description="the candidate's bearer token; shown once")
    link: str = Field(description="the candidate's page; the link carries the token")


class InvitationList(BaseModel):
    items: list[InvitationOut]


class SimilaritySpan(BaseModel):
    file: str
    start: int
    end: int


class SimilarityRegion(BaseModel):
    a: SimilaritySpan
    b: SimilaritySpan


class SimilarityPairOut(BaseModel):
    a: str
    b: str
    score: float = Field(ge=0, le=1)
    regions: list[SimilarityRegion]


class SimilarityOut(BaseModel):
    threshold: float
    pairs: list[SimilarityPairOut]
