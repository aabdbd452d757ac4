"""One upstream message, four workers: a brand's images all the way to generated assets."""

import json

import pytest
from aiokafka import AIOKafkaConsumer

from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import FleetEventsFor, StartWorker, Submit, TopicTail
from tests.workers.helpers import EXAMPLES, calls

pytestmark = pytest.mark.integration

FAST_POLLS = json.dumps(
    {
        kind: {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 120}
        for kind in ("training", "captions", "generation")
    }
)
DOMAINS = ("ingest", "caption", "training", "generation")


async def test_the_pipeline_example_ends_in_generated_assets(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    fleet_events: FleetEventsFor,
) -> None:
    events = {domain: await fleet_events(domain) for domain in DOMAINS}
    workers = [
        start_worker(
            domain,
            api_base_url=sim.base_url,
            api_token=sim.token,
            WORKER_POLL_POLICIES=FAST_POLLS,
        )
        for domain in DOMAINS
    ]
    for worker in workers:
        await worker.wait_ready()
    request = json.loads((EXAMPLES / "pipeline.json").read_text())
    request["job_id"] = job_id = f"{request['job_id']}-{id(request):x}"
    request["dataset"]["name"] = f"pipeline-{job_id}"
    steps = {
        "ingest": job_id,
        "caption": f"{job_id}/caption",
        "training": f"{job_id}/caption/train",
        "generation": f"{job_id}/caption/train/generate",
    }

    await submit("ingest", request)

    # Step by step, so a failure names the step that stalled or failed, and why.
    for domain, step_job in steps.items():
        await events[domain].wait_terminal([step_job], within=120)
        (terminal,) = events[domain].terminal(step_job)
        assert terminal["type"] == f"{domain}.completed", terminal
        assert terminal["metadata"]["campaign"] == "pipeline-demo"
    generated = events["generation"].terminal(steps["generation"])[0]
    trained = events["training"].terminal(steps["training"])[0]
    ingested = events["ingest"].terminal(steps["ingest"])[0]
    assert generated["data"]["model_id"] == trained["data"]["model_id"]
    assert trained["data"]["dataset_id"] == ingested["data"]["dataset_id"]
    assert len(generated["data"]["assets"]) == 2
    uploads = [call for call in calls(sim, "/images") if call["method"] == "POST"]
    assert len([call for call in uploads if call["status"] in (200, 201)]) == 20


async def test_a_failed_step_stops_the_pipeline_with_the_failure_naming_the_step(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    fleet_events: FleetEventsFor,
    fleet_topics: KafkaSettings,
) -> None:
    ingest_events = await fleet_events("ingest")
    caption_events = await fleet_events("caption")
    training_requests = TopicTail(
        AIOKafkaConsumer(**aiokafka_options(fleet_topics), enable_auto_commit=False)
    )
    await training_requests.start(fleet_topics, [topics_for("training").requests])
    for domain in ("ingest", "caption"):
        worker = start_worker(domain, api_base_url=sim.base_url, api_token=sim.token)
        await worker.wait_ready()
    request = json.loads((EXAMPLES / "pipeline.json").read_text())
    request["job_id"] = job_id = f"broken-{id(request):x}"
    request["dataset"]["name"] = f"pipeline-{job_id}"
    # The caption step names a dataset that does not exist: it fails, and the training
    # step after it is never published.
    request["then"][0]["request"]["dataset_id"] = "999999"

    await submit("ingest", request)
    await caption_events.wait_terminal([f"{job_id}/caption"], within=60)

    (ingested,) = ingest_events.terminal(job_id)
    assert ingested["type"] == "ingest.completed"
    (failed,) = caption_events.terminal(f"{job_id}/caption")
    assert failed["type"] == "caption.failed"
    assert failed["job_id"].endswith("/caption")
    assert failed["error"]["http_status"] == 404
    await training_requests.stop()
    assert not [m for m in training_requests.messages if m.key == f"{job_id}/caption/train"]
