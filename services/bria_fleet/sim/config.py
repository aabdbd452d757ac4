"""How a simulator starts: timing, limits and faults, all validated by pydantic."""

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def default_token() -> str:
    """The token the simulator accepts when none is given: ``BRIA_API_TOKEN`` or ``sim-token``."""
    return os.environ.get("BRIA_API_TOKEN") or "sim-token"


class LatencyFault(BaseModel):
    """A delay added to every API call whose path matches ``pattern``: fixed plus random."""

    model_config = ConfigDict(extra="forbid")

    fixed_seconds: float = Field(default=0.0, ge=0)
    jitter_seconds: float = Field(
        default=0.0, ge=0, description="scale of the random part (uniform width, normal sigma, ...)"
    )
    distribution: Literal["uniform", "normal", "exponential"] = "uniform"
    pattern: str = Field(default="*", description="fnmatch pattern on the request path")


class ErrorFault(BaseModel):
    """Answer a share of the matching calls with an error status (5xx by default)."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(default="*", description="fnmatch pattern on the request path")
    methods: list[str] = Field(default_factory=list, description="empty: every method")
    rate: float = Field(ge=0, le=1)
    status: int = Field(default=500, ge=400, le=599)
    after_effect: bool = Field(
        default=False,
        description="run the call first, then answer the error (the effect happens anyway)",
    )
    hang_seconds: float = Field(
        default=0.0,
        ge=0,
        description=(
            "wait this long before answering the error: longer than the client's timeout, "
            "it is a read timeout (with after_effect: the effect happened, the answer was lost)"
        ),
    )


class RateLimitFault(BaseModel):
    """Bursts of 429: after ``allowed`` matching calls, the next ``burst`` calls answer 429."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = "*"
    allowed: int = Field(ge=0)
    burst: int = Field(ge=1)
    retry_after_seconds: int = Field(default=1, ge=0)


class WebhookFault(BaseModel):
    """What goes wrong with webhook deliveries (each delivery is retried until accepted)."""

    model_config = ConfigDict(extra="forbid")

    drop_rate: float = Field(default=0.0, ge=0, le=1, description="never delivered at all")
    duplicate_rate: float = Field(default=0.0, ge=0, le=1, description="delivered twice")
    delay_seconds: float = Field(default=0.0, ge=0, description="sent this late")
    delay_jitter_seconds: float = Field(default=0.0, ge=0, description="plus up to this")
    bad_signature_rate: float = Field(
        default=0.0, ge=0, le=1, description="signed with the wrong key (an impostor)"
    )


class FaultConfig(BaseModel):
    """Every injected fault. Time windows start when the configuration is applied."""

    model_config = ConfigDict(extra="forbid")

    seed: int | None = Field(default=None, description="reseeds the fault randomness when set")
    latency: LatencyFault = Field(default_factory=LatencyFault)
    errors: list[ErrorFault] = Field(default_factory=list)
    rate_limits: list[RateLimitFault] = Field(default_factory=list)
    throttle_seconds: float = Field(default=0.0, ge=0, description="every call answers 429")
    outage_seconds: float = Field(default=0.0, ge=0, description="every call answers 503")
    outage_status: int = Field(default=503, ge=500, le=599)
    training_failure_rate: float = Field(default=0.0, ge=0, le=1)
    generation_failure_rate: float = Field(default=0.0, ge=0, le=1)
    webhooks: WebhookFault = Field(default_factory=WebhookFault)


class TimingConfig(BaseModel):
    """How long the simulated asynchronous work takes (changeable at run time)."""

    model_config = ConfigDict(extra="forbid")

    training_seconds: float = Field(default=30.0, ge=0)
    stopping_seconds: float = Field(default=1.0, ge=0)
    caption_seconds: float = Field(default=1.0, ge=0, description="regenerate-all captions")
    generation_seconds: float = Field(default=1.0, ge=0, description="asynchronous generation")
    generation_jitter_seconds: float = Field(
        default=0.0, ge=0, description="plus a uniform random part up to this (v2 jobs)"
    )


class SimConfig(BaseModel):
    """Everything a simulator needs to start."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    token: str = Field(default_factory=default_token, min_length=1)
    empty: bool = Field(default=False, description="start without the seeded objects")
    seed: int | None = Field(default=None, description="seed of every random choice")
    public_base_url: str | None = Field(
        default=None, description="host root used in returned URLs; default: the request's host"
    )
    timing: TimingConfig = Field(default_factory=TimingConfig)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    max_dataset_images: int = Field(default=200, ge=1)
    max_bulk_images: int = Field(default=5000, ge=1)
    min_image_side: int = Field(
        default=256, ge=0, description="uploads with a smaller side answer 412; 0 disables"
    )
    call_log_limit: int = Field(default=10_000, ge=1)
