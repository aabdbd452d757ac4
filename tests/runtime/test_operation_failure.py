"""A long operation the API reports failed or stopped fails its job, with the API's reason."""

from datetime import UTC, datetime
from typing import Any

import pytest

from bria_fleet.api import ApiErrorDetail, OperationKind, OperationState, OperationStatus
from bria_fleet.runtime.outcomes import operation_failure

WHEN = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def status(state: OperationState, error: ApiErrorDetail | None = None) -> OperationStatus[Any]:
    return OperationStatus[Any](
        kind=OperationKind.GENERATION, id="r1", state=state, updated_at=WHEN, error=error
    )


@pytest.mark.parametrize("state", [OperationState.FAILED, OperationState.STOPPED])
def test_a_failed_or_stopped_operation_is_a_job_error_with_the_api_s_message(
    state: OperationState,
) -> None:
    failure = operation_failure(status(state, ApiErrorDetail(message="NSFW")), "code", "fallback")

    assert failure is not None
    assert (failure.code, failure.message, failure.completed_at) == ("code", "NSFW", WHEN)
    assert failure.retriable is False


def test_without_a_message_from_the_api_the_fallback_says_why() -> None:
    failure = operation_failure(status(OperationState.FAILED, ApiErrorDetail()), "code", "fallback")

    assert failure is not None
    assert failure.message == "fallback"


@pytest.mark.parametrize("state", [OperationState.IN_PROGRESS, OperationState.COMPLETED])
def test_an_operation_still_running_or_done_is_no_failure(state: OperationState) -> None:
    assert operation_failure(status(state), "code", "fallback") is None
