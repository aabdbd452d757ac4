"""One example request per op, valid against the simulator's seeded state (``seed``)."""

import json
from typing import Any

from bria_fleet_contracts import seed
from bria_fleet_contracts._base import ImageRef
from bria_fleet_contracts.caption import (
    CaptionMediaRequest,
    GeneratePrefixRequest,
    GenerateVisualSchemaRequest,
    RefineStructuredPromptRequest,
    RegenerateAllCaptionsRequest,
    UpdateCaptionRequest,
)
from bria_fleet_contracts.envelope import FollowUp, RequestBase
from bria_fleet_contracts.generation import (
    FiboGenerateImageRequest,
    FiboStructuredPromptRequest,
    ReimagineRequest,
    RestylePortraitRequest,
    TextToImageRequest,
    TextToVectorRequest,
)
from bria_fleet_contracts.ingest import (
    CompleteDatasetRequest,
    DatasetImage,
    DatasetSpec,
    IngestImagesRequest,
)
from bria_fleet_contracts.training import ModelSpec, StopTrainingRequest, TrainModelRequest

ASSETS = "https://assets.example.com"

_SCHEMA = json.dumps(
    {
        "style": "flat vector illustration, thick outlines",
        "palette": ["#1d3557", "#e63946", "#f1faee"],
        "subject": "a round orange cat mascot",
    }
)


def _job(domain: str, op: str) -> str:
    return f"example-{domain}-{op}"


def _images(count: int, folder: str = "samples") -> list[ImageRef]:
    return [ImageRef(url=f"{ASSETS}/{folder}/cat-{i}.png") for i in range(1, count + 1)]


def _ingest() -> list[RequestBase]:
    pipeline = [
        FollowUp(
            step="train",
            domain="training",
            request={
                "op": "train_model",
                "dataset_id": "{dataset_id}",
                "model": {"name": "mascot-light", "training_version": "light"},
                "then": [
                    {
                        "step": "generate",
                        "domain": "generation",
                        "request": {
                            "op": "text_to_image",
                            "model_id": "{model_id}",
                            "prompt": "the mascot waving on a beach",
                        },
                    }
                ],
            },
        )
    ]
    return [
        IngestImagesRequest(
            job_id=_job("ingest", "ingest_images"),
            project_id=seed.PROJECT_ID,
            dataset=DatasetSpec(name="mascot-v1"),
            images=[
                DatasetImage(image_name=f"cat-{i}.png", url=f"{ASSETS}/mascot/cat-{i}.png")
                for i in range(1, 6)
            ],
            complete_dataset=True,
            progress_every=2,
            metadata={"campaign": "spring"},
            then=pipeline,
        ),
        CompleteDatasetRequest(
            job_id=_job("ingest", "complete_dataset"), dataset_id=seed.DRAFT_DATASET_ID
        ),
    ]


def _caption() -> list[RequestBase]:
    return [
        GeneratePrefixRequest(
            job_id=_job("caption", "generate_prefix"),
            images=_images(6),
            ip_type="defined_character",
            dataset_id=seed.DRAFT_DATASET_ID,
        ),
        GenerateVisualSchemaRequest(
            job_id=_job("caption", "generate_visual_schema"),
            images=_images(5),
            dataset_id=seed.DRAFT_DATASET_ID,
        ),
        RefineStructuredPromptRequest(
            job_id=_job("caption", "refine_structured_prompt"),
            dataset_id=seed.DRAFT_DATASET_ID,
            structured_prompt=_SCHEMA,
            instruction="The character's name is Lucy.",
            apply_to="visual_schema",
        ),
        RegenerateAllCaptionsRequest(
            job_id=_job("caption", "regenerate_all_captions"), dataset_id=seed.DRAFT_DATASET_ID
        ),
        UpdateCaptionRequest(
            job_id=_job("caption", "update_caption"),
            dataset_id=seed.DRAFT_DATASET_ID,
            image_id=seed.DRAFT_DATASET_IMAGE_IDS[0],
            caption="sitting on a red chair, smiling",
        ),
        CaptionMediaRequest(
            job_id=_job("caption", "caption_media"),
            media_url=f"{ASSETS}/media/launch-teaser.png",
            kind="image",
            mode="simple",
        ),
    ]


def _training() -> list[RequestBase]:
    return [
        TrainModelRequest(
            job_id=_job("training", "train_model"),
            dataset_id=seed.COMPLETED_DATASET_ID,
            model=ModelSpec(
                name="example-light", training_version="light", training_mode="fully_automated"
            ),
            deadline_seconds=4 * 3600,
        ),
        StopTrainingRequest(job_id=_job("training", "stop_training"), model_id=seed.LIGHT_MODEL_ID),
    ]


def _generation() -> list[RequestBase]:
    return [
        TextToImageRequest(
            job_id=_job("generation", "text_to_image"),
            model_id=seed.LIGHT_MODEL_ID,
            prompt="the mascot reading a book in a cosy library",
            num_results=2,
            aspect_ratio="4:3",
            seed=42,
            guidance_method_1="controlnet_canny",
            guidance_method_1_scale=0.8,
            guidance_method_1_image_url=f"{ASSETS}/guidance/library-edges.png",
            metadata={"campaign": "spring"},
        ),
        TextToVectorRequest(
            job_id=_job("generation", "text_to_vector"),
            model_id=seed.LIGHT_MODEL_ID,
            prompt="the mascot as a flat icon",
            num_results=1,
        ),
        ReimagineRequest(
            job_id=_job("generation", "reimagine"),
            model_id=seed.LIGHT_MODEL_ID,
            prompt="the mascot on a city street",
            structure_image_url=f"{ASSETS}/structure/street-sketch.png",
            structure_ref_influence=0.75,
        ),
        RestylePortraitRequest(
            job_id=_job("generation", "restyle_portrait"),
            model_id=seed.LIGHT_MODEL_ID,
            id_image_url=f"{ASSETS}/portraits/person-1.jpg",
            model_influence=0.9,
            id_strength=0.7,
        ),
        FiboGenerateImageRequest(
            job_id=_job("generation", "fibo_generate_image"),
            model_id=seed.FIBO_MODEL_ID,
            prompt="the mascot skiing down a snowy slope",
            aspect_ratio="16:9",
        ),
        FiboStructuredPromptRequest(
            job_id=_job("generation", "fibo_structured_prompt"),
            model_id=seed.FIBO_MODEL_ID,
            prompt="the mascot in a hot-air balloon",
        ),
    ]


def example_requests() -> list[RequestBase]:
    """The examples, one per op, by domain and op order."""
    return [*_ingest(), *_caption(), *_training(), *_generation()]


def pipeline_example() -> IngestImagesRequest:
    """One ingest request that takes a brand's images all the way to generated assets.

    ingest → caption (regenerate all captions) → training → generation, each step a
    follow-up of the one before (docs/architecture.md §5), on the simulator's seeded project.
    """
    generate = {
        "step": "generate",
        "domain": "generation",
        "request": {
            "op": "text_to_image",
            "model_id": "{model_id}",
            "prompt": "the mascot waving from a hot-air balloon",
            "num_results": 2,
        },
    }
    train = {
        "step": "train",
        "domain": "training",
        "request": {
            "op": "train_model",
            "dataset_id": "{dataset_id}",
            "model": {"name": "pipeline-mascot-light", "training_version": "light"},
            "complete_dataset_if_needed": True,
            "then": [generate],
        },
    }
    caption = FollowUp(
        step="caption",
        domain="caption",
        request={"op": "regenerate_all_captions", "dataset_id": "{dataset_id}", "then": [train]},
    )
    return IngestImagesRequest(
        job_id="example-pipeline",
        project_id=seed.PROJECT_ID,
        dataset=DatasetSpec(name="pipeline-mascot"),
        images=[
            DatasetImage(image_name=f"mascot-{i:02d}.png", url=f"{ASSETS}/pipeline/{i:02d}.png")
            for i in range(1, 21)
        ],
        progress_every=5,
        metadata={"campaign": "pipeline-demo"},
        then=[caption],
    )


def example_payload(request: RequestBase) -> dict[str, Any]:
    """The example as sent on the wire: the fields it sets, ``job_id`` and ``op`` first."""
    body = request.model_dump(mode="json", exclude_unset=True)
    head: dict[str, Any] = {"job_id": request.job_id, "op": request.op}
    tail: dict[str, Any] = {key: body[key] for key in ("metadata", "then") if key in body}
    rest = {key: value for key, value in body.items() if key not in {*head, *tail}}
    return {**head, **rest, **tail}
