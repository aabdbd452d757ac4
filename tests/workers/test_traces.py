"""One pipeline message is one trace, across the four workers (W3C context in Kafka headers).

The workers export with OTLP over HTTP to an in-memory receiver in this test; the test sends
the ingest request with its own ``traceparent``, as an upstream system would.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import FleetEventsFor, StartWorker
from tests.workers.helpers import EXAMPLES

pytestmark = pytest.mark.integration

DOMAINS = ("ingest", "caption", "training", "generation")
FAST_POLLS = json.dumps(
    {
        kind: {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 120}
        for kind in ("training", "captions", "generation")
    }
)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
UPSTREAM_SPAN = "00f067aa0ba902b7"


class SpanStore:
    """Spans received over OTLP/HTTP, as plain dicts."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                )
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            {
                                "service": service,
                                "name": span.name,
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "attributes": {
                                    a.key: a.value.string_value or a.value.int_value
                                    for a in span.attributes
                                },
                            }
                        )

    def of_trace(self, trace_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [span for span in self.spans if span["trace_id"] == trace_id]


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, SpanStore]]:
    store = SpanStore()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                store.add(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", store
    server.shutdown()


async def test_one_trace_from_the_ingest_request_to_generation_completed(
    sim: SimServer,
    start_worker: StartWorker,
    fleet_events: FleetEventsFor,
    fleet_topics: KafkaSettings,
    otlp_receiver: tuple[str, SpanStore],
) -> None:
    endpoint, store = otlp_receiver
    events = {domain: await fleet_events(domain) for domain in DOMAINS}
    workers = [
        start_worker(
            domain,
            api_base_url=sim.base_url,
            api_token=sim.token,
            WORKER_POLL_POLICIES=FAST_POLLS,
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        for domain in DOMAINS
    ]
    for worker in workers:
        await worker.wait_ready()
    request = json.loads((EXAMPLES / "pipeline.json").read_text())
    request["job_id"] = job_id = f"{request['job_id']}-trace-{id(request):x}"
    request["dataset"]["name"] = f"pipeline-{job_id}"
    producer = AIOKafkaProducer(**aiokafka_options(fleet_topics), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topics_for("ingest").requests,
            json.dumps(request).encode(),
            key=job_id.encode(),
            headers=[("traceparent", f"00-{TRACE_ID}-{UPSTREAM_SPAN}-01".encode())],
        )
    finally:
        await producer.stop()
    generated = f"{job_id}/caption/train/generate"
    await events["generation"].wait_terminal([generated], within=180)

    completed = [
        message
        for message in events["generation"].tail.on(topics_for("generation").events)
        if message.json()["job_id"] == generated
        and message.json()["type"] == "generation.completed"
    ]
    assert completed, "no generation.completed event"
    assert completed[0].headers["traceparent"].split("-")[1] == TRACE_ID

    for worker in workers:  # a stopped worker has flushed its spans
        worker.stop()
    spans = store.of_trace(TRACE_ID)
    by_id = {span["span_id"]: span for span in spans}
    jobs = [span for span in spans if span["name"].startswith("process bria.")]
    assert {span["service"] for span in jobs} == {f"bria-fleet-{d}" for d in DOMAINS}, jobs
    ingest_job = next(span for span in jobs if span["service"] == "bria-fleet-ingest")
    assert ingest_job["parent"] == UPSTREAM_SPAN

    api_calls = [span for span in spans if "http.route" in span["attributes"]]
    polls = [span for span in spans if span["name"].startswith("poll ")]
    assert {span["service"] for span in api_calls} == {f"bria-fleet-{d}" for d in DOMAINS}
    assert all(span["attributes"].get("http.response.status_code") for span in api_calls)
    assert {span["attributes"]["bria.watch.kind"] for span in polls} >= {"training", "captions"}
    for span in api_calls + polls:  # children of a job or of a poll, in this trace
        assert span["parent"] in by_id, span
        assert by_id[span["parent"]]["name"].startswith(("process ", "poll ")), span
    print(f"trace {TRACE_ID}: {len(jobs)} job, {len(api_calls)} API call, {len(polls)} poll spans")
    # Nothing of this pipeline went to another trace.
    others = [
        span
        for span in store.spans
        if span["trace_id"] != TRACE_ID and job_id in json.dumps(span["attributes"])
    ]
    assert not others, others
