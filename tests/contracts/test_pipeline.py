"""Pipelines: follow-ups rendered from a parent's result (docs/architecture.md §5)."""

import json
from typing import Any

import pytest

from bria_fleet_contracts import (
    OPS_BY_DOMAIN,
    FollowUp,
    FollowUpError,
    InvalidRequest,
    parse_request,
    placeholder_values,
    render_follow_ups,
)
from bria_fleet_contracts.event_examples import example_event

GENERATE: dict[str, Any] = {
    "step": "generate",
    "domain": "generation",
    "request": {"op": "text_to_image", "model_id": "{model_id}", "prompt": "a {dataset_id} cat"},
}
TRAIN: dict[str, Any] = {
    "step": "train",
    "domain": "training",
    "request": {
        "op": "train_model",
        "dataset_id": "{dataset_id}",
        "model": {"name": "m-{dataset_id}", "training_version": "light"},
        "then": [GENERATE],
    },
}


def follow_ups(*items: dict[str, Any]) -> list[FollowUp]:
    return [FollowUp.model_validate(item) for item in items]


def test_placeholders_are_filled_and_job_ids_derived() -> None:
    [rendered] = render_follow_ups("up-1", follow_ups(TRAIN), {"dataset_id": "777"})
    assert rendered.domain == "training"
    assert rendered.job_id == "up-1/train"
    assert rendered.request["dataset_id"] == "777"
    assert rendered.request["model"]["name"] == "m-777"
    assert parse_request("training", rendered.request).job_id == "up-1/train"


def test_nested_follow_ups_keep_placeholders_for_their_own_parent() -> None:
    [train] = render_follow_ups("up-1", follow_ups(TRAIN), {"dataset_id": "777"})
    nested = train.request["then"][0]["request"]
    assert nested["model_id"] == "{model_id}"
    assert nested["prompt"] == "a 777 cat"
    parsed = parse_request("training", train.request)
    [generate] = render_follow_ups(parsed.job_id, parsed.then, {"model_id": "303"})
    assert generate.job_id == "up-1/train/generate"
    assert generate.request["model_id"] == "303"


def test_an_unknown_placeholder_names_the_step_and_the_placeholder() -> None:
    with pytest.raises(FollowUpError) as caught:
        render_follow_ups("up-1", follow_ups(GENERATE), {"dataset_id": "777"})
    assert caught.value.step == "generate"
    assert str(caught.value) == (
        "follow-up 'generate' (generation) has unknown placeholder {model_id} in model_id; "
        "known: dataset_id, job_id"
    )


def test_a_follow_up_invalid_once_filled_names_the_step_and_the_problem() -> None:
    bad = {
        "step": "gen",
        "domain": "generation",
        "request": {"op": "text_to_image", "model_id": "{model_id}", "prompt": ""},
    }
    with pytest.raises(FollowUpError) as caught:
        render_follow_ups("up-1", follow_ups(bad), {"model_id": "303"})
    assert str(caught.value) == (
        "follow-up 'gen' (generation) is invalid: prompt: String should have at least 1 character"
    )


def test_the_parent_job_id_is_a_placeholder_and_json_braces_are_left_alone() -> None:
    prompt = json.dumps({"subject": "cat", "note": "{job_id}"})
    item = {
        "step": "fibo",
        "domain": "generation",
        "request": {
            "op": "fibo_generate_image",
            "model_id": "302",
            "prompt": "x",
            "structured_prompt": prompt,
        },
    }
    [rendered] = render_follow_ups("up-1", follow_ups(item), {})
    assert json.loads(rendered.request["structured_prompt"]) == {"subject": "cat", "note": "up-1"}


def test_metadata_is_inherited_and_the_follow_up_s_own_wins() -> None:
    item = {**GENERATE, "request": {**GENERATE["request"], "metadata": {"team": "b"}}}
    [rendered] = render_follow_ups(
        "up-1",
        follow_ups(item),
        {"model_id": "303", "dataset_id": "1"},
        metadata={"team": "a", "campaign": "spring"},
    )
    assert rendered.request["metadata"] == {"team": "b", "campaign": "spring"}


def test_placeholder_values_come_from_the_completed_event() -> None:
    values = placeholder_values(example_event("generation.completed", job_id="up-1/gen"))
    assert values["job_id"] == "up-1/gen"
    assert values["model_id"] == "300"
    assert values["image_url"] == "https://sim.example/a.png"
    assert values["seed"] == "7"
    assert "request" not in values
    assert "assets" not in values


def test_training_completed_offers_model_and_dataset_ids() -> None:
    values = placeholder_values(example_event("training.completed"))
    assert {"model_id": "303", "dataset_id": "200"}.items() <= values.items()


@pytest.mark.parametrize(
    ("then", "message"),
    [
        (
            [{**GENERATE, "request": {**GENERATE["request"], "job_id": "x"}}],
            "then[0]: request must not carry job_id",
        ),
        (
            [{**GENERATE, "domain": "training"}],
            "then[0]: unknown training op 'text_to_image' (text_to_image is a generation op)",
        ),
        ([{**GENERATE, "request": {"model_id": "1"}}], "then[0]: request needs an op"),
        ([GENERATE, GENERATE], "then: step names must be unique, repeated: generate"),
        ([{**GENERATE, "step": "Gen 1"}], "then[0].step: String should match pattern"),
        (
            [{**TRAIN, "request": {**TRAIN["request"], "then": [{**GENERATE, "domain": "x"}]}}],
            "then[0]: request.then[0].domain: Input should be",
        ),
    ],
)
def test_follow_ups_are_checked_when_the_parent_is_parsed(
    then: list[dict[str, Any]], message: str
) -> None:
    raw = {"job_id": "up-1", "op": "complete_dataset", "dataset_id": "201", "then": then}
    with pytest.raises(InvalidRequest) as caught:
        parse_request("ingest", raw)
    assert message in caught.value.reason


def test_follow_ups_know_the_same_ops_as_the_registry() -> None:
    from bria_fleet_contracts.envelope import _OPS_BY_DOMAIN

    assert {domain: tuple(ops) for domain, ops in _OPS_BY_DOMAIN.items()} == OPS_BY_DOMAIN
