"""Hostile records for the request and retry topics, each with the outcome it must have.

Every case is one Kafka record (value, key, headers, topic) built for a domain and a run, and
names what must become of it: a dead letter with the ``bria_error_code`` it names (and, when
``failed_event`` is set, a ``<domain>.failed`` event with that code), or a job that ends in
exactly one terminal event of type ``<domain>.<terminal>``. ``make_corpus`` builds them all;
``tests/hostile/test_hostile_corpus.py`` publishes them to a real broker interleaved with
valid jobs.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bria_fleet_contracts import Domain

Headers = list[tuple[str, bytes | None]]
ValidRequest = Callable[[str], dict[str, Any]]
TopicKind = Literal["requests", "retry"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One hostile record and what must become of it."""

    name: str
    value: bytes | None
    dead_letter: str | None
    """The expected ``bria_error_code`` of its dead letter; ``None``: it is a job."""
    job_id: str | None = None
    """The usable job id it carries (events are expected for it), if any."""
    failed_event: bool = False
    """A ``<domain>.failed`` event with the dead letter's code is expected for ``job_id``."""
    terminal: str = "completed"
    """For a job: the terminal event type's suffix."""
    key: bytes | None = None
    headers: Headers = field(default_factory=list)
    topic: TopicKind = "requests"
    compressed: bool = False
    """Sent gzip-compressed (so a value far over the broker's limit gets through)."""
    copy_cut: bool = False
    """Its dead-letter copy is too large for Kafka and must be cut to fit."""

    def expectation(self) -> str:
        """The outcome, for the report table."""
        if self.dead_letter is None:
            return f"job -> {self.terminal}"
        event = "failed event" if self.failed_event else "no event"
        return f"DLQ {self.dead_letter}, {event}"


def _json(value: Any, *, ascii_only: bool = True) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode()


def _due(seconds: float) -> bytes:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().encode()


def make_corpus(domain: Domain, valid: ValidRequest, job_id: Callable[[str], str]) -> list[Case]:
    """Every hostile case for ``domain``; ``valid(job_id)`` is a valid request of it and
    ``job_id(name)`` a job id unique to the run."""
    other_op = "text_to_image" if domain != "generation" else "ingest_images"

    def job(name: str, *, ascii_only: bool = True, **changes: Any) -> tuple[str, bytes]:
        jid = job_id(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40])
        return jid, _json({**valid(jid), **changes}, ascii_only=ascii_only)

    def refused_job(name: str, code: str, *, ascii_only: bool = True, **changes: Any) -> Case:
        """A record carrying a usable job id that must be dead-lettered with a failed event."""
        jid, value = job(name, ascii_only=ascii_only, **changes)
        return Case(name, value, code, jid, failed_event=True, key=jid.encode())

    def fine_job(name: str, **extra: Any) -> Case:
        """A valid job, however odd its record: it must complete."""
        fields = {k: extra.pop(k) for k in ("prompt", "metadata") if k in extra}
        jid, value = job(name, **fields)
        jid = extra.pop("job", jid)
        value = extra.pop("value", value)
        return Case(name, value, None, jid, key=extra.pop("key", jid.encode()), **extra)

    def with_headers(name: str, code: str, headers: Headers, topic: TopicKind) -> Case:
        jid, value = job(name)
        return Case(name, value, code, jid, True, key=jid.encode(), headers=headers, topic=topic)

    def big(size: int) -> dict[str, Any]:
        """A field of ``size`` characters: the prompt, or metadata where there is none."""
        if domain == "generation":
            return {"prompt": "p" * size}
        return {"metadata": {"pad": "p" * size}}

    newline_id = "evil\nFORGED-LOG-LINE level=ERROR"
    long_job_id = job_id("long-then")
    long_job_id += "x" * (505 - len(long_job_id))
    nested_with_id = (
        b'{"job_id": "'
        + job_id("deep").encode()
        + b'", "op": "x", "then": '
        + b"[" * 10_000
        + b"]" * 10_000
        + b"}"
    )
    _, bomb_value = job("bomb")
    cases = [
        # The value itself.
        Case("null value (tombstone)", None, "invalid_request", key=b"tombstone"),
        Case("empty value", b"", "invalid_request"),
        Case("whitespace value", b"  \n\t ", "invalid_request"),
        Case("not JSON", b"{this is not json", "invalid_request"),
        Case("invalid UTF-8 value", b'\xff\xfe{"job_id": "x"}', "invalid_request"),
        Case("UTF-8 byte order mark", b"\xef\xbb\xbf" + job("bom")[1], "invalid_request"),
        Case("JSON null", b"null", "invalid_request"),
        Case("JSON array", b"[1, 2, 3]", "invalid_request"),
        Case("JSON string", b'"hello"', "invalid_request"),
        Case("nested 10,000 deep", b"[" * 10_000 + b"]" * 10_000, "invalid_request"),
        Case("nested 10,000 deep inside a job", nested_with_id, "invalid_request"),
        Case(
            "NaN in a number field",
            _with_raw_field(job("nan")[1], "seed", b"NaN"),
            "invalid_request",
        ),
        Case(
            "integer of 100,000 digits",
            _with_raw_field(job("bigint")[1], "seed", b"7" * 100_000),
            "invalid_request",
        ),
        # The job id.
        Case(
            "missing job_id",
            _json({k: v for k, v in valid("x").items() if k != "job_id"}),
            "invalid_request",
        ),
        Case("job_id a number", _json({**valid("x"), "job_id": 12345}), "invalid_request"),
        Case("job_id empty", _json({**valid("x"), "job_id": ""}), "invalid_request"),
        Case(
            "job_id of 10,000 characters",
            _json({**valid("x"), "job_id": "j" * 10_000}),
            "invalid_request",
        ),
        Case(
            "job_id with a newline (log forging)",
            _json({**valid("x"), "job_id": newline_id}),
            "invalid_request",
        ),
        Case(
            "job_id with an ANSI escape",
            _json({**valid("x"), "job_id": "a\x1b[31mred"}),
            "invalid_request",
        ),
        Case(
            "job_id with a lone surrogate",
            _json(valid("x")).replace(b'"job_id": "x"', b'"job_id": "bad\\ud800id"'),
            "invalid_request",
        ),
        Case(
            "job_id too long for its follow-up ids",
            _json(
                {
                    **valid(long_job_id),
                    "then": [{"step": "next-step", "domain": domain, "request": {"op": "nope"}}],
                }
            ),
            "invalid_request",
            long_job_id,
            failed_event=True,
        ),
        # Wrong shapes with a usable job id: a failed event says why.
        refused_job("unknown op", "invalid_request", op="paint_a_picture"),
        refused_job("op of another domain", "invalid_request", op=other_op),
        refused_job("op of 100,000 characters", "invalid_request", op="o" * 100_000),
        refused_job("wrong types", "invalid_request", metadata=["not", "a", "map"], then="x"),
        refused_job("unknown field", "invalid_request", evil_field={"a": 1}),
        Case("array of 50,000 items", job("huge-array", then=[{}] * 50_000)[1], "invalid_request"),
        refused_job("then with 3,000 follow-ups", "invalid_request", then=[{}] * 3_000),
        refused_job("metadata value not a string", "invalid_request", metadata={"a": {"b": 1}}),
        # Sizes.
        Case(
            "non-JSON value just under 1 MiB",
            b"x" * (MIB - 2048),
            "request_too_large",
            copy_cut=True,
        ),
        Case(
            "valid job with a 1 MiB prompt (metadata for ingest)",
            job("mib", **big(MIB - 8192))[1],
            "request_too_large",
        ),
        fine_job("valid job with a 400 KB prompt (metadata for ingest)", **big(400_000)),
        refused_job(
            "echo over the limit (non-ASCII, 3x when escaped)",
            "request_too_large",
            ascii_only=False,
            metadata={"pad": "\u00e9" * 200_000},
        ),
        Case(
            "4 MiB value compressed (bomb-like)",
            _padded(bomb_value, 4 * MIB),
            "request_too_large",
            compressed=True,
            copy_cut=True,
        ),
        Case(
            "600 KB header on a valid job",
            job("bighdr")[1],
            "request_too_large",
            headers=[("x-padding", b"h" * 600_000)],
        ),
        # Headers and keys on valid jobs: they still run.
        fine_job("non-UTF-8 header byte", headers=[("x-trace", b"\xff\xfe\xfd")]),
        fine_job("null header value", headers=[("x-empty", None)]),
        fine_job(
            "odd header names",
            headers=[
                ("", b"empty name"),
                ("with\nnewline", b"v"),
                ("\u00fc\u00f1\u00ee", b"v"),
                ("n" * 300, b"v"),
                ("x-dup", b"1"),
                ("x-dup", b"2"),
            ],
        ),
        fine_job("5,000 small headers", headers=[(f"h{i}", b"v") for i in range(5000)]),
        fine_job("invalid UTF-8 key", key=b"\xff\xfe\xfd"),
        fine_job("100 KB key", key=b"k" * 100_000),
        fine_job("null key", key=None),
        fine_job(
            "follow-up nested 60 deep (within the limit)",
            value=_json(
                {
                    **valid(job_id("nested-60")),
                    "then": [
                        {
                            "step": "deep",
                            "domain": "ingest",
                            "request": {"op": "complete_dataset", "x": _nested(55)},
                        }
                    ],
                }
            ),
            job=job_id("nested-60"),
        ),
        _duplicate_keys(
            refused_job("duplicate JSON keys (last op wins)", "invalid_request", op="nope")
        ),
        # Fleet headers that the fleet cannot have written.
        with_headers(
            "bria_attempt not a number", "invalid_headers", [("bria_attempt", b"abc")], "requests"
        ),
        with_headers(
            "bria_attempt negative", "invalid_headers", [("bria_attempt", b"-1")], "retry"
        ),
        with_headers(
            "bria_attempt of 20 digits", "invalid_headers", [("bria_attempt", b"9" * 20)], "retry"
        ),
        with_headers(
            "bria_due_at garbage", "invalid_headers", [("bria_due_at", b"tomorrow-ish")], "retry"
        ),
        with_headers(
            "bria_due_at without timezone",
            "invalid_headers",
            [("bria_due_at", b"2026-01-01T00:00:00")],
            "retry",
        ),
        with_headers(
            "bria_due_at in the year 9999",
            "invalid_headers",
            [("bria_due_at", b"9999-12-31T23:59:59+00:00")],
            "retry",
        ),
        with_headers(
            "bria_due_at not UTF-8", "invalid_headers", [("bria_due_at", b"\xff\xfe2026")], "retry"
        ),
        with_headers(
            "bria_due_at in the year 9999 on requests",
            "invalid_headers",
            [("bria_due_at", b"9999-12-31T23:59:59+00:00")],
            "requests",
        ),
        # Retry-topic records that are fine.
        fine_job(
            "retry due now",
            topic="retry",
            headers=[("bria_attempt", b"1"), ("bria_due_at", _due(0.5))],
        ),
        fine_job(
            "retry due in the past",
            topic="retry",
            headers=[("bria_attempt", b"2"), ("bria_due_at", b"2020-01-01T00:00:00+00:00")],
        ),
        Case("retry: not JSON", b"\x00\x01garbage", "invalid_request", topic="retry"),
        Case(
            "retry: null value",
            None,
            "invalid_request",
            key=b"tombstone",
            topic="retry",
            headers=[("bria_attempt", b"1")],
        ),
        # Text that must not reach a log line raw.
        fine_job(
            "metadata with newlines and escapes",
            value=_json(
                {**valid(job_id("forge")), "metadata": {"a\nFORGED-LOG-LINE": "b\r\n\x1b[2Jc"}}
            ),
            job=job_id("forge"),
        ),
    ]
    return cases


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def _with_raw_field(value: bytes, name: str, raw: bytes) -> bytes:
    return value[:-1] + b', "' + name.encode() + b'": ' + raw + b"}"


def _padded(value: bytes, size: int) -> bytes:
    """A valid JSON object padded with trailing whitespace to ``size`` bytes."""
    return value + b" " * max(size - len(value), 0)


def _duplicate_keys(case: Case) -> Case:
    assert case.value is not None
    value = case.value.replace(b'"op": "nope"', b'"op": "text_to_image", "op": "nope"')
    return Case(case.name, value, case.dead_letter, case.job_id, case.failed_event, key=case.key)
