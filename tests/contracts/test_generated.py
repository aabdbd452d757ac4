"""The committed artefacts are what the generator produces now."""

from pathlib import Path

import pytest

from bria_fleet_contracts.generate import contracts_dir, main, stale_artifacts


def test_committed_artefacts_are_up_to_date() -> None:
    stale = stale_artifacts(contracts_dir())
    assert stale == [], "run: python -m bria_fleet_contracts.generate"


def test_contracts_dir_is_the_repository_s_contracts_directory() -> None:
    root = contracts_dir()
    assert (root / "bria_fleet_contracts" / "__init__.py").is_file()
    assert root.name == "contracts"


def test_check_mode_lists_stale_files_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert "stale: asyncapi.json" in capsys.readouterr().err

    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0

    (tmp_path / "schemas" / "request.ingest.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "examples" / "ingest" / "gone.json").write_text("{}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "stale: schemas/request.ingest.json" in err
    assert "stale: examples/ingest/gone.json" in err
    assert "stale: asyncapi.json" not in err


def test_writing_repairs_and_removes_files(tmp_path: Path) -> None:
    main(["--root", str(tmp_path)])
    (tmp_path / "schemas" / "request.ingest.json").unlink()
    extra = tmp_path / "schemas" / "obsolete.json"
    extra.write_text("{}\n", encoding="utf-8")
    main(["--root", str(tmp_path)])
    assert (tmp_path / "schemas" / "request.ingest.json").is_file()
    assert not extra.exists()
    assert stale_artifacts(tmp_path) == []
