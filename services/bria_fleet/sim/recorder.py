"""The log of API calls the simulator answered, for tests to inspect."""

from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from bria_fleet.sim.clock import iso

SELECTED_FIELDS = frozenset(
    {
        "name",
        "project_name",
        "project_id",
        "dataset_id",
        "image_id",
        "model_id",
        "tailored_model_id",
        "image_name",
        "image_url",
        "status",
        "caption",
        "caption_prefix",
        "regenerate_caption",
        "training_version",
        "prompt",
        "num_results",
        "sync",
        "seed",
        "idempotency_key",
    }
)


@dataclass
class Call:
    """One answered call."""

    seq: int
    at: float
    method: str
    route: str | None
    path: str
    status: int
    duration_ms: float
    fields: dict[str, Any] = field(default_factory=dict)
    fault: str | None = None

    def view(self) -> dict[str, Any]:
        """The call as JSON."""
        data = asdict(self)
        data["time"] = iso(self.at)
        return data


class Recorder:
    """The most recent calls, oldest first."""

    def __init__(self, limit: int) -> None:
        self._calls: deque[Call] = deque(maxlen=limit)
        self._seq = 0

    def record(self, call: Call) -> None:
        """Append ``call`` (its ``seq`` is assigned here)."""
        self._seq += 1
        call.seq = self._seq
        self._calls.append(call)

    def calls(
        self, since: int = 0, route: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Calls after sequence number ``since``, optionally of one route template or method."""
        return [
            call.view()
            for call in self._calls
            if call.seq > since
            and (route is None or call.route == route)
            and (method is None or call.method == method.upper())
        ]

    def clear(self) -> None:
        """Forget every call."""
        self._calls.clear()
