"""Worker configuration from the environment (docs/architecture.md §3, §4, §7)."""

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEBHOOK_PATH = "/webhooks/bria"

DUE_MARGIN_SECONDS = 60.0
"""Slack on a retry's due time for clocks that differ between replicas."""

CALLS_PER_JOB_CEILING = 30
"""How many API calls (each within its timeout and retry budget) the longest job is allowed
for when deriving how long a partition may go without progress."""


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

    def polls_within(self, elapsed: float) -> int:
        """About how many polls the policy makes in its first ``elapsed`` seconds (mean jitter).

        A watch record keeps its poll count only as of its last state change, so a new owner
        estimates from the operation's age how far along the schedule it is.
        """
        polls, spent = 0, 0.0
        while True:
            step = self.delay(polls, 0.5)
            if spent + step > elapsed:
                return polls
            if step >= self.delay(64, 0.5):  # at the cap: every further step is the same
                return polls + int((elapsed - spent) // step)
            spent += step
            polls += 1


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
    retry_after_cap_seconds: float = Field(
        default=600.0,
        ge=0,
        description="the longest an API's Retry-After may hold a job back through .retry",
    )
    max_request_bytes: int = Field(
        default=512 * 1024,
        ge=1024,
        description="a request (value, key and headers) or its JSON echo in events larger than"
        " this is dead-lettered unread (request_too_large)",
    )
    max_record_bytes: int = Field(
        default=1024 * 1024,
        ge=64 * 1024,
        description="the largest record the worker writes (Kafka's default message.max.bytes);"
        " larger dead-letter copies are truncated, larger outcomes summarised",
    )
    stuck_after_seconds: float | None = Field(
        default=None,
        gt=0,
        description="/healthz fails when a partition's oldest delivery has been in flight this"
        " long; unset: derived from the retry policy and the API timeouts",
    )
    poll_policies: dict[str, PollPolicy] = Field(default_factory=_default_poll_policies)
    max_concurrent_polls: int = Field(
        default=64,
        ge=1,
        description="status requests in flight at once per process: a process polls at most"
        " this / (status request time) a second (10,000 generations watched need ~300/s)",
    )
    client_id: str = "bria-fleet"
    webhook_public_url: str | None = Field(
        default=None,
        description="the address at which the API reaches this worker's HTTP port; when set,"
        " asynchronous requests ask for webhooks and the worker serves " + WEBHOOK_PATH,
    )

    @property
    def longest_retry_wait(self) -> float:
        """The longest a pass through ``.retry`` may wait: its delay or a capped Retry-After."""
        return max([*self.retry_delays, self.retry_after_cap_seconds])

    @property
    def due_horizon_seconds(self) -> float:
        """How far ahead a retry's due time may lie; one further ahead was not written by the
        fleet (it is dead-lettered as ``invalid_headers``)."""
        return self.longest_retry_wait + DUE_MARGIN_SECONDS

    def stuck_after(self, api_timeout_seconds: float, api_retry_budget_seconds: float) -> float:
        """Seconds a partition may make no progress before the worker is unhealthy.

        ``stuck_after_seconds`` if set; else the longest due wait plus
        ``CALLS_PER_JOB_CEILING`` API calls, each its timeout and retry budget long.
        """
        if self.stuck_after_seconds is not None:
            return self.stuck_after_seconds
        per_call = api_timeout_seconds + api_retry_budget_seconds
        return self.due_horizon_seconds + CALLS_PER_JOB_CEILING * per_call

    @property
    def webhook_url(self) -> str | None:
        """Where the API should deliver webhooks, or ``None`` when they are off."""
        if not self.webhook_public_url:
            return None
        return self.webhook_public_url.rstrip("/") + WEBHOOK_PATH

    @model_validator(mode="after")
    def _requests_fit_in_records(self) -> "WorkerSettings":
        # A request's retry copy must fit in a record whole (only dead letters are cut).
        if self.max_request_bytes > self.max_record_bytes // 2:
            raise ValueError(
                "WORKER_MAX_REQUEST_BYTES must be at most half of WORKER_MAX_RECORD_BYTES,"
                " so that a request's retry copy and its events fit in a record"
            )
        return self

    @field_validator("poll_policies", mode="after")
    @classmethod
    def _keep_defaults(cls, policies: dict[str, PollPolicy]) -> dict[str, PollPolicy]:
        return {**_default_poll_policies(), **policies}

    def poll_policy(self, kind: str) -> PollPolicy:
        """The poll policy of ``kind``; generation's when the kind has none of its own."""
        return self.poll_policies.get(kind) or self.poll_policies["generation"]
