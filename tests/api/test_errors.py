"""Each error status becomes one class with a stable code, retriable flag and clear message."""

from __future__ import annotations

import httpx
import pytest

from bria_fleet.api import (
    ApiConnectionError,
    ApiStatusError,
    ApiTimeout,
    BadRequest,
    BriaApiError,
    Conflict,
    Forbidden,
    InvalidResponse,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
    map_exceptions,
)
from bria_fleet.errors import BriaFleetError
from tests.api.conftest import TOKEN, Recorder, json_response, make_api

STATUS_CASES = [
    (400, BadRequest, "bad_request", False),
    (401, Unauthorized, "unauthorized", False),
    (403, Forbidden, "forbidden", False),
    (404, NotFound, "not_found", False),
    (409, Conflict, "conflict", False),
    (412, PreconditionFailed, "precondition_failed", False),
    (415, UnsupportedMediaType, "unsupported_media_type", False),
    (422, UnprocessableEntity, "unprocessable_entity", False),
    (429, RateLimited, "rate_limited", True),
    (500, ServerError, "server_error", True),
    (502, ServerError, "server_error", True),
    (503, ServerError, "server_error", True),
    (512, ServerError, "server_error", True),
]


@pytest.mark.parametrize(("status", "cls", "code", "retriable"), STATUS_CASES)
async def test_each_status_maps_to_its_class_code_and_retriable(
    status: int, cls: type[BriaApiError], code: str, retriable: bool
) -> None:
    recorder = Recorder(json_response(status, {"message": "nope"}))
    api = make_api(recorder, retry_attempts=1)
    with pytest.raises(cls) as caught:
        await api.get_model("7")
    error = caught.value
    assert type(error) is cls
    assert (error.code, error.retriable, error.http_status) == (code, retriable, status)
    assert isinstance(error, ApiStatusError)
    assert isinstance(error, BriaFleetError)


async def test_unlisted_4xx_is_a_permanent_status_error_with_its_own_code() -> None:
    api = make_api(Recorder(json_response(405, {"message": "Method not allowed"})))
    with pytest.raises(ApiStatusError) as caught:
        await api.get_model("7")
    assert (caught.value.code, caught.value.retriable, caught.value.http_status) == (
        "http_405",
        False,
        405,
    )


async def test_message_names_method_route_template_status_and_api_message() -> None:
    body = {"message": "Training already started/cannot be resumed"}
    api = make_api(Recorder(json_response(409, body)))
    with pytest.raises(Conflict) as caught:
        await api.start_training("789")
    assert str(caught.value) == (
        "POST /v1/tailored-gen/models/{model_id}/start_training answered 409 Conflict: "
        "Training already started/cannot be resumed"
    )
    assert caught.value.route == "/v1/tailored-gen/models/{model_id}/start_training"
    assert caught.value.method == "POST"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "Image with the specified ID does not exist."}, "Image with the specified"),
        (
            {"error": {"code": "E42", "message": "bad seed", "details": "x"}, "request_id": "r"},
            "bad seed (code E42)",
        ),
        (
            {"detail": [{"loc": ["body", "image_url"], "msg": "field required", "type": "x"}]},
            "body.image_url: field required",
        ),
        ({"detail": "Not Found"}, "Not Found"),
    ],
)
async def test_api_message_is_read_from_every_documented_error_shape(
    body: object, expected: str
) -> None:
    api = make_api(Recorder(json_response(404, body)))
    with pytest.raises(NotFound) as caught:
        await api.get_image("1", "2")
    assert caught.value.api_message is not None
    assert expected in caught.value.api_message


async def test_plain_text_error_body_becomes_the_api_message() -> None:
    api = make_api(Recorder(httpx.Response(400, text="Bad request.")))
    with pytest.raises(BadRequest) as caught:
        await api.get_model("1")
    assert caught.value.api_message == "Bad request."


async def test_token_echoed_by_the_api_is_redacted_from_the_error() -> None:
    api = make_api(Recorder(json_response(401, {"message": f"bad token {TOKEN}"})))
    with pytest.raises(Unauthorized) as caught:
        await api.list_models()
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert "[redacted]" in str(caught.value)


def test_map_exceptions_turns_a_timeout_into_a_retriable_api_timeout() -> None:
    with pytest.raises(ApiTimeout) as caught, map_exceptions("GET", "/v2/status/{request_id}"):
        raise httpx.ReadTimeout("slow")
    assert (caught.value.code, caught.value.retriable) == ("timeout", True)
    assert "GET /v2/status/{request_id}" in str(caught.value)


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.RemoteProtocolError("eof"), httpx.ReadError("reset")],
)
def test_map_exceptions_turns_network_errors_into_retriable_connection_errors(
    exc: Exception,
) -> None:
    with pytest.raises(ApiConnectionError) as caught, map_exceptions("GET", "/x"):
        raise exc
    assert (caught.value.code, caught.value.retriable) == ("connection_error", True)
    assert caught.value.__cause__ is exc


def test_map_exceptions_names_the_fix_for_an_unusable_url() -> None:
    with pytest.raises(ApiConnectionError) as caught, map_exceptions("GET", "/x"):
        raise httpx.UnsupportedProtocol("no scheme")
    assert caught.value.retriable is False
    assert "BRIA_API_BASE_URL" in str(caught.value)


async def test_success_with_a_non_json_body_is_an_invalid_response() -> None:
    api = make_api(Recorder(httpx.Response(200, text="<html>")))
    with pytest.raises(InvalidResponse) as caught:
        await api.get_model("1")
    assert (caught.value.code, caught.value.retriable) == ("invalid_response", False)


async def test_success_with_a_body_missing_required_fields_is_an_invalid_response() -> None:
    api = make_api(Recorder(json_response(200, {"name": "no id"})))
    with pytest.raises(InvalidResponse):
        await api.get_project("1")
