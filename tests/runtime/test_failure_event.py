"""One function builds every failure event, from the one failure base API and domain share."""

from bria_fleet.api import NotFound, ServerError
from bria_fleet.errors import FailureError
from bria_fleet.runtime.events import failure_message
from bria_fleet.runtime.outcomes import JobError


def test_api_and_domain_errors_share_the_failure_base() -> None:
    assert issubclass(NotFound, FailureError)
    assert issubclass(JobError, FailureError)


def test_an_api_error_becomes_a_domain_failed_event_with_its_facts() -> None:
    error = NotFound("GET /models/9 answered 404", http_status=404)
    message = failure_message("training", "j-1", {"team": "a"}, error, {"op": "train_model"})
    assert message.topic == "bria.training.events"
    assert message.value["type"] == "training.failed"
    assert message.value["data"]["op"] == "train_model"
    assert message.value["metadata"] == {"team": "a"}
    assert message.value["error"] == {
        "code": "not_found",
        "message": "GET /models/9 answered 404",
        "retriable": False,
        "http_status": 404,
    }


def test_a_failure_names_its_own_event_type_unless_the_caller_overrides_it() -> None:
    stopped = JobError("training_stopped", "stopped by j-2", event_type="training.stopped")
    data = {"op": "stop_training", "model_id": "3", "reason": "requested"}
    assert failure_message("training", "j", {}, stopped, data).value["type"] == "training.stopped"
    forced = failure_message("training", "j", {}, stopped, data, event_type="training.failed")
    assert forced.value["type"] == "training.failed"


def test_anything_else_is_a_retriable_internal_error() -> None:
    message = failure_message("generation", "j", {}, RuntimeError("bug"))
    assert message.value["error"]["code"] == "internal_error"
    assert message.value["error"]["retriable"] is True
    assert failure_message("generation", "j", {}, ServerError("x")).value["error"]["retriable"]
