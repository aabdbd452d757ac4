"""The JSON shapes of the objects, as the tailored-generation documents show them."""

from typing import Any

from bria_fleet.sim.assets import AssetStore
from bria_fleet.sim.clock import iso
from bria_fleet.sim.entities import Dataset, Image, Model, Project


def asset_url(base_url: str, assets: AssetStore, asset_id: str) -> str:
    """The URL at which the simulator serves an asset."""
    return f"{base_url}/_sim/assets/{assets.get(asset_id).file_name}"


def project_view(project: Project) -> dict[str, Any]:
    """A project."""
    return {
        "id": project.id,
        "project_name": project.project_name,
        "project_description": project.project_description,
        "ip_name": project.ip_name,
        "ip_description": project.ip_description,
        "ip_medium": project.ip_medium,
        "ip_type": project.ip_type,
        "status": "active",
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
    }


def image_view(image: Image, base_url: str, assets: AssetStore) -> dict[str, Any]:
    """A dataset image (``file_name`` too, as the legacy document names it)."""
    return {
        "id": image.id,
        "dataset_id": image.dataset_id,
        "caption": image.caption,
        "caption_source": image.caption_source,
        "image_name": image.image_name,
        "file_name": image.image_name,
        "image_url": asset_url(base_url, assets, image.asset_id),
        "thumbnail_url": asset_url(base_url, assets, image.thumbnail_asset_id),
        "created_at": iso(image.created_at),
        "updated_at": iso(image.updated_at),
    }


def dataset_view(
    dataset: Dataset,
    now: float,
    base_url: str,
    assets: AssetStore,
    *,
    with_images: bool = False,
) -> dict[str, Any]:
    """A dataset; Get Dataset by ID and Clone include its images."""
    view: dict[str, Any] = {
        "id": dataset.id,
        "project_id": dataset.project_id,
        "name": dataset.name,
        "caption_prefix": dataset.caption_prefix,
        "status": dataset.status.value,
        "captions_update_status": dataset.captions_update_status(now),
        "images_count": len(dataset.images),
    }
    if dataset.visual_schema is not None:
        view["visual_schema"] = dataset.visual_schema
    view.update(dataset.legacy)
    if with_images:
        view["images"] = [image_view(i, base_url, assets) for i in dataset.images.values()]
    view["created_at"] = iso(dataset.created_at)
    view["updated_at"] = iso(dataset.updated_at)
    return view


def model_view(model: Model, now: float) -> dict[str, Any]:
    """A model; ``status`` and ``updated_at`` follow its training timestamps."""
    return {
        "id": model.id,
        "name": model.name,
        "description": model.description,
        "status": model.status_at(now).value,
        "training_version": model.training_version,
        "training_mode": model.training_mode,
        "generation_prefix": model.generation_prefix,
        "project_id": model.project_id,
        "dataset_id": model.dataset_id,
        "created_at": iso(model.created_at),
        "updated_at": iso(model.updated_at_at(now)),
    }
