"""Worker configuration from the environment (docs/architecture.md §3, §4, §7)."""

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEBHOOK_PATH = "/webhooks/bria"


class PollPolicy(BaseModel):
    """How often to ask about one long operation: grows from ``first_delay`` to ``cap``.

    The n-th poll (from 0) is due ``min(cap, first_delay * growth**n)`` seconds after the
    previous one, scaled by a random factor in ``[1 - jitter, 1]``; past ``deadline`` seconds
    from the start the operation is given up as failed.
    """

    first_delay: float = Field(gt=0)
    growth: float = Field(default=1.5, ge=1.0)
    cap: float = Field(gt=0)
    jitter: float = Field(default=0.2, ge=0.0, lt=1.0)
    deadline: float = Field(gt=0)

    def delay(self, polls_done: int, random_fraction: float) -> float:
        """Seconds until the next poll, given how many were made and a number in [0, 1)."""
        base = min(self.cap, self.first_delay * self.growth ** min(polls_done, 64))
        return base * (1.0 - self.jitter * random_fraction)


def _default_poll_policies() -> dict[str, PollPolicy]:
    return {
        "training": PollPolicy(first_delay=30.0, growth=1.5, cap=180.0, deadline=8 * 3600.0),
        "training_stop": PollPolicy(first_delay=2.0, growth=1.5, cap=30.0, deadline=3600.0),
        "captions": PollPolicy(first_delay=2.0, growth=1.5, cap=30.0, deadline=3600.0),
        "generation": PollPolicy(first_delay=1.0, growth=1.3, cap=10.0, deadline=900.0),
    }


class WorkerSettings(BaseSettings):
    """How one worker process runs: concurrency, retries, polling, shutdown, HTTP port."""

    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore")

    http_port: int = Field(default=8000, ge=0, le=65535, validation_alias="HTTP_PORT")
    http_host: str = "0.0.0.0"
    concurrency: int = Field(
        default=64,
        ge=1,
        description="jobs running their API calls at once per process; as many again may be"
        " writing their outcome to Kafka",
    )
    finished_retention_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="how long a finished job is remembered: a request redelivered or"
        " republished within it re-emits the job's events instead of running again",
    )
    commit_batch_size: int = Field(default=100, ge=1)
    commit_interval_seconds: float = Field(default=1.0, gt=0)
    graceful_timeout: float = Field(
        default=30.0,
        ge=0,
        description="how long jobs in flight may take to finish when the worker stops, or"
        " when a rebalance takes their partitions away; should cover the API timeout",
    )
    retry_delays: list[float] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0],
        description="delay before each pass through the .retry topic; past the last, .dlq",
    )
    poll_policies: dict[str, PollPolicy] = Field(default_factory=_default_poll_policies)
    max_concurrent_polls: int = Field(default=16, ge=1)
    client_id: str = "bria-fleet"
    webhook_public_url: str | None = Field(
        default=None,
        description="the address at which the API reaches this worker's HTTP port; when set,"
        " asynchronous requests ask for webhooks and the worker serves " + WEBHOOK_PATH,
    )

    @property
    def webhook_url(self) -> str | None:
        """Where the API should deliver webhooks, or ``None`` when they are off."""
        if not self.webhook_public_url:
            return None
        return self.webhook_public_url.rstrip("/") + WEBHOOK_PATH

    @field_validator("poll_policies", mode="after")
    @classmethod
    def _keep_defaults(cls, policies: dict[str, PollPolicy]) -> dict[str, PollPolicy]:
        return {**_default_poll_policies(), **policies}

    def poll_policy(self, kind: str) -> PollPolicy:
        """The poll policy of ``kind``; generation's when the kind has none of its own."""
        return self.poll_policies.get(kind) or self.poll_policies["generation"]
