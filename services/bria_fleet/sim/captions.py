"""Deterministic text the simulator "generates": prefixes, captions, schemas, prompts."""

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import PurePosixPath

_POSES = (
    "standing in a confident pose",
    "sitting with a gentle smile",
    "walking through a sunny park",
    "shown in a close-up portrait",
    "isolated on a plain background",
    "seen from a three-quarter angle",
    "in a dynamic action pose",
    "resting beside a window",
)
_DETAILS = (
    "with soft lighting",
    "with bold outlines",
    "in warm colours",
    "in cool pastel tones",
    "with a subtle shadow",
    "with crisp clean edges",
)
_MEDIUM_WORDS = {"illustration": "An illustration", "photography": "A photograph"}


def _digest(*parts: str) -> int:
    joined = "\x1f".join(parts).encode()
    return int.from_bytes(hashlib.sha256(joined).digest()[:8], "big")


def _words(image_name: str) -> str:
    stem = PurePosixPath(image_name).stem
    return re.sub(r"[_\-.]+", " ", stem).strip() or "image"


def default_caption_prefix(
    ip_medium: str, ip_type: str, project_name: str, ip_name: str, ip_description: str
) -> str:
    """The prefix every new dataset gets, built from its project's IP fields."""
    opening = _MEDIUM_WORDS.get(ip_medium, "An image")
    subject = (
        f"of a character named {ip_name}"
        if ip_type == "defined_character" and ip_name
        else f"in the style of {project_name or 'the project'}"
    )
    description = f", {ip_description}" if ip_description else ""
    return f"{opening} {subject}{description},"


def caption_for(caption_prefix: str, image_name: str) -> str:
    """The automatic caption: the same prefix and name always give the same caption."""
    value = _digest(caption_prefix, image_name)
    pose = _POSES[value % len(_POSES)]
    detail = _DETAILS[(value // len(_POSES)) % len(_DETAILS)]
    return f"{_words(image_name)}, {pose} {detail}"


def generated_prefix(sample_images: Sequence[str], ip_type: str) -> str:
    """An "advanced" caption prefix derived from the sample images."""
    value = _digest(ip_type, *sample_images)
    detail = _DETAILS[value % len(_DETAILS)]
    return f"An image of a {ip_type.replace('_', ' ')} {detail}, consistent across the set,"


def visual_schema(sample_images: Sequence[str]) -> str:
    """A FIBO visual schema (a JSON string) derived from the sample images."""
    value = _digest(*sample_images)
    schema = {
        "style_medium": "illustration" if value % 2 else "photograph",
        "artistic_style": _DETAILS[value % len(_DETAILS)].removeprefix("with ").removeprefix("in "),
        "lighting": "soft, even studio light",
        "color_palette": ["#%06x" % ((value >> shift) & 0xFFFFFF) for shift in (0, 24)],
        "composition": "centered subject with generous margins",
        "sample_count": len(sample_images),
    }
    return json.dumps(schema, sort_keys=True)


def refine(structured: str, instruction: str) -> str:
    """``structured`` (a JSON object string) with the instruction recorded as a refinement."""
    try:
        loaded = json.loads(structured)
    except ValueError:
        loaded = {"description": structured}
    data = loaded if isinstance(loaded, dict) else {"description": loaded}
    refinements = data.get("refinements")
    data["refinements"] = [*(refinements if isinstance(refinements, list) else []), instruction]
    return json.dumps(data, sort_keys=True)


def structured_prompt(prompt: str, schema: str | None, seed: int) -> str:
    """The structured prompt the VLM bridge would write for ``prompt`` under ``schema``."""
    data: dict[str, object] = {
        "short_description": prompt,
        "objects": [{"description": word} for word in prompt.split()[:3]],
        "seed_hint": seed,
    }
    if schema:
        try:
            data["visual_schema"] = json.loads(schema)
        except ValueError:
            data["visual_schema"] = schema
    return json.dumps(data, sort_keys=True)


def media_caption(url: str, mode: str) -> str:
    """The caption of an image or video found at ``url``."""
    value = _digest(url, mode)
    name = _words(PurePosixPath(url.split("?")[0]).name or "media")
    return f"{name}, {_POSES[value % len(_POSES)]} {_DETAILS[value % len(_DETAILS)]}"


def media_tags(url: str, count: int, vocabulary: Sequence[str] | None) -> list[str]:
    """``count`` tags for ``url``, chosen from ``vocabulary`` when one is given."""
    pool = list(vocabulary) if vocabulary else [*_words(url).split(), "subject", "scene", "color"]
    start = _digest(url) % max(len(pool), 1)
    ordered = pool[start:] + pool[:start]
    return ordered[: min(count, len(ordered))]
