"""Rules shared by every generation route, and the outputs they produce."""

import base64
import binascii
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bria_fleet.sim import render
from bria_fleet.sim.assets import Asset, AssetStore
from bria_fleet.sim.entities import Model, ModelStatus
from bria_fleet.sim.errors import BadRequestError, NotFoundError, UnprocessableError
from bria_fleet.sim.images import ImageInfo, inspect_image
from bria_fleet.sim.state import State

IP_WARNING = (
    "This prompt may contain intellectual property (IP)-protected content. To ensure compliance "
    "and safety, certain elements may be omitted or altered. As a result, the output may not "
    "fully meet your request."
)
PROTECTED_NAMES = (
    "mickey mouse",
    "disney",
    "pikachu",
    "pokemon",
    "spider-man",
    "spiderman",
    "batman",
    "superman",
    "marvel",
    "star wars",
    "darth vader",
    "harry potter",
    "coca-cola",
    "coca cola",
    "nike",
    "adidas",
    "lego",
    "barbie",
    "hello kitty",
    "taylor swift",
)
BLOCKED_TERMS = ("nsfw", "nude", "naked", "gore", "porn")
CONTROLNETS = frozenset(
    {"controlnet_canny", "controlnet_depth", "controlnet_recoloring", "controlnet_color_grid"}
)
IMAGE_PROMPT_MODES = {"regular": "regular", "style_only": "style_only", "style": "style_only"}
LEGACY_VERSIONS = frozenset({"light", "max", "bria-2.3", "bria-3.2"})

_PROTECTED = re.compile(r"\b(" + "|".join(re.escape(n) for n in PROTECTED_NAMES) + r")\b", re.I)
_BLOCKED = re.compile(r"(" + "|".join(BLOCKED_TERMS) + r")", re.I)


def ip_warning(prompt: str | None) -> str | None:
    """The documented warning when the prompt names protected IP, else ``None``."""
    return IP_WARNING if prompt and _PROTECTED.search(prompt) else None


def moderate_prompt(prompt: str | None, enabled: bool) -> None:
    """With prompt moderation on, a prompt with a restricted term fails with 422."""
    if enabled and prompt and _BLOCKED.search(prompt):
        raise UnprocessableError("The prompt was blocked by content moderation")


def moderate_inputs(references: Iterable[str | None], enabled: bool) -> None:
    """With content moderation on, the first blocked input image fails the whole request."""
    if not enabled:
        return
    for reference in references:
        if reference and _BLOCKED.search(reference):
            raise UnprocessableError(f"Input image blocked by content moderation: {reference}")


def decode_image(value: str, field_name: str) -> ImageInfo:
    """Decode a base64 image field (a data URL is accepted too) and recognise the image."""
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadRequestError(f"{field_name} is not valid base64") from error
    return inspect_image(data)


@dataclass(frozen=True)
class Guidance:
    """One ControlNet guidance method of a request."""

    method: str | None
    scale: float | None
    image_file: str | None
    image_url: str | None


def check_guidance(
    methods: Sequence[Guidance],
    image_prompt_mode: str | None,
    image_prompt_file: str | None,
    image_prompt_urls: Sequence[str] | None,
) -> list[str]:
    """Apply the guidance-method rules; return the input image URLs (for moderation)."""
    if len(methods) > 1 and methods[1].method and not methods[0].method:
        raise BadRequestError("guidance_method_2 can be used only together with guidance_method_1")
    sizes: list[tuple[int, int]] = []
    urls: list[str] = []
    for number, guidance in enumerate(methods, start=1):
        if not guidance.method:
            continue
        if guidance.method not in CONTROLNETS:
            raise BadRequestError(f"guidance_method_{number} must be one of {sorted(CONTROLNETS)}")
        if guidance.scale is None:
            raise BadRequestError(f"guidance_method_{number} needs guidance_method_{number}_scale")
        if not guidance.image_file and not guidance.image_url:
            needed = f"guidance_method_{number}_image_file"
            raise BadRequestError(f"guidance_method_{number} needs {needed}")
        if guidance.image_file:
            info = decode_image(guidance.image_file, f"guidance_method_{number}_image_file")
            sizes.append((info.width, info.height))
        if guidance.image_url:
            urls.append(guidance.image_url)
    if len(sizes) == 2 and sizes[0][0] * sizes[1][1] != sizes[1][0] * sizes[0][1]:
        raise BadRequestError("All ControlNet input images must have the same aspect ratio")
    if image_prompt_mode is not None and image_prompt_mode.lower() not in IMAGE_PROMPT_MODES:
        raise BadRequestError("image_prompt_mode must be 'regular' or 'style_only'")
    if image_prompt_mode is not None and not image_prompt_file and not image_prompt_urls:
        raise BadRequestError("image_prompt_mode needs image_prompt_file or image_prompt_urls")
    if image_prompt_file:
        decode_image(image_prompt_file, "image_prompt_file")
    urls.extend(image_prompt_urls or [])
    return urls


def trained_model(state: State, model_id: str | int, versions: Iterable[str], route: str) -> Model:
    """The model behind ``model_id``: 404 if unknown, 400 unless trained and compatible."""
    try:
        model = state.model(int(model_id))
    except ValueError as error:
        raise NotFoundError(f"Model {model_id} not found") from error
    status = model.status_at(state.now())
    if status is not ModelStatus.COMPLETED:
        raise BadRequestError(f"Model {model.id} is not trained (status {status.value})")
    allowed = sorted(versions)
    if model.training_version not in allowed:
        raise BadRequestError(
            f"{route} does not support training_version {model.training_version!r} "
            f"(supported: {', '.join(allowed)})"
        )
    return model


def seeds(rng: random.Random, seed: int | None, count: int) -> list[int]:
    """``count`` seeds: consecutive from ``seed`` when given, random otherwise."""
    if seed is not None:
        return [seed + offset for offset in range(count)]
    return [rng.randrange(2**31) for _ in range(count)]


def outputs(
    assets: AssetStore,
    extension: str,
    aspect_ratio: str,
    seed_values: Sequence[int],
    ready_at: float,
) -> list[Asset]:
    """One generated PNG or SVG per seed, served from ``ready_at`` on."""
    width, height = render.size_for(aspect_ratio)
    return [assets.picture(extension, width, height, s, ready_at) for s in seed_values]
