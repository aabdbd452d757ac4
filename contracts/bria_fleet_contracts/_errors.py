"""Turn pydantic validation errors into short, readable reasons."""

from collections.abc import Collection, Sequence

from pydantic_core import ErrorDetails

_PREFIXES = ("Value error, ", "Assertion failed, ")


def format_loc(
    loc: Sequence[str | int], *, drop_tags: Collection[str] = (), prefix: str = ""
) -> str:
    """``('images', 2, 'url')`` -> ``images[2].url``; a leading union tag is dropped."""
    parts = list(loc)
    if parts and isinstance(parts[0], str) and parts[0] in drop_tags:
        parts = parts[1:]
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def format_message(msg: str) -> str:
    """Strip pydantic's 'Value error, ' style prefixes."""
    for prefix in _PREFIXES:
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def describe_errors(
    errors: Sequence[ErrorDetails],
    *,
    drop_tags: Collection[str] = (),
    prefix: str = "",
    limit: int = 5,
) -> str:
    """One ``location: message`` item per error, joined by '; ', at most ``limit`` of them."""
    distinct: dict[str, None] = {}  # ordered, and linear however many errors there are
    for error in errors:
        loc = format_loc(error["loc"], drop_tags=drop_tags, prefix=prefix)
        msg = format_message(error["msg"])
        distinct[f"{loc}: {msg}" if loc else msg] = None
    items = list(distinct)
    shown = items[:limit]
    if len(items) > limit:
        shown.append(f"... and {len(items) - limit} more")
    return "; ".join(shown)
