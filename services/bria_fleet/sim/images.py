"""Recognise uploaded image bytes: format (jpeg, png, webp) and dimensions, without PIL."""

import struct
from dataclasses import dataclass

from bria_fleet.sim.errors import UnprocessableError, UnsupportedMediaError

SUPPORTED = ("jpeg", "png", "webp")


@dataclass(frozen=True)
class ImageInfo:
    """What the simulator needs to know about an uploaded image."""

    format: str
    width: int
    height: int

    @property
    def media_type(self) -> str:
        """The image's MIME type."""
        return f"image/{self.format}"


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise UnprocessableError("The PNG image is truncated or invalid")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            index += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    raise UnprocessableError("The JPEG image has no frame header")


def _webp(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    raise UnprocessableError("The WEBP image is truncated or invalid")


def inspect_image(data: bytes) -> ImageInfo:
    """Format and size of ``data``; 415 for another file type, 422 for an unreadable image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageInfo("png", *_png(data))
    if data.startswith(b"\xff\xd8\xff"):
        return ImageInfo("jpeg", *_jpeg(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageInfo("webp", *_webp(data))
    raise UnsupportedMediaError("Invalid file type. Supported file types are jpeg, jpg, png, webp.")
