"""A real single-node Apache Kafka broker (KRaft) on this machine, without Docker.

The broker's jars come from Maven Central through Maven into a local cache; the broker
runs as a background JVM whose state (configuration, data, log, pid file) lives in one
data directory.
"""

from bria_fleet.localkafka._broker import DEFAULT_DATA_DIR, DEFAULT_PORT, BrokerStatus, LocalKafka
from bria_fleet.localkafka._jars import (
    CACHE_DIR_ENV,
    KAFKA_VERSION,
    cache_root,
    fetch_jars,
    jar_dir,
    jars_present,
    metrics_agent_jar,
)

__all__ = [
    "CACHE_DIR_ENV",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PORT",
    "KAFKA_VERSION",
    "BrokerStatus",
    "LocalKafka",
    "cache_root",
    "fetch_jars",
    "jar_dir",
    "jars_present",
    "metrics_agent_jar",
]
