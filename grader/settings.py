"""Settings, from the environment (prefix ``GRADER_``); built once, passed explicitly."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from grader.submission import UploadLimits


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "grader"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "grader"


class Settings(BaseSettings):
    """Every knob the engine, the CLI and the service read."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    challenges_dir: Path = Path("challenges")
    data_dir: Path = Field(default_factory=_default_data_dir)
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    runner: str = "docker"
    container_prefix: str = "grader"

    max_upload_bytes: int = 5 * 1024 * 1024
    max_unpacked_bytes: int = 20 * 1024 * 1024
    max_files: int = 500
    max_depth: int = 8

    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = ""
    log_level: str = "WARNING"
    log_json: bool = True
    task_max_attempts: int = 3
    # A queued submission nobody picked up in this time is sent again.
    stuck_after_seconds: int = 900
    # A running grading's worker touches its row this often; a row silent for
    # heartbeat_timeout_seconds (or stuck_after_seconds, if shorter) belongs to a dead
    # worker and is queued again. Workers announce themselves (for /healthz) as often.
    heartbeat_seconds: float = 5.0
    heartbeat_timeout_seconds: float = 30.0
    # A sandbox whose worker is dead is removed by the sweep once this old.
    orphan_grace_seconds: float = 60.0
    # The service (api/): sweep period, per-worker concurrency, webhooks, upload guard.
    sweep_interval_seconds: float = 15.0
    # Sandbox containers, networks and volumes (org.grader.job labels) older than this
    # are what a killed worker left behind: the sweep removes them. Longer than any run.
    sandbox_leftovers_after_seconds: int = 7200
    worker_concurrency: int = 1
    # Each worker keeps this many sandboxes pre-started per job shape (image, isolation,
    # limits) it graded recently (0: none, every run starts its own), each used once and
    # replaced after this many seconds unused.
    sandbox_pool_size: int = 1
    sandbox_pool_max_age_seconds: float = 300.0
    webhook_max_attempts: int = 5
    webhook_timeout_seconds: float = 10.0
    # Callback URLs may reach private / loopback addresses only when this is set (tests, LANs).
    webhook_allow_private: bool = False
    # Queued or running submissions one candidate token may have at once (0: no limit).
    max_pending_per_candidate: int = 5
    # Candidate tokens without an invitation may submit to any challenge (as before
    # invitations existed); set false to admit invited candidates only.
    open_candidate_tokens: bool = True
    # Browser sessions of /ui/ last this long.
    ui_session_hours: float = 8.0

    def dead_worker_after(self) -> float:
        """Seconds without a heartbeat after which a running grading's worker is dead."""
        return float(min(self.heartbeat_timeout_seconds, self.stuck_after_seconds))

    def heartbeat_every(self) -> float:
        return max(0.5, min(self.heartbeat_seconds, self.dead_worker_after() / 4))

    def upload_limits(self) -> UploadLimits:
        return UploadLimits(
            max_compressed_bytes=self.max_upload_bytes,
            max_unpacked_bytes=self.max_unpacked_bytes,
            max_files=self.max_files,
            max_depth=self.max_depth,
        )

    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'grader.db'}"
