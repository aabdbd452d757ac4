"""The committed topic catalogue names every topic, op and event type, and links to real files."""

import re

from bria_fleet_contracts import EVENT_TYPES, OPS_BY_DOMAIN, topics_for
from bria_fleet_contracts.generate import contracts_dir
from bria_fleet_contracts.topics import DOMAINS

CATALOGUE = contracts_dir() / "TOPICS.md"


def test_every_topic_op_and_event_type_is_in_the_catalogue() -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    for domain in DOMAINS:
        for topic in topics_for(domain).all:
            assert f"| `{topic}` |" in text, topic
        for op in OPS_BY_DOMAIN[domain]:
            assert f"| `{op}` |" in text, op
    for event_type in EVENT_TYPES:
        assert f"| `{event_type}` |" in text, event_type


def test_every_link_in_the_catalogue_points_to_a_committed_file() -> None:
    links = re.findall(r"\]\(([^)]+)\)", CATALOGUE.read_text(encoding="utf-8"))
    assert len(links) > len(EVENT_TYPES)
    missing = [link for link in links if not (contracts_dir() / link).exists()]
    assert missing == []
