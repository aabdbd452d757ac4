"""Kafka clients configured from :class:`KafkaSettings`, security options included.

One place turns the ``KAFKA_*`` settings into connection options: keyword arguments for
aiokafka's clients and a security object for faststream's ``KafkaBroker``.
"""

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple, TypedDict

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from bria_fleet.errors import BriaFleetError
from bria_fleet.settings import KafkaSettings, SaslMechanism

_SSL_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
_SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


class AIOKafkaOptions(TypedDict, total=False):
    """Connection keyword arguments every aiokafka client accepts."""

    bootstrap_servers: str
    security_protocol: str
    ssl_context: ssl.SSLContext
    sasl_mechanism: str
    sasl_plain_username: str
    sasl_plain_password: str


class _SaslCredentials(NamedTuple):
    mechanism: SaslMechanism
    username: str
    password: str


def aiokafka_options(settings: KafkaSettings) -> AIOKafkaOptions:
    """Keyword arguments that connect an aiokafka producer, consumer or admin client.

    Use as ``AIOKafkaProducer(**aiokafka_options(settings), acks="all")``. Raises
    :class:`BriaFleetError` when the security settings are incomplete or unreadable.
    """
    options = AIOKafkaOptions(
        bootstrap_servers=settings.bootstrap_servers,
        security_protocol=settings.security_protocol,
    )
    if settings.security_protocol in _SSL_PROTOCOLS:
        options["ssl_context"] = _ssl_context(settings)
    if settings.security_protocol in _SASL_PROTOCOLS:
        sasl = _sasl_credentials(settings)
        options["sasl_mechanism"] = sasl.mechanism
        options["sasl_plain_username"] = sasl.username
        options["sasl_plain_password"] = sasl.password
    return options


def faststream_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The ``security`` argument of faststream's ``KafkaBroker``; None for PLAINTEXT."""
    protocol = settings.security_protocol
    context = _ssl_context(settings) if protocol in _SSL_PROTOCOLS else None
    if protocol not in _SASL_PROTOCOLS:
        return None if context is None else BaseSecurity(ssl_context=context, use_ssl=True)
    sasl = _sasl_credentials(settings)
    kind = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return kind[sasl.mechanism](
        sasl.username, sasl.password, ssl_context=context, use_ssl=protocol == "SASL_SSL"
    )


@asynccontextmanager
async def kafka_admin(settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started aiokafka admin client, closed on exit; a clear error if Kafka is unreachable."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    try:
        try:
            await admin.start()
        except KafkaConnectionError as error:
            raise BriaFleetError(
                f"cannot reach Kafka at {settings.bootstrap_servers}; start one with"
                " `bria-fleet kafka start` or set KAFKA_BOOTSTRAP_SERVERS."
            ) from error
        yield admin
    finally:
        await admin.close()


def _sasl_credentials(settings: KafkaSettings) -> _SaslCredentials:
    if settings.sasl_username is None or settings.sasl_password is None:
        raise BriaFleetError(
            f"KAFKA_SECURITY_PROTOCOL is {settings.security_protocol}; set KAFKA_SASL_USERNAME"
            " and KAFKA_SASL_PASSWORD too."
        )
    return _SaslCredentials(
        mechanism=settings.sasl_mechanism or "PLAIN",
        username=settings.sasl_username,
        password=settings.sasl_password.get_secret_value(),
    )


def _ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    if (settings.ssl_certfile is None) != (settings.ssl_keyfile is None):
        raise BriaFleetError(
            "set both KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE for a client certificate,"
            " or neither."
        )
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.ssl_cafile,
            certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile,
        )
    except (OSError, ssl.SSLError) as error:
        raise BriaFleetError(
            f"cannot load the Kafka TLS files ({error}); check KAFKA_SSL_CAFILE,"
            " KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE."
        ) from error
    return context
