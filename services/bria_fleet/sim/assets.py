"""Files the simulator serves at ``/_sim/assets/<id>.<ext>``: uploads and generated output."""

import itertools
from dataclasses import dataclass

from bria_fleet.sim import render

_EXTENSIONS = {"png": "image/png", "svg": "image/svg+xml", "jpeg": "image/jpeg"}
_EXTENSIONS |= {"webp": "image/webp", "safetensors": "application/octet-stream"}


@dataclass
class Asset:
    """One file: stored bytes, or a recipe rendered on first read."""

    id: str
    extension: str
    ready_at: float
    data: bytes | None = None
    width: int = render.SHORT_SIDE
    height: int = render.SHORT_SIDE
    seed: int = 0
    model_id: int = 0

    @property
    def media_type(self) -> str:
        """The Content-Type to serve it with."""
        return _EXTENSIONS[self.extension]

    @property
    def file_name(self) -> str:
        """``<id>.<ext>``, the last segment of its URL."""
        return f"{self.id}.{self.extension}"

    def content(self) -> bytes:
        """The file's bytes, rendered once."""
        if self.data is None:
            if self.extension == "png":
                self.data = render.png(self.width, self.height, self.seed)
            elif self.extension == "svg":
                self.data = render.svg(self.width, self.height, self.seed)
            else:
                self.data = render.safetensors(self.model_id)
        return self.data


class AssetStore:
    """All assets by id; an asset is served only once its ``ready_at`` has passed."""

    def __init__(self) -> None:
        self._assets: dict[str, Asset] = {}
        self._ids = itertools.count(1)

    def _add(self, asset: Asset) -> Asset:
        self._assets[asset.id] = asset
        return asset

    def _new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids):06d}"

    def stored(self, data: bytes, image_format: str, now: float) -> Asset:
        """Keep uploaded bytes (``image_format`` is jpeg, png or webp)."""
        return self._add(Asset(self._new_id("upload"), image_format, now, data=data))

    def picture(
        self, extension: str, width: int, height: int, seed: int, ready_at: float, kind: str = "gen"
    ) -> Asset:
        """A generated PNG or SVG, available from ``ready_at`` on."""
        asset = Asset(self._new_id(kind), extension, ready_at, width=width, height=height)
        asset.seed = seed
        return self._add(asset)

    def model_file(self, model_id: int, now: float) -> Asset:
        """The downloadable weights of a trained model."""
        asset = Asset(self._new_id("model"), "safetensors", now, model_id=model_id)
        return self._add(asset)

    def find(self, file_name: str, now: float) -> Asset | None:
        """The ready asset called ``file_name`` (``<id>.<ext>``), if any."""
        asset_id, _, extension = file_name.rpartition(".")
        asset = self._assets.get(asset_id)
        if asset is None or asset.extension != extension or now < asset.ready_at:
            return None
        return asset

    def get(self, asset_id: str) -> Asset:
        """The asset with ``asset_id`` (it must exist)."""
        return self._assets[asset_id]

    def clear(self) -> None:
        """Forget every asset."""
        self._assets.clear()
