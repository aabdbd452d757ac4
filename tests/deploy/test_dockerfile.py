"""The container image's Dockerfile: hadolint-clean, multi-stage, non-root, bria-fleet entry."""

import re

import pytest

from tests.deploy.tooling import REPO, run, tool

CONTAINERFILES = [
    REPO / "Dockerfile",
    REPO / "deploy" / "images" / "kafka" / "Containerfile",
    REPO / "deploy" / "images" / "prometheus" / "Containerfile",
]


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_hadolint_passes(path: object) -> None:
    run(tool("hadolint"), str(path))


def test_dockerfile_is_multi_stage_non_root_with_the_cli_as_entrypoint() -> None:
    text = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \$\{BASE_IMAGE\} AS (\w+)$", text, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE)
    assert 'ENTRYPOINT ["bria-fleet"]' in runtime
    assert not re.search(r"^HEALTHCHECK", text, flags=re.MULTILINE)
    assert "pip install" not in runtime  # only the build stage installs
    assert "org.opencontainers.image.source" in runtime


def test_dockerignore_keeps_caches_and_venvs_out_of_the_context() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"
    assert {"!services/", "!contracts/", "!pyproject.toml", "!README.md"} <= set(lines)
