"""The committed examples: one per op, valid against the model and the JSON Schema."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bria_fleet_contracts import (
    EVENT_MODEL_BY_TYPE,
    EVENT_TYPES,
    OPS_BY_DOMAIN,
    FollowUp,
    parse_request,
    seed,
)
from bria_fleet_contracts.generate import contracts_dir
from bria_fleet_contracts.topics import DOMAINS, Domain

EXAMPLES = contracts_dir() / "examples"
SCHEMAS = contracts_dir() / "schemas"
ALL_OPS = [(domain, op) for domain in DOMAINS for op in OPS_BY_DOMAIN[domain]]
SEEDED_IDS = {
    seed.PROJECT_ID,
    *(dataset.id for dataset in seed.DATASETS),
    *(image for dataset in seed.DATASETS for image in dataset.image_ids),
    *(model.id for model in seed.MODELS),
}


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_is_exactly_one_example_per_op() -> None:
    found = {(path.parent.name, path.stem) for path in EXAMPLES.glob("*/*.json")}
    assert found - {("events", stem) for stem in EVENT_TYPES} == set(ALL_OPS)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_has_an_example_that_parses_as_its_model(event_type: str) -> None:
    event = load(EXAMPLES / "events" / f"{event_type}.json")
    parsed = EVENT_MODEL_BY_TYPE[event_type].model_validate(event)
    assert parsed.type == event_type
    assert (parsed.error is not None) == event_type.endswith(".failed")


def test_the_pipeline_example_is_an_ingest_request_chaining_every_other_domain() -> None:
    request = parse_request("ingest", load(EXAMPLES / "pipeline.json"))
    domains = []
    then = request.then
    while then:
        (step,) = then
        domains.append(step.domain)
        then = step.request.get("then", [])
        then = [FollowUp.model_validate(follow_up) for follow_up in then]
    assert domains == ["caption", "training", "generation"]


@pytest.mark.parametrize(("domain", "op"), ALL_OPS)
def test_example_validates_against_its_model(domain: Domain, op: str) -> None:
    payload = load(EXAMPLES / domain / f"{op}.json")
    request = parse_request(domain, payload)
    assert request.op == op
    assert request.job_id == f"example-{domain}-{op}"


@pytest.mark.parametrize(("domain", "op"), ALL_OPS)
def test_example_validates_against_its_json_schemas(domain: Domain, op: str) -> None:
    payload = load(EXAMPLES / domain / f"{op}.json")
    jsonschema.validate(payload, load(SCHEMAS / f"request.{domain}.{op}.json"))
    jsonschema.validate(payload, load(SCHEMAS / f"request.{domain}.json"))


@pytest.mark.parametrize(("domain", "op"), ALL_OPS)
def test_example_ids_are_the_simulator_s_seeded_ones(domain: Domain, op: str) -> None:
    request = parse_request(domain, load(EXAMPLES / domain / f"{op}.json"))
    ids = {
        value
        for name, value in request
        if name in {"project_id", "dataset_id", "image_id", "model_id"} and value is not None
    }
    assert ids <= SEEDED_IDS


def test_generation_examples_use_models_of_the_right_training_version() -> None:
    versions = {model.id: model.training_version for model in seed.MODELS}
    for op in OPS_BY_DOMAIN["generation"]:
        request = parse_request("generation", load(EXAMPLES / "generation" / f"{op}.json"))
        expected = "fibo" if op.startswith("fibo_") else "light"
        assert versions[request.model_id] == expected, op


def test_the_json_schema_rejects_what_the_model_rejects() -> None:
    payload = load(EXAMPLES / "generation" / "text_to_image.json")
    schema = load(SCHEMAS / "request.generation.text_to_image.json")
    for bad in ({**payload, "num_results": 5}, {**payload, "op": "reimagine"}, {"op": "x"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
