"""Turning KafkaSettings into aiokafka options and faststream security."""

import ssl

import pytest
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram512
from pydantic import SecretStr

from bria_fleet.errors import BriaFleetError
from bria_fleet.kafka_client import aiokafka_options, faststream_security
from bria_fleet.settings import KafkaSettings


def _settings(**values: object) -> KafkaSettings:
    return KafkaSettings.model_validate({"bootstrap_servers": "kafka:9092", **values})


def test_plaintext_needs_only_the_bootstrap_servers() -> None:
    settings = _settings()

    assert aiokafka_options(settings) == {
        "bootstrap_servers": "kafka:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert faststream_security(settings) is None


def test_sasl_ssl_passes_credentials_and_a_tls_context() -> None:
    settings = _settings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="fleet",
        sasl_password=SecretStr("s3cret"),
    )

    options = aiokafka_options(settings)
    security = faststream_security(settings)

    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("fleet", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert isinstance(security, SASLScram512)
    assert security.use_ssl


def test_sasl_mechanism_defaults_to_plain() -> None:
    settings = _settings(
        security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password=SecretStr("p")
    )

    assert aiokafka_options(settings)["sasl_mechanism"] == "PLAIN"
    security = faststream_security(settings)
    assert isinstance(security, SASLPlaintext)
    assert not security.use_ssl


def test_ssl_alone_gives_a_tls_security_object() -> None:
    security = faststream_security(_settings(security_protocol="SSL"))

    assert type(security) is BaseSecurity
    assert security.use_ssl


def test_sasl_without_credentials_names_the_missing_settings() -> None:
    with pytest.raises(BriaFleetError, match="set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        aiokafka_options(_settings(security_protocol="SASL_SSL"))


def test_unreadable_tls_files_name_the_settings() -> None:
    settings = _settings(security_protocol="SSL", ssl_cafile="/nonexistent/ca.pem")

    with pytest.raises(BriaFleetError, match="KAFKA_SSL_CAFILE"):
        aiokafka_options(settings)
