"""Vendor the JSON Schemas of the CRDs the chart renders (KEDA, prometheus-operator).

The schemas come from the CRD YAML in each project's Go module (fetched with
``go mod download``), converted to strict JSON Schema: unknown fields are refused, as
``kubectl apply --validate=strict`` does. Run ``python tools/vendor_crd_schemas.py`` after
changing a version below; the output goes to ``tests/deploy/crd-schemas/``.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parent.parent / "tests" / "deploy" / "crd-schemas"
SOURCES: dict[str, tuple[str, str, list[str]]] = {
    # module: (version, directory with the CRDs, CRD files)
    "github.com/kedacore/keda/v2": (
        "v2.21.0",
        "config/crd/bases",
        ["keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"],
    ),
    "github.com/prometheus-operator/prometheus-operator": (
        "v0.85.0",
        "example/prometheus-operator-crd",
        [
            "monitoring.coreos.com_servicemonitors.yaml",
            "monitoring.coreos.com_podmonitors.yaml",
            "monitoring.coreos.com_prometheusrules.yaml",
        ],
    ),
}


def module_dir(module: str, version: str) -> Path:
    """Where ``go mod download`` put ``module@version``."""
    result = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(json.loads(result.stdout)["Dir"])


def ecma_pattern(pattern: str) -> str:
    """``pattern`` without Go's ``(?i)`` flag, which JSON Schema's regex dialect lacks."""
    if "(?i)" not in pattern:
        return pattern
    plain = pattern.replace("(?i)", "")
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in plain)


def strict(schema: Any) -> Any:
    """Refuse unknown fields wherever the CRD lists its fields and keeps no unknown ones."""
    if isinstance(schema, dict):
        converted = {key: strict(value) for key, value in schema.items()}
        if isinstance(converted.get("pattern"), str):
            converted["pattern"] = ecma_pattern(converted["pattern"])
        if (
            "properties" in converted
            and "additionalProperties" not in converted
            and not converted.get("x-kubernetes-preserve-unknown-fields")
        ):
            converted["additionalProperties"] = False
        return converted
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def document_schema(crd: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one served version of ``crd``, for a whole manifest."""
    schema = strict(version["schema"]["openAPIV3Schema"])
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    schema["properties"]["apiVersion"] = {"enum": [f"{group}/{version['name']}"]}
    schema["properties"]["kind"] = {"enum": [kind]}
    schema["properties"]["metadata"] = {"type": "object"}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return schema


def main() -> None:
    """Write one ``<group>/<kind>_<version>.json`` per served CRD version, and a SOURCES file."""
    notes = ["# Where these schemas come from (regenerate with tools/vendor_crd_schemas.py)\n"]
    for module, (version, directory, files) in SOURCES.items():
        root = module_dir(module, version)
        licence = " ".join((root / "LICENSE").read_text().split()[:4]).rstrip(",")
        for name in files:
            crd = yaml.safe_load((root / directory / name).read_text())
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"].lower()
            for served in crd["spec"]["versions"]:
                target = OUT / group / f"{kind}_{served['name']}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                schema = document_schema(crd, served)
                target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
                notes.append(
                    f"- {group}/{kind}_{served['name']}.json: {module}@{version}"
                    f" {directory}/{name} ({licence})\n"
                )
    (OUT / "SOURCES.md").write_text("".join(notes))


if __name__ == "__main__":
    main()
