"""OpenTelemetry traces: one pipeline message is one trace (issue 11).

W3C trace context travels in the Kafka headers of every message a worker writes (events,
follow-up requests, retries, dead letters) and in the watch records of long operations;
spans cover handling a job, each Bria API call and each poll of a watched operation.

Configured only by the standard ``OTEL_*`` variables and off when none is set: then every
helper here is a no-op that touches no OpenTelemetry code. On when
``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_TRACES_EXPORTER`` (``otlp`` or ``console``) is set, unless ``OTEL_SDK_DISABLED=true``
or ``OTEL_TRACES_EXPORTER=none``. Spans are exported with OTLP over HTTP/protobuf;
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name the process as usual.
"""

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import context, propagate, trace

logger = logging.getLogger(__name__)

_tracer: trace.Tracer | None = None

_SWITCHES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
)


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` environment asks for traces."""
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "").lower() == "none":
        return False
    return any(environ.get(name) for name in _SWITCHES)


def configure(service_name: str) -> bool:
    """Install the SDK's tracer provider if the environment asks for traces; once per process.

    ``service_name`` is the default for ``OTEL_SERVICE_NAME``. Returns whether tracing is on.
    """
    global _tracer
    if _tracer is not None:
        return True
    if not wanted():
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    exporter: SpanExporter
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _tracer = trace.get_tracer("bria_fleet")
    logger.info("OpenTelemetry tracing on (service %s)", resource.attributes[SERVICE_NAME])
    return True


def shutdown() -> None:
    """Flush and stop the exporter (at process exit)."""
    provider = trace.get_tracer_provider()
    if _tracer is not None and hasattr(provider, "shutdown"):
        provider.shutdown()


def enabled() -> bool:
    """Whether spans are being recorded."""
    return _tracer is not None


def job_span(
    domain: str, topic: str, partition: int, offset: int, headers: Iterable[Any]
) -> AbstractContextManager[Any]:
    """Handling one consumed request, a child of the context in its Kafka ``headers``."""
    if _tracer is None:
        return _OFF
    return _job_span(domain, topic, partition, offset, headers)


@contextmanager
def _job_span(
    domain: str, topic: str, partition: int, offset: int, headers: Iterable[Any]
) -> Iterator[None]:
    assert _tracer is not None
    carrier = {
        name: bytes(value).decode(errors="replace") for name, value in headers if value is not None
    }
    parent = propagate.extract(carrier)
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
        "bria.domain": domain,
    }
    with _tracer.start_as_current_span(
        f"process {topic}", context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ):
        yield


def api_span(method: str, route: str) -> AbstractContextManager[Any]:
    """One Bria API call; the caller reports the status with ``span.set_attribute``."""
    if _tracer is None:
        return _OFF
    return _api_span(method, route)


@contextmanager
def _api_span(method: str, route: str) -> Iterator[Any]:
    assert _tracer is not None
    attributes = {"http.request.method": method, "http.route": route}
    with _tracer.start_as_current_span(
        f"{method} {route}", kind=trace.SpanKind.CLIENT, attributes=attributes
    ) as span:
        yield span


def poll_span(
    kind: str, target_id: str, job_id: str, carrier: Mapping[str, str]
) -> AbstractContextManager[Any]:
    """One poll of a watched operation, in the trace of the job that started the watch."""
    if _tracer is None:
        return _OFF
    return _poll_span(kind, target_id, job_id, carrier)


@contextmanager
def _poll_span(
    kind: str, target_id: str, job_id: str, carrier: Mapping[str, str]
) -> Iterator[None]:
    assert _tracer is not None
    attributes = {"bria.watch.kind": kind, "bria.watch.target_id": target_id, "bria.job_id": job_id}
    with _tracer.start_as_current_span(
        f"poll {kind}", context=propagate.extract(dict(carrier)), attributes=attributes
    ):
        yield


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers (empty when tracing is off)."""
    if _tracer is None:
        return {}
    headers: dict[str, str] = {}
    propagate.inject(headers, context=context.get_current())
    return headers


class _Off:
    """What every helper returns while tracing is off: enters to a span that records nothing."""

    def __enter__(self) -> "_Off":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        """Ignored."""


_OFF = _Off()
