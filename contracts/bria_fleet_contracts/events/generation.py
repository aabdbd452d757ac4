"""Generation events (topic ``bria.generation.events``)."""

from typing import ClassVar, Literal

from pydantic import Field

from bria_fleet_contracts._base import EntityId, EventModel
from bria_fleet_contracts.envelope import EventBase, EventData, EventError
from bria_fleet_contracts.generation import GenerationRequest
from bria_fleet_contracts.topics import Domain

GenerationOp = Literal[
    "text_to_image",
    "text_to_vector",
    "reimagine",
    "restyle_portrait",
    "fibo_generate_image",
    "fibo_structured_prompt",
]


class GeneratedAsset(EventModel):
    """One generated file."""

    url: str
    kind: Literal["image", "vector"]
    seed: int | None = None


class GenerationCompletedData(EventData):
    """The generated assets (none for fibo_structured_prompt), with the request echoed."""

    op: GenerationOp
    model_id: EntityId
    assets: list[GeneratedAsset] = Field(default_factory=list)
    structured_prompt: str | None = None
    ip_warning: str | None = Field(
        default=None, description="The API's warning that the prompt may reference protected IP."
    )
    api_request_id: str | None = Field(default=None, description="The API's id of the request.")
    request: GenerationRequest

    def placeholders(self) -> dict[str, str]:
        """The scalar fields, plus ``image_url`` and ``seed`` of the first asset."""
        values = super().placeholders()
        if self.assets:
            values["image_url"] = self.assets[0].url
            if self.assets[0].seed is not None:
                values["seed"] = str(self.assets[0].seed)
        return values


class GenerationFailedData(EventData):
    """What the failed job was about."""

    op: GenerationOp | None = Field(
        default=None, description="None when the request did not parse."
    )
    model_id: EntityId | None = None


class GenerationEventBase(EventBase):
    """Base of generation events."""

    domain: ClassVar[Domain] = "generation"


class GenerationCompletedEvent(GenerationEventBase):
    """Terminal: THE generated-asset event."""

    terminal: ClassVar[bool] = True
    type: Literal["generation.completed"] = "generation.completed"
    data: GenerationCompletedData


class GenerationFailedEvent(GenerationEventBase):
    """Terminal: the job failed; ``error`` says why."""

    terminal: ClassVar[bool] = True
    type: Literal["generation.failed"] = "generation.failed"
    data: GenerationFailedData
    error: EventError
