"""Fault injection: latency, error rates, 429 bursts and outage windows, all seedable."""

import math
import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from bria_fleet.sim.clock import Clock
from bria_fleet.sim.config import ErrorFault, FaultConfig

RATE_LIMITED = (
    "Request limit exceeded. Your account has reached its maximum allowed requests. "
    "Please upgrade your plan or try again later."
)


@dataclass(frozen=True)
class FaultDecision:
    """An injected answer in place of (or after) the real one."""

    kind: str
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(0, math.ceil(seconds)))}


class FaultEngine:
    """Decides, call by call, which fault (if any) applies."""

    def __init__(self, clock: Clock, config: FaultConfig, default_seed: int | None) -> None:
        self.clock = clock
        self.default_seed = default_seed
        self.config = config
        self.rng = random.Random()
        self.throttle_until = 0.0
        self.outage_until = 0.0
        self._rate_counts: list[int] = []
        self.apply(config)

    def apply(self, config: FaultConfig) -> None:
        """Use ``config`` from now on; its time windows start now."""
        self.config = config
        seed = config.seed if config.seed is not None else self.default_seed
        self.rng = random.Random(seed)
        now = self.clock.now()
        self.throttle_until = now + config.throttle_seconds
        self.outage_until = now + config.outage_seconds
        self._rate_counts = [0] * len(config.rate_limits)

    def latency(self, path: str) -> float:
        """Seconds to wait before answering a call to ``path``."""
        spec = self.config.latency
        if not fnmatchcase(path, spec.pattern):
            return 0.0
        extra = 0.0
        if spec.jitter_seconds > 0:
            if spec.distribution == "uniform":
                extra = self.rng.uniform(0.0, spec.jitter_seconds)
            elif spec.distribution == "normal":
                extra = abs(self.rng.gauss(0.0, spec.jitter_seconds))
            else:
                extra = self.rng.expovariate(1.0 / spec.jitter_seconds)
        return spec.fixed_seconds + extra

    def _matches(self, rule: ErrorFault, method: str, path: str) -> bool:
        methods = {m.upper() for m in rule.methods}
        return fnmatchcase(path, rule.pattern) and (not methods or method.upper() in methods)

    def before(self, method: str, path: str) -> FaultDecision | None:
        """The fault that replaces the call entirely, if any (checked in a fixed order)."""
        now = self.clock.now()
        if now < self.outage_until:
            status = self.config.outage_status
            message = "Service temporarily unavailable"
            return FaultDecision("outage", status, message, _retry_after(self.outage_until - now))
        if now < self.throttle_until:
            headers = _retry_after(self.throttle_until - now)
            return FaultDecision("throttle", 429, RATE_LIMITED, headers)
        for index, limit in enumerate(self.config.rate_limits):
            if not fnmatchcase(path, limit.pattern):
                continue
            position = self._rate_counts[index] % (limit.allowed + limit.burst)
            self._rate_counts[index] += 1
            if position >= limit.allowed:
                headers = {"Retry-After": str(limit.retry_after_seconds)}
                return FaultDecision("rate_limit", 429, RATE_LIMITED, headers)
        return self._error(method, path, after_effect=False)

    def after(self, method: str, path: str) -> FaultDecision | None:
        """The error that replaces the answer of a call that already took effect, if any."""
        return self._error(method, path, after_effect=True)

    def _error(self, method: str, path: str, *, after_effect: bool) -> FaultDecision | None:
        for rule in self.config.errors:
            if rule.after_effect is not after_effect or not self._matches(rule, method, path):
                continue
            if self.rng.random() < rule.rate:
                return FaultDecision(
                    "error", rule.status, "Internal server error", delay_seconds=rule.hang_seconds
                )
        return None
