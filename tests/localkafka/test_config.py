"""The broker's configuration: single-node KRaft, reachable on 127.0.0.1 only."""

from pathlib import Path

from bria_fleet.localkafka._config import read_properties, server_properties


def _properties(log_dir: Path = Path("/data/kraft")) -> dict[str, str]:
    return read_properties(server_properties(port=9092, controller_port=9093, log_dir=log_dir))


def test_broker_and_controller_listen_on_loopback_only() -> None:
    properties = _properties()

    assert properties["process.roles"] == "broker,controller"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:9093"


def test_internal_topics_fit_a_single_node() -> None:
    properties = _properties()

    assert properties["offsets.topic.replication.factor"] == "1"
    assert properties["transaction.state.log.replication.factor"] == "1"
    assert properties["transaction.state.log.min.isr"] == "1"
    assert properties["group.initial.rebalance.delay.ms"] == "0"
    assert properties["auto.create.topics.enable"] == "true"


def test_non_ascii_paths_are_escaped_for_java() -> None:
    properties = _properties(Path("/home/josé/kraft"))

    assert properties["log.dirs"] == "/home/jos\\u00e9/kraft"
