"""Writes stay within Kafka's record size: copies cut to fit, refused writes not retried."""

import hashlib
from collections.abc import Mapping
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from bria_fleet.runtime.bounds import (
    TRUNCATED,
    VALUE_SHA256,
    UnwritableRecordError,
    decode_header,
    fit_copy,
    header_bytes,
    record_size,
)
from bria_fleet.runtime.journal import Journal
from bria_fleet.runtime.records import FinishedRecord, OperationRecord, OutboundMessage

LIMIT = 100_000


def test_a_copy_that_fits_is_unchanged() -> None:
    assert fit_copy(b"k", b"v" * 1000, {"a": "b"}, LIMIT) == (b"k", b"v" * 1000, {"a": "b"})


def test_a_large_value_is_cut_to_fit_and_says_so() -> None:
    value = b"x" * 300_000
    key, cut, headers = fit_copy(b"k", value, {"bria_error": "why"}, LIMIT)
    assert cut is not None
    assert record_size(key, cut, headers) <= LIMIT
    assert value.startswith(cut)
    assert "value cut from 300000" in headers[TRUNCATED]
    assert headers[VALUE_SHA256] == hashlib.sha256(value).hexdigest()
    assert headers["bria_error"] == "why"


def test_large_headers_and_keys_are_cut_and_many_headers_dropped() -> None:
    huge = {"x-pad": "h" * 200_000, "n" * 5000: "v", "bria_error": "why"}
    key, _, headers = fit_copy(b"k" * 50_000, b"v", huge, LIMIT)
    assert key is not None
    assert len(key) <= 1024
    assert len(headers["x-pad"]) <= 1024
    assert not any(len(name) > 1024 for name in headers)
    many = {f"h{i}": "v" * 100 for i in range(2000)} | {"bria_error": "why"}
    key, value, headers = fit_copy(b"k", b"v", many, LIMIT)
    assert record_size(key, value, headers) <= LIMIT
    assert headers["bria_error"] == "why"


def test_header_text_round_trips_bytes_that_are_not_utf8() -> None:
    raw = b"\xff\xfeok"
    assert header_bytes(decode_header(raw)) == raw
    assert decode_header(None) == ""
    assert header_bytes("lone \ud800 surrogate") == b"lone \\ud800 surrogate"


class _Outbox:
    """Fails each write with the next error given, then succeeds; records every call."""

    def __init__(self, *errors: Exception, refuse_larger_than: int | None = None) -> None:
        self.errors = list(errors)
        self.refuse_larger_than = refuse_larger_than
        self.calls: list[tuple[str, Any]] = []

    def _maybe_fail(self, size: int) -> None:
        if self.errors:
            raise self.errors.pop(0)
        if self.refuse_larger_than is not None and size > self.refuse_larger_than:
            raise MessageSizeTooLargeError(f"{size} bytes")

    async def forward(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Mapping[str, str]
    ) -> None:
        self.calls.append(("forward", (topic, key, value, dict(headers))))
        self._maybe_fail(len(value or b""))

    async def tombstone(self, topic: str, key: str) -> None:
        self.calls.append(("tombstone", key))
        self._maybe_fail(0)

    async def put(self, topic: str, record: OperationRecord) -> None:
        self.calls.append(("put", record))
        self._maybe_fail(len(record.model_dump_json()))

    async def publish(self, messages: list[OutboundMessage]) -> None:
        self.calls.append(("publish", messages))
        self._maybe_fail(max(len(str(m.value)) for m in messages))


def _journal(outbox: _Outbox, limit: int = LIMIT) -> Journal:
    return Journal("generation", cast(Any, outbox), limit)


async def test_a_write_kafka_refuses_as_too_large_is_not_retried() -> None:
    outbox = _Outbox(MessageSizeTooLargeError("too large"))
    with pytest.raises(UnwritableRecordError):
        await _journal(outbox).tombstone("k")
    assert len(outbox.calls) == 1


async def test_a_write_that_fails_for_a_passing_reason_is_retried() -> None:
    outbox = _Outbox(KafkaConnectionError("down"))
    await _journal(outbox).forward("bria.generation.requests.dlq", b"k", b"v", {})
    assert len(outbox.calls) == 2


async def test_a_dead_letter_copy_the_broker_refuses_goes_without_its_value() -> None:
    outbox = _Outbox(refuse_larger_than=1000)
    await _journal(outbox).forward("dlq", b"k", b"v" * 50_000, {"bria_error_code": "x"})
    _, (_, key, value, headers) = outbox.calls[-1]
    assert (key, value) == (b"k", None)
    assert "value dropped" in headers[TRUNCATED]
    assert headers["bria_error_code"] == "x"


def _event(size: int) -> OutboundMessage:
    return OutboundMessage(
        topic="bria.generation.events", key="j-1", value={"type": "x", "pad": "\u00e9" * size}
    )


async def test_an_outcome_too_large_for_kafka_becomes_a_short_failure_event() -> None:
    outbox = _Outbox()
    # Fits in the record as UTF-8, but is 3 times larger once published as ASCII JSON.
    await _journal(outbox).finish("j-1", [_event(40_000)])
    (_, record), (_, published) = outbox.calls
    assert isinstance(record, FinishedRecord)
    (event,) = published
    assert record.messages == published
    assert event.value["type"] == "generation.failed"
    assert event.value["error"]["code"] == "output_too_large"


async def test_an_outcome_the_broker_refuses_becomes_a_short_failure_event() -> None:
    outbox = _Outbox(refuse_larger_than=5_000)
    await _journal(outbox).finish("j-1", [_event(10_000)])
    (_, published) = outbox.calls[-1]
    assert published[0].value["error"]["code"] == "output_too_large"


async def test_an_outcome_that_fits_is_written_as_it_is() -> None:
    outbox = _Outbox()
    await _journal(outbox).finish("j-1", [_event(10)])
    assert outbox.calls[-1][1] == [_event(10)]
