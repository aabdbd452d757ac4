"""The deployment checks' tools: found where `make deploy-tools` put them, or a failed test."""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "bria-fleet"
EVERYTHING_ON = CHART / "ci" / "everything-on-values.yaml"
COMPOSE_FILE = REPO / "docker-compose.yml"
TOOLS_BIN = REPO / ".cache" / "tools" / "bin"
KUBERNETES_VERSION = "1.33"
"""The Kubernetes version whose schemas every rendered object must satisfy."""

INSTALL_HINT = "run `make deploy-tools` (tools/install-container-tools.sh) to install it"


def tool(name: str) -> str:
    """Path of ``name``: the project's tool cache, the virtual environment, or the PATH."""
    for candidate in (TOOLS_BIN / name, Path(sys.executable).parent / name):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; {INSTALL_HINT}.")
    return found


def run(
    *command: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; with ``check`` a failure fails the test with its output."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result


def helm_args(*values_files: Path, sets: dict[str, str] | None = None) -> list[str]:
    """The ``-f``/``--set`` arguments for ``values_files`` and ``sets``."""
    args: list[str] = []
    for path in values_files:
        args += ["-f", str(path)]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    return args


def render(
    *values_files: Path, sets: dict[str, str] | None = None, release: str = "fleet"
) -> list[dict[str, Any]]:
    """The chart's objects for these values (hooks and test pods included)."""
    result = run(
        tool("helm"), "template", release, str(CHART), *helm_args(*values_files, sets=sets)
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def refusal(*values_files: Path, sets: dict[str, str] | None = None) -> str:
    """The error ``helm template`` prints for values it must refuse (fails if it renders)."""
    result = run(
        tool("helm"),
        "template",
        "fleet",
        str(CHART),
        *helm_args(*values_files, sets=sets),
        check=False,
    )
    if result.returncode == 0:
        pytest.fail(f"helm rendered values it should refuse: {sets}")
    return result.stderr
