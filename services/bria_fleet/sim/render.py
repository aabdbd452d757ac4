"""Small but valid files: PNG (zlib + struct), SVG and safetensors."""

import json
import struct
import zlib

SHORT_SIDE = 256


def size_for(aspect_ratio: str, short_side: int = SHORT_SIDE) -> tuple[int, int]:
    """Width and height for an ``"W:H"`` aspect ratio with the given short side."""
    try:
        across, down = (int(part) for part in aspect_ratio.split(":"))
    except ValueError:
        across, down = 1, 1
    if across >= down:
        return round(short_side * across / down), short_side
    return short_side, round(short_side * down / across)


def _colour(seed: int, shift: int) -> tuple[int, int, int]:
    value = (seed * 2654435761 >> shift) & 0xFFFFFF
    return value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF


def _chunk(kind: bytes, payload: bytes) -> bytes:
    checksum = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)


def png(width: int, height: int, seed: int) -> bytes:
    """An RGB PNG with a vertical gradient between two colours derived from ``seed``."""
    top, bottom = _colour(seed, 0), _colour(seed, 7)
    rows = []
    for y in range(height):
        mix = y / max(height - 1, 1)
        pixel = bytes(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + pixel * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def svg(width: int, height: int, seed: int) -> bytes:
    """An SVG document with a background and two shapes coloured from ``seed``."""
    back, front = ("#{:02x}{:02x}{:02x}".format(*_colour(seed, shift)) for shift in (0, 7))
    radius = min(width, height) // 3
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="{back}"/>'
        f'<circle cx="{width // 2}" cy="{height // 2}" r="{radius}" fill="{front}"/>'
        f'<path d="M0 {height} L{width // 2} {height // 2} L{width} {height} Z" fill="{front}"/>'
        "</svg>"
    ).encode()


def safetensors(model_id: int) -> bytes:
    """A valid safetensors file holding one 2x2 float32 tensor."""
    header = {
        "__metadata__": {"format": "pt", "model_id": str(model_id)},
        "lora.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + struct.pack("<4f", 0.0, 0.5, 1.0, 1.5)
