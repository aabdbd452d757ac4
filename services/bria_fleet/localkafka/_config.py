"""The broker's configuration files: single-node KRaft on 127.0.0.1, tuned for tests."""

from pathlib import Path

HOST = "127.0.0.1"
NODE_ID = 1

_BROKER_SETTINGS: dict[str, str] = {
    "process.roles": "broker,controller",
    "node.id": str(NODE_ID),
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "auto.create.topics.enable": "true",
    "delete.topic.enable": "true",
    "num.partitions": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "3",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "3",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "share.coordinator.state.topic.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",
    "num.network.threads": "2",
    "num.io.threads": "4",
    "log.cleaner.enable": "true",
    "log.cleaner.threads": "1",
    "log.cleaner.backoff.ms": "1000",
    "log.cleaner.min.compaction.lag.ms": "0",
    # The default 128 MiB dedupe buffer would take a quarter of the modest heap.
    "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
    "log.retention.check.interval.ms": "60000",
}

_LOG4J2_PROPERTIES = """\
status = warn
shutdownHook = disable
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = warn
"""


def server_properties(*, port: int, controller_port: int, log_dir: Path) -> str:
    """``server.properties`` of a combined broker and controller listening on 127.0.0.1 only."""
    settings = {
        **_BROKER_SETTINGS,
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{controller_port}",
        "log.dirs": str(log_dir),
    }
    return "".join(f"{key}={_escape(value)}\n" for key, value in settings.items())


def log4j2_properties() -> str:
    """A log4j2 configuration that writes INFO and above to standard output."""
    return _LOG4J2_PROPERTIES


def read_properties(text: str) -> dict[str, str]:
    """The ``key=value`` lines of a file :func:`server_properties` wrote (values as written)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _escape(value: str) -> str:
    # Java reads .properties as ISO-8859-1 with backslash escapes; keep paths intact.
    escaped = value.replace("\\", "\\\\")
    return "".join(char if ord(char) < 0x7F else _java_unicode_escape(char) for char in escaped)


def _java_unicode_escape(char: str) -> str:
    utf16 = char.encode("utf-16-be")
    return "".join(f"\\u{utf16[i]:02x}{utf16[i + 1]:02x}" for i in range(0, len(utf16), 2))


_JMX_OBJECT_NAMES = (
    # Broker-wide rates and states only: the per-topic and per-partition MBeans grow with
    # every topic and make a scrape slow.
    "kafka.server:type=BrokerTopicMetrics,name=*",
    "kafka.server:type=ReplicaManager,name=*",
    "kafka.server:type=KafkaRequestHandlerPool,name=*",
    "kafka.network:type=RequestChannel,name=*",
    "kafka.network:type=SocketServer,name=*",
    "kafka.controller:type=KafkaController,name=*",
    "java.lang:type=Memory",
    "java.lang:type=Threading",
    "java.lang:type=GarbageCollector,name=*",
)


def jmx_exporter_yaml() -> str:
    """The JMX exporter's configuration: the broker-wide MBeans, every attribute of them."""
    names = "".join(f'  - "{name}"\n' for name in _JMX_OBJECT_NAMES)
    return f'includeObjectNames:\n{names}rules:\n  - pattern: ".*"\n'
