"""The vendor's own Python SDK (``bria-client`` 0.3.1, a test extra) against the simulator.

What the SDK reports must be what the real API would make it report: results of synchronous
and asynchronous jobs, a failed job as a failure (with its ``details``), a 429 as an error.
"""

import httpx
import pytest
from bria_client import BriaAsyncClient, BriaSyncClient
from bria_client.toolkit.errors.exception import BriaException
from httpx_retries import Retry

from bria_fleet.sim import SimServer
from tests.sim.helpers import admin, engine, trained_fibo_model_id

NO_RETRY = Retry(total=0)


def _fibo_model_id(sim: SimServer) -> int:
    with engine(sim) as client:
        return trained_fibo_model_id(client)


def _sdk(sim: SimServer) -> BriaSyncClient:
    return BriaSyncClient(base_url=sim.base_url, api_token=sim.token, retry=NO_RETRY)


def test_run_returns_the_generated_image(sim: SimServer) -> None:
    with _sdk(sim) as sdk:
        answer = sdk.run(
            "image/generate/tailored",
            {"tailored_model_id": _fibo_model_id(sim), "prompt": "a fox"},
        )
    assert answer.status == "COMPLETED"
    assert answer.error is None
    assert answer.result is not None
    image = httpx.get(answer.result.image_url)
    assert image.status_code == 200
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_submit_then_poll_ends_completed(sim: SimServer) -> None:
    with _sdk(sim) as sdk:
        submitted = sdk.submit(
            "image/generate/tailored",
            {"tailored_model_id": _fibo_model_id(sim), "prompt": "a fox"},
        )
        assert submitted.status == "IN_PROGRESS"
        assert sdk.status(submitted.request_id) in ("IN_PROGRESS", "COMPLETED")
        final = sdk.poll(submitted, interval=0.05, timeout=10)
    assert final.status == "COMPLETED"
    assert final.result is not None
    assert final.result.image_url


def test_a_failed_job_is_reported_as_failed_with_its_details(sim: SimServer) -> None:
    with admin(sim) as control:
        control.put("/faults", json={"generation_failure_rate": 1.0})
    with _sdk(sim) as sdk:
        submitted = sdk.submit(
            "image/generate/tailored",
            {"tailored_model_id": _fibo_model_id(sim), "prompt": "a fox"},
        )
        final = sdk.poll(submitted, interval=0.05, timeout=10, raise_for_status=False)
        with pytest.raises(BriaException):
            final.raise_for_status()
    assert final.status == "ERROR"
    assert final.error is not None
    assert final.error.code == 500
    assert final.error.details


def test_a_rate_limited_call_is_an_error_the_sdk_can_read(sim: SimServer) -> None:
    model_id = _fibo_model_id(sim)
    with admin(sim) as control:
        control.put("/faults", json={"throttle_seconds": 30})
    with _sdk(sim) as sdk:
        answer = sdk.submit(
            "image/generate/tailored", {"tailored_model_id": model_id, "prompt": "x"}
        )
    assert answer.status == "ERROR"
    assert answer.error is not None
    assert answer.error.code == 429
    assert "Request limit exceeded" in answer.error.message


async def test_the_async_client_submits_and_polls(sim: SimServer) -> None:
    model_id = _fibo_model_id(sim)
    async with BriaAsyncClient(base_url=sim.base_url, api_token=sim.token, retry=NO_RETRY) as sdk:
        submitted = await sdk.submit(
            "structured_prompt/generate/tailored", {"tailored_model_id": model_id, "prompt": "x"}
        )
        final = await sdk.poll(submitted, interval=0.05, timeout=10)
    assert final.status == "COMPLETED"
    assert final.result is not None
    assert final.result.structured_prompt
