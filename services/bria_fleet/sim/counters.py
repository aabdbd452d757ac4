"""Counts of effects that should happen once: the evidence tests use to find duplicates."""

from collections import Counter
from typing import Any


class EffectCounters:
    """Uploads per image name, training starts per model, creations per name, requests per key."""

    def __init__(self) -> None:
        self.image_uploads: Counter[tuple[int, str]] = Counter()
        self.training_starts: Counter[int] = Counter()
        self.created_names: Counter[tuple[str, str]] = Counter()
        self.idempotency_keys: Counter[tuple[str, str]] = Counter()
        self.generation_bodies: Counter[tuple[str, str]] = Counter()
        self.routes: Counter[str] = Counter()
        self.statuses: Counter[tuple[str, int]] = Counter()

    def view(self) -> dict[str, Any]:
        """Every counter as JSON, with the duplicates (counts above one) listed apart."""
        return {
            "routes": dict(sorted(self.routes.items())),
            "statuses": {
                f"{route} {status}": count
                for (route, status), count in sorted(self.statuses.items())
            },
            "image_uploads": [
                {"dataset_id": dataset_id, "image_name": name, "count": count}
                for (dataset_id, name), count in sorted(self.image_uploads.items())
            ],
            "training_starts": {str(model): count for model, count in self.training_starts.items()},
            "duplicates": {
                "image_uploads": [
                    {"dataset_id": dataset_id, "image_name": name, "count": count}
                    for (dataset_id, name), count in sorted(self.image_uploads.items())
                    if count > 1
                ],
                "training_starts": [
                    {"model_id": model, "count": count}
                    for model, count in sorted(self.training_starts.items())
                    if count > 1
                ],
                "created_names": [
                    {"kind": kind, "name": name, "count": count}
                    for (kind, name), count in sorted(self.created_names.items())
                    if count > 1
                ],
                "idempotency_keys": [
                    {"route": route, "key": key, "count": count}
                    for (route, key), count in sorted(self.idempotency_keys.items())
                    if count > 1
                ],
                "generation_requests": [
                    {"route": route, "body_sha256": digest, "count": count}
                    for (route, digest), count in sorted(self.generation_bodies.items())
                    if count > 1
                ],
            },
        }
