"""Reading response bodies whose shape the documents leave open, into our models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bria_fleet.api._errors import InvalidResponse
from bria_fleet.api._models import (
    ApiErrorDetail,
    AsyncJob,
    CaptionResult,
    Dataset,
    GeneratedAsset,
    GenerationOutcome,
    GenerationResult,
    OperationKind,
    OperationStatus,
    StructuredData,
    TailoredModel,
)
from bria_fleet.api._status import JobStatus, ModelStatus, OperationState, normalise

__all__ = [
    "caption_result",
    "caption_update_status",
    "first_value",
    "generation_outcome",
    "job_status",
    "structured",
    "training_status",
    "validate",
]

_M = TypeVar("_M", bound=BaseModel)

# Held here: pydantic caches a parametrized generic only weakly, so a ``OperationStatus[X]``
# written in a function was rebuilt (schema and all, milliseconds) after every garbage
# collection; at thousands of status requests a second that was a few percent of the CPU.
_GenerationStatus = OperationStatus[GenerationResult]
_TrainingStatus = OperationStatus[TailoredModel]
_CaptionUpdateStatus = OperationStatus[Dataset]
_URL_KEYS = (
    "urls",
    "image_urls",
    "image_url",
    "url",
    "svg_url",
    "vector_url",
    "result_url",
    "image_res",
)


def validate(model: type[_M], body: Any, *, what: str) -> _M:
    """``body`` as ``model``, or ``InvalidResponse`` saying which answer was unreadable."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidResponse(f"{what} answered a body we cannot read: {exc}") from exc


def first_value(body: Any, *keys: str) -> Any:
    """The first of ``keys`` present (not ``None``) in a dict body, else ``None``."""
    if isinstance(body, dict):
        for key in keys:
            if body.get(key) is not None:
                return body[key]
    return None


def generation_outcome(body: Any) -> GenerationOutcome:
    """A generation answer: an accepted job (``request_id`` and no assets) or a result."""
    result = generation_result(body)
    request_id = first_value(body, "request_id", "task_id")
    if not result.assets and result.structured_prompt is None and request_id is not None:
        return AsyncJob(request_id=str(request_id), status_url=first_value(body, "status_url"))
    return result


def generation_result(body: Any) -> GenerationResult:
    """Assets, IP warning and v2 prompt outputs, wherever the body puts them."""
    inner = body.get("result") if isinstance(body, dict) else None
    assets = _assets(body)
    sources = [body, inner] if isinstance(inner, dict) else [body]
    request_id = first_value(body, "request_id", "task_id")
    return GenerationResult(
        assets=assets,
        ip_warning=_warning(body),
        structured_prompt=_pick(sources, "structured_prompt"),
        prompt=_pick(sources, "prompt"),
        refined_prompt=_pick(sources, "refined_prompt"),
        request_id=None if request_id is None else str(request_id),
    )


def _pick(sources: list[Any], key: str) -> Any:
    for source in sources:
        if (value := first_value(source, key)) is not None:
            return value
    return None


def _assets(body: Any) -> list[GeneratedAsset]:
    if isinstance(body, list):
        return [asset for item in body for asset in _assets(item)]
    if isinstance(body, str):
        return [GeneratedAsset(url=body)] if body.startswith(("http://", "https://")) else []
    if not isinstance(body, dict):
        return []
    for key in _URL_KEYS:
        value = body.get(key)
        urls = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        urls = [url for url in urls if isinstance(url, str)]
        if urls:
            seeds = body.get("seeds")
            if not (isinstance(seeds, list) and len(seeds) == len(urls)):
                seeds = [body.get("seed")] * len(urls)
            return [
                GeneratedAsset(url=url, seed=seed if _is_int(seed) else None)
                for url, seed in zip(urls, seeds, strict=True)
            ]
    for key in ("result", "results", "images", "vectors", "data"):
        if body.get(key) is not None:
            return _assets(body[key])
    return []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _warning(body: Any) -> str | None:
    found: list[str] = []

    def visit(node: Any, depth: int) -> None:
        if depth > 3:
            return
        if isinstance(node, list):
            for item in node:
                visit(item, depth + 1)
        elif isinstance(node, dict):
            for key, value in node.items():
                if "warning" in key.lower():
                    items = value if isinstance(value, list) else [value]
                    found.extend(str(v) for v in items if isinstance(v, str) and v)
                else:
                    visit(value, depth + 1)

    visit(body, 0)
    return "\n".join(dict.fromkeys(found)) or None


def job_status(body: Any, request_id: str) -> OperationStatus[GenerationResult]:
    """A ``/v2/status`` or ``/api/v1/bria/status`` answer as an operation status."""
    raw = first_value(body, "status")
    result = body.get("result") if isinstance(body, dict) else None
    error = body.get("error") if isinstance(body, dict) else None
    status = normalise(JobStatus, raw) if raw is not None else _inferred_status(body)
    detail = None
    if status is JobStatus.ERROR or error:
        detail = _error_detail(error)
    return _GenerationStatus(
        kind=OperationKind.GENERATION,
        id=request_id,
        state=status.state,
        raw_status=None if raw is None else str(raw),
        updated_at=_timestamp(first_value(body, "updated_at", "completed_at")),
        result=generation_result(result) if result is not None else None,
        error=detail,
    )


def _inferred_status(body: Any) -> JobStatus:
    """The status of an answer that names none, read as the vendor's SDK reads it: an
    ``error`` means failed, a ``result`` completed, a ``status_url`` still in progress."""
    if not isinstance(body, dict):
        return JobStatus.UNKNOWN
    if body.get("error") is not None:
        return JobStatus.ERROR
    if body.get("result") is not None:
        return JobStatus.COMPLETED
    if body.get("status_url") is not None:
        return JobStatus.IN_PROGRESS
    return JobStatus.UNKNOWN


def _error_detail(error: Any) -> ApiErrorDetail:
    if isinstance(error, dict):
        code = error.get("code")
        message = first_value(error, "message", "detail", "details") or ""
        return ApiErrorDetail(code=None if code is None else str(code), message=str(message))
    return ApiErrorDetail(message="" if error is None else str(error))


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def training_status(model: TailoredModel) -> OperationStatus[TailoredModel]:
    """A model read as the status of its training."""
    error = None
    if model.status is ModelStatus.FAILED:
        error = ApiErrorDetail(code="training_failed", message=f"model {model.id} failed")
    return _TrainingStatus(
        kind=OperationKind.TRAINING,
        id=model.id,
        state=model.status.state,
        raw_status=model.raw_status,
        updated_at=model.updated_at,
        result=model,
        error=error,
    )


def caption_update_status(dataset: Dataset) -> OperationStatus[Dataset]:
    """A dataset read as the status of its caption regeneration."""
    state = dataset.captions_update_status.state
    error = None
    if state is OperationState.FAILED:
        error = ApiErrorDetail(
            code="caption_update_failed", message=f"dataset {dataset.id} captions failed"
        )
    return _CaptionUpdateStatus(
        kind=OperationKind.CAPTION_UPDATE,
        id=dataset.id,
        state=state,
        raw_status=dataset.raw_captions_update_status,
        updated_at=dataset.updated_at,
        result=dataset,
        error=error,
    )


def caption_result(body: Any) -> CaptionResult:
    """A standalone caption answer (its structure is undocumented; the raw one is kept)."""
    if isinstance(body, str):
        return CaptionResult(caption=body, raw=body)
    if isinstance(body, list):
        tags = [item for item in body if isinstance(item, str)]
        return CaptionResult(tags=tags, raw=body)
    caption = first_value(body, "caption", "text", "description", "result")
    tags = first_value(body, "tags")
    return CaptionResult(
        caption=caption if isinstance(caption, str) else None,
        tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
        raw=body,
    )


def structured(body: Any, *keys: str) -> StructuredData:
    """A visual schema or structured prompt from its answer (object or JSON text)."""
    value = first_value(body, *keys)
    if isinstance(value, dict | str):
        return value
    if isinstance(body, dict | str):
        return body
    raise InvalidResponse(f"expected one of {', '.join(keys)} in the answer, got {body!r:.200}")
