"""Fetching the broker's jars: the pinned version, the cache and its fast path."""

import xml.etree.ElementTree as ElementTree
from importlib import resources
from pathlib import Path

import pytest

from bria_fleet.errors import BriaFleetError
from bria_fleet.localkafka import (
    CACHE_DIR_ENV,
    KAFKA_VERSION,
    cache_root,
    fetch_jars,
    jar_dir,
    jars_present,
)

_POM_NAMESPACE = {"m": "http://maven.apache.org/POM/4.0.0"}


@pytest.fixture
def no_maven(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_pom_defaults_to_the_version_fetch_asks_for() -> None:
    pom = resources.files("bria_fleet.localkafka").joinpath("pom.xml").read_text()

    version = ElementTree.fromstring(pom).find("m:properties/m:kafka.version", _POM_NAMESPACE)

    assert version is not None
    assert version.text == KAFKA_VERSION


def test_cache_dir_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))

    assert jar_dir() == tmp_path / "kafka-jars" / KAFKA_VERSION


@pytest.mark.usefixtures("no_maven")
def test_fetch_does_not_run_maven_when_the_jars_are_cached(tmp_path: Path) -> None:
    cached = jar_dir(root=tmp_path)
    cached.mkdir(parents=True)
    (cached / ".complete").write_text("")

    assert fetch_jars(root=tmp_path) == cached


@pytest.mark.usefixtures("no_maven")
def test_fetch_without_maven_says_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(BriaFleetError, match="install Maven"):
        fetch_jars(root=tmp_path)

    assert not jars_present(root=tmp_path)


def test_the_cache_does_not_depend_on_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    from_checkout = cache_root()
    monkeypatch.chdir(tmp_path)
    assert cache_root() == from_checkout
    assert from_checkout == Path(__file__).resolve().parents[2] / ".cache"


def test_the_cache_directory_can_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert cache_root() == tmp_path / "elsewhere"
