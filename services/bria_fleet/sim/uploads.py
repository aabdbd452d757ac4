"""Turn the documented upload forms (multipart, base64 JSON, URL, zip) into new images."""

import base64
import binascii
import io
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import UploadFile

from bria_fleet.sim.bodies import json_object
from bria_fleet.sim.errors import (
    BadRequestError,
    PreconditionFailedError,
    UnprocessableError,
    UnsupportedMediaError,
)
from bria_fleet.sim.images import SUPPORTED, inspect_image
from bria_fleet.sim.state import NewImage

# Finds the bytes behind a URL the simulator itself serves (its own assets), if any.
UrlResolver = Callable[[str], bytes | None]
_UNSUPPORTED_SUFFIXES = frozenset({".gif", ".bmp", ".tif", ".tiff", ".svg", ".heic", ".avif"})


def _decode_base64(value: str) -> bytes:
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadRequestError("file is not valid base64") from error


def new_image(
    data: bytes | None,
    image_url: str | None,
    image_name: str | None,
    file_name: str | None,
    min_side: int,
    resolve: UrlResolver,
) -> NewImage:
    """One image from bytes or a URL, checked like the engine checks uploads."""
    if (data is None) == (not image_url):
        raise BadRequestError("One of the parameters file or image_url must be provided")
    source_url = None
    if data is None and image_url:
        parts = urlsplit(image_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UnprocessableError("The URL does not point to a valid image or is inaccessible")
        suffix = PurePosixPath(parts.path).suffix.lower()
        if suffix in _UNSUPPORTED_SUFFIXES:
            supported = ", ".join(SUPPORTED)
            message = f"Invalid file type. Supported file types are {supported}."
            raise UnsupportedMediaError(message)
        data, source_url = resolve(image_url), image_url
        file_name = file_name or PurePosixPath(parts.path).name
    if data is None:
        return NewImage(image_name or file_name or "image", source_url=source_url)
    info = inspect_image(data)
    if min(info.width, info.height) < min_side:
        raise PreconditionFailedError(
            f"Image is {info.width}x{info.height}; the minimum is {min_side}x{min_side}"
        )
    name = image_name or file_name or f"image.{info.format}"
    return NewImage(name, data, info, source_url)


async def _form_fields(request: Request) -> tuple[bytes | None, str | None, str | None, str | None]:
    form = await request.form()
    file = form.get("file")
    data, file_name = None, None
    if isinstance(file, UploadFile):
        data, file_name = await file.read(), file.filename
    elif isinstance(file, str) and file:
        data = _decode_base64(file)
    image_url, image_name = form.get("image_url"), form.get("image_name")
    return (
        data,
        image_url if isinstance(image_url, str) and image_url else None,
        image_name if isinstance(image_name, str) and image_name else None,
        file_name,
    )


async def read_upload(request: Request, min_side: int, resolve: UrlResolver) -> NewImage:
    """Upload Image: multipart/form-data (legacy) or JSON with base64 ``file`` or ``image_url``."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        data, image_url, image_name, file_name = await _form_fields(request)
        return new_image(data, image_url, image_name, file_name, min_side, resolve)
    if content_type and not content_type.startswith("application/json"):
        raise UnsupportedMediaError(f"Unsupported Content-Type {content_type!r}")
    body: dict[str, Any] = await json_object(request)
    file, image_url, image_name = body.get("file"), body.get("image_url"), body.get("image_name")
    if file is not None and not isinstance(file, str):
        raise BadRequestError("file must be a base64 string")
    data = _decode_base64(file) if file else None
    return new_image(
        data,
        image_url if isinstance(image_url, str) else None,
        image_name if isinstance(image_name, str) else None,
        None,
        min_side,
        resolve,
    )


def _zip_images(archive: bytes, min_side: int, resolve: UrlResolver) -> list[NewImage]:
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as error:
        raise BadRequestError("The bulk upload must be a zip file") from error
    images = []
    with bundle:
        for entry in bundle.infolist():
            name = PurePosixPath(entry.filename).name
            if entry.is_dir() or name.startswith(".") or "__MACOSX" in entry.filename:
                continue
            images.append(new_image(bundle.read(entry), None, name, name, min_side, resolve))
    if not images:
        raise BadRequestError("The zip file holds no images")
    return images


async def read_bulk(request: Request, min_side: int, resolve: UrlResolver) -> list[NewImage]:
    """Bulk upload: a zip as multipart ``file`` or as the raw body; any bad image fails all."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise BadRequestError("The zip file must be sent as the multipart field 'file'")
        return _zip_images(await file.read(), min_side, resolve)
    if content_type.startswith(("application/zip", "application/octet-stream")):
        return _zip_images(await request.body(), min_side, resolve)
    raise UnsupportedMediaError("Bulk upload takes a zip file (multipart field 'file')")


def read_local_file(path: str) -> bytes:
    """The bytes of a file on this machine (Vision Studio's ``file_path``); 422 if unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise UnprocessableError(f"Cannot read file_path {path!r}") from error
