"""Our request models as the JSON bodies both backends share (Bria's own field names)."""

from __future__ import annotations

from typing import Any

from bria_fleet.api._requests import ImageSource, TailoredImageRequest

__all__ = ["compact", "image_field", "tailored_image_body", "wire_id"]


def compact(**fields: Any) -> dict[str, Any]:
    """The fields that are set (``None`` means "not sent")."""
    return {key: value for key, value in fields.items() if value is not None}


def wire_id(value: str) -> int | str:
    """An id as a JSON body wants it: the integer when it is one (the engine's ids are)."""
    return int(value) if value.isascii() and value.isdigit() else value


def image_field(source: ImageSource) -> str:
    """The URL or the base64 data of an image."""
    return source.url if source.url is not None else source.base64 or ""


def tailored_image_body(request: TailoredImageRequest) -> dict[str, Any]:
    """A text-to-image/vector body: guidance methods and the image prompt as flat fields."""
    body = request.model_dump(exclude={"guidance_methods", "image_prompt"}, exclude_none=True)
    for number, guidance in enumerate(request.guidance_methods, start=1):
        prefix = f"guidance_method_{number}"
        body[prefix] = guidance.method
        body[f"{prefix}_scale"] = guidance.scale
        if guidance.image.base64 is not None:
            body[f"{prefix}_image_file"] = guidance.image.base64
        else:
            body[f"{prefix}_image_url"] = guidance.image.url
    prompt = request.image_prompt
    if prompt is not None:
        body["image_prompt_mode"] = prompt.mode
        body["image_prompt_scale"] = prompt.scale
        if prompt.image_base64 is not None:
            body["image_prompt_file"] = prompt.image_base64
        else:
            body["image_prompt_urls"] = prompt.image_urls
    return body
