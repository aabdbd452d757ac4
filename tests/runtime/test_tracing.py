"""Tracing is configured only by the standard OTEL_* variables and is a no-op when off."""

import pytest

from bria_fleet import tracing


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, False),
    ],
)
def test_traces_are_wanted_only_when_the_otel_environment_asks(
    environ: dict[str, str], expected: bool
) -> None:
    assert tracing.wanted(environ) is expected


def test_off_every_helper_does_nothing_and_adds_no_header() -> None:
    assert not tracing.enabled()
    headers = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    with tracing.job_span("generation", "t", 0, 1, headers):
        with tracing.api_span("GET", "/v1/x") as span:
            span.set_attribute("http.response.status_code", 200)
        with tracing.poll_span("training", "m", "j", {}):
            assert tracing.carrier() == {}
