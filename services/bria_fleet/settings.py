"""Configuration from the environment (docs/architecture.md §7).

The same names in compose and helm.
"""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

BriaBackend = Literal["engine", "vision-studio"]
KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class ApiSettings(BaseSettings):
    """How to reach the Bria API: which backend, where, with which secret."""

    model_config = SettingsConfigDict(env_prefix="BRIA_API_", extra="ignore")

    backend: BriaBackend = Field(default="engine", validation_alias="BRIA_BACKEND")
    base_url: str = "https://engine.prod.bria-api.com"
    token: SecretStr | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=20, ge=0)
    retry_attempts: int = Field(default=4, ge=1, description="in-process attempts per call")
    retry_initial_seconds: float = Field(default=0.2, ge=0)
    retry_max_seconds: float = Field(default=10.0, ge=0)
    retry_budget_seconds: float = Field(default=30.0, ge=0)
    requests_per_second: float = Field(
        default=0.0, ge=0, description="per-process request budget; 0 means unlimited"
    )
    repeat_uncertain_generations: bool = Field(
        default=False,
        description=(
            "repeat a generation POST whose answer was lost (read timeout, 500, 502, 504): "
            "may pay for a generation twice; off, such a job ends in api_outcome_unknown"
        ),
    )


class KafkaSettings(BaseSettings):
    """How to reach Kafka, including SASL/SSL for a managed cluster."""

    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    topic_partitions: int = Field(default=3, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
