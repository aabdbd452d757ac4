"""What a worker writes stays within Kafka's record size limit (issue 14).

A write the broker refuses as too large fails the same way every time, so it is never
retried: a dead-letter copy is cut to fit (with headers saying what was cut), and a job's
outcome that would not fit is replaced by a short failure event (see ``runtime.journal``).
"""

import hashlib
from collections.abc import Mapping

from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from bria_fleet.errors import BriaFleetError

TRUNCATED = "bria_truncated"
"""On a dead-letter copy that was cut to fit: what was cut."""

VALUE_SHA256 = "bria_value_sha256"
"""On a dead-letter copy whose value was cut: the SHA-256 of the original value."""

HEADER_ROOM = 4096
"""Bytes kept free for the headers added after fitting (tracing) and the batch overhead."""

CUT_HEADER_CHARS = 1024
"""A header value (or key) longer than this is cut when a copy must shrink to fit."""

UNWRITABLE_ERRORS: tuple[type[KafkaError], ...] = (MessageSizeTooLargeError, RecordTooLargeError)
"""Kafka write errors that no retry can cure: the record itself is refused."""


class UnwritableRecordError(BriaFleetError):
    """Kafka refuses this record whatever the number of tries (it is too large)."""


def header_bytes(value: str) -> bytes:
    """A header value as bytes: UTF-8; bytes that arrived undecodable go back out unchanged
    (surrogate escapes), and any other lone surrogate is written escaped."""
    try:
        return value.encode()
    except UnicodeEncodeError:
        try:
            return value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace")


def decode_header(value: bytes | None) -> str:
    """A header value as text: UTF-8, with undecodable bytes kept as surrogate escapes (so a
    forwarded copy carries them unchanged); a null value is empty."""
    if value is None:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("utf-8", "surrogateescape")


def record_size(key: bytes | None, value: bytes | None, headers: Mapping[str, str]) -> int:
    """The size Kafka's producer gives this record (what ``max_request_size`` is compared to)."""
    encoded = [(name, header_bytes(text)) for name, text in headers.items()]
    size: int = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, encoded)
    return size


def fit_copy(
    key: bytes | None, value: bytes | None, headers: Mapping[str, str], limit: int
) -> tuple[bytes | None, bytes | None, dict[str, str]]:
    """A copy of a record that fits in ``limit`` bytes: unchanged when it does already.

    Otherwise long header values and the key are cut to ``CUT_HEADER_CHARS``, headers with
    names that long are dropped, and the value keeps as many leading bytes as fit; the
    ``bria_truncated`` header says what was cut and ``bria_value_sha256`` identifies the
    original value.
    """
    budget = limit - HEADER_ROOM
    if record_size(key, value, headers) <= budget:
        return key, value, dict(headers)
    cut: list[str] = []
    kept: dict[str, str] = {}
    for name, text in headers.items():
        if len(name) > CUT_HEADER_CHARS:
            cut.append(f"header dropped ({len(name)}-character name)")
        elif len(text) > CUT_HEADER_CHARS:
            kept[name] = text[:CUT_HEADER_CHARS]
            cut.append(f"header {name[:64]!r} cut from {len(text)} characters")
        else:
            kept[name] = text
    if key is not None and len(key) > CUT_HEADER_CHARS:
        cut.append(f"key cut from {len(key)} bytes")
        key = key[:CUT_HEADER_CHARS]
    if record_size(key, b"", kept) > budget // 2:
        ours = {name: text for name, text in kept.items() if name.startswith("bria_")}
        cut.append(f"{len(kept) - len(ours)} headers dropped")
        kept = ours
    if value is not None:
        kept[VALUE_SHA256] = hashlib.sha256(value).hexdigest()
    kept[TRUNCATED] = "; ".join(cut) or "value cut"
    room = budget - record_size(key, b"", kept) - 64
    if value is not None and len(value) > room:
        kept[TRUNCATED] = "; ".join([f"value cut from {len(value)} to {max(room, 0)} bytes", *cut])
        value = value[: max(room, 0)]
    return key, value, kept
