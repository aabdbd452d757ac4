"""The AsyncAPI document covers every topic, message and side of docs/architecture.md §1."""

from typing import Any

import pytest

from bria_fleet_contracts import EVENT_TYPES_BY_DOMAIN, OPS_BY_DOMAIN
from bria_fleet_contracts.asyncapi import build_asyncapi
from bria_fleet_contracts.topics import DOMAINS, Domain, topics_for


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return build_asyncapi()


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def channel(doc: dict[str, Any], address: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in doc["channels"].values() if c["address"] == address]
    assert len(found) == 1, address
    return found[0]


def test_it_is_asyncapi_3(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"


def test_every_topic_is_a_channel_with_its_cleanup_policy(doc: dict[str, Any]) -> None:
    addresses = {c["address"] for c in doc["channels"].values()}
    for domain in DOMAINS:
        topics = topics_for(domain)
        assert set(topics.all) <= addresses
        for topic in topics.all:
            policy = channel(doc, topic)["bindings"]["kafka"]["topicConfiguration"]
            expected = "compact" if topic in topics.compacted else "delete"
            assert policy["cleanup.policy"] == [expected]


@pytest.mark.parametrize("domain", DOMAINS)
def test_channels_carry_their_domain_s_messages(doc: dict[str, Any], domain: Domain) -> None:
    topics = topics_for(domain)
    assert set(channel(doc, topics.requests)["messages"]) == set(OPS_BY_DOMAIN[domain])
    assert set(channel(doc, topics.retry)["messages"]) == set(OPS_BY_DOMAIN[domain])
    assert set(channel(doc, topics.dlq)["messages"]) == {*OPS_BY_DOMAIN[domain], "unparseable"}
    assert set(channel(doc, topics.events)["messages"]) == set(EVENT_TYPES_BY_DOMAIN[domain])


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_side_is_named(doc: dict[str, Any], domain: Domain) -> None:
    topics = topics_for(domain)
    assert channel(doc, topics.requests)["x-written-by"] == "upstream"
    assert channel(doc, topics.events)["x-read-by"] == "downstream"
    actions = {
        (doc_op["channel"]["$ref"].rsplit("/", 1)[1], doc_op["action"])
        for doc_op in doc["operations"].values()
    }
    assert (f"{domain}Requests", "receive") in actions
    assert (f"{domain}Events", "send") in actions
    assert (f"{domain}Dlq", "send") in actions


def test_event_messages_declare_cloudevent_headers_and_job_id_keys(doc: dict[str, Any]) -> None:
    message = doc["components"]["messages"]["generation.completed"]
    headers = resolve(doc, message["headers"]["$ref"])
    assert {"ce_id", "ce_type", "ce_time"} <= set(headers["required"])
    assert message["bindings"]["kafka"]["key"]["description"] == "job_id"


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        resolve(doc, ref)
