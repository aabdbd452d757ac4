"""CPU cost per job of the observability added by issue 11, measured in isolation.

Prints microseconds per job for: the oldest-job bookkeeping (one insert and one delete),
the tracing helpers while tracing is off (what every worker pays by default), and with
tracing on (an SDK tracer provider and a batch processor whose exporter drops the spans):
one job span, one API-call span and the context injected into one outgoing message. Also
the cost of one lag sample over six owned partitions, which runs every 5 s, not per job.

    python benchmarks/observability_overhead.py [--jobs 50000]
"""

import argparse
import asyncio
import time
from collections.abc import Callable, Sequence

from aiokafka import TopicPartition
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from bria_fleet import tracing
from bria_fleet.runtime.backlog import Backlog
from bria_fleet.runtime.lag import LagSampler

HEADERS = [
    ("ce_id", b"x"),
    ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
]


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def per_call_us(function: Callable[[], object], calls: int) -> float:
    function()
    started = time.perf_counter()
    for _ in range(calls):
        function()
    return 1e6 * (time.perf_counter() - started) / calls


def one_job_traced() -> None:
    with tracing.job_span("generation", "bria.generation.requests", 0, 1, HEADERS):
        with tracing.api_span("POST", "/v1/text-to-image/tailored/{model_id}") as span:
            span.set_attribute("http.response.status_code", 200)
        tracing.carrier()


def one_job_backlog(backlog: Backlog) -> None:
    backlog.finished(backlog.received())


class _Consumer:
    def __init__(self) -> None:
        self.parts = {TopicPartition(f"t{n % 2}", n): n for n in range(6)}

    def assignment(self) -> set[TopicPartition]:
        return set(self.parts)

    def highwater(self, tp: TopicPartition) -> int:
        return 1000

    async def position(self, tp: TopicPartition) -> int:
        return 990


async def lag_sample_us(samples: int) -> float:
    consumer = _Consumer()
    sampler = LagSampler("bench", lambda: consumer)  # type: ignore[arg-type,return-value]
    started = time.perf_counter()
    for _ in range(samples):
        await sampler.sample()
    return 1e6 * (time.perf_counter() - started) / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    args = parser.parse_args()
    backlog = Backlog("bench")
    bookkeeping = per_call_us(lambda: one_job_backlog(backlog), args.jobs)
    print(f"oldest-job bookkeeping: {bookkeeping:.2f} µs per job")
    print(f"tracing off (spans + context): {per_call_us(one_job_traced, args.jobs):.2f} µs per job")
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(_Drop()))
    trace.set_tracer_provider(provider)
    tracing._tracer = trace.get_tracer("bria_fleet")
    traced = per_call_us(one_job_traced, args.jobs // 5)
    print(f"tracing on (2 spans, context in and out): {traced:.2f} µs per job")
    provider.shutdown()
    print(f"one lag sample, 6 partitions (every 5 s): {asyncio.run(lag_sample_us(2000)):.2f} µs")


if __name__ == "__main__":
    main()
