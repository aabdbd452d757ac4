"""Write (or check) the generated artefacts in the repository's ``contracts/`` directory.

python -m bria_fleet_contracts.generate            # write
python -m bria_fleet_contracts.generate --check    # exit 1 listing stale files
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

from bria_fleet_contracts.asyncapi import build_asyncapi
from bria_fleet_contracts.catalogue import (
    build_catalogue,
    event_example_path,
    request_example_path,
)
from bria_fleet_contracts.event_examples import example_event
from bria_fleet_contracts.events import EventType
from bria_fleet_contracts.examples import example_payload, example_requests, pipeline_example
from bria_fleet_contracts.schemas import build_schemas

MANAGED_DIRS = ("schemas", "examples")
"""Directories whose ``*.json`` files are all generated: any other JSON there is stale."""


def contracts_dir() -> Path:
    """The repository's ``contracts/`` directory, found from this package's own path."""
    root = Path(__file__).resolve().parent.parent
    if root.name != "contracts":
        raise RuntimeError(
            f"{root} is not a repository's contracts/ directory (is the package installed "
            "from a wheel?); pass --root"
        )
    return root


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render_artifacts() -> dict[str, str]:
    """Every generated file's text by path relative to ``contracts/``."""
    files = {f"schemas/{name}.json": _dump(schema) for name, schema in build_schemas().items()}
    for request in example_requests():
        path = request_example_path(type(request).domain, request.op)
        files[path] = _dump(example_payload(request))
    files["examples/pipeline.json"] = _dump(example_payload(pipeline_example()))
    for event_type in get_args(EventType):
        event = example_event(event_type, job_id="example-job")
        files[event_example_path(event_type)] = _dump(event.model_dump(mode="json"))
    asyncapi = build_asyncapi()
    files["asyncapi.json"] = _dump(asyncapi)
    files["TOPICS.md"] = build_catalogue(asyncapi)
    return dict(sorted(files.items()))


def _existing(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for folder in MANAGED_DIRS
        for path in (root / folder).rglob("*.json")
    }


def stale_artifacts(root: Path) -> list[str]:
    """Paths (relative to ``root``) that are missing, outdated, or no longer generated."""
    expected = render_artifacts()
    stale = [
        path
        for path, text in expected.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
    stale += sorted(_existing(root) - set(expected))
    return sorted(stale)


def write_artifacts(root: Path) -> list[str]:
    """Bring ``root`` up to date; returns the paths written or removed."""
    changed = stale_artifacts(root)
    expected = render_artifacts()
    for path in changed:
        target = root / path
        if path in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(expected[path], encoding="utf-8")
        else:
            target.unlink()
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bria_fleet_contracts.generate")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--root", type=Path, help="the contracts/ directory (default: found)")
    args = parser.parse_args(argv)
    root: Path = args.root or contracts_dir()
    if args.check:
        stale = stale_artifacts(root)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        if stale:
            print(
                f"{len(stale)} generated file(s) out of date; run "
                "python -m bria_fleet_contracts.generate",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path in write_artifacts(root):
        print(f"wrote {path}" if (root / path).exists() else f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
