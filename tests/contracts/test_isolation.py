"""The contracts package imports with pydantic and the standard library alone."""

import subprocess
import sys
import textwrap

ALLOWED = {"pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"}

SCRIPT = textwrap.dedent(
    """
    import importlib, importlib.machinery, pkgutil, sys, sysconfig

    allowed = set(sys.argv[1].split(",")) | {"bria_fleet_contracts"}
    stdlib = tuple({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")})
    present = set(sys.modules)

    def is_stdlib(top):
        if top in sys.stdlib_module_names:
            return True
        spec = importlib.machinery.PathFinder.find_spec(top)
        origin = (spec.origin or "") if spec else ""
        return spec is None or (origin.startswith(stdlib) and "-packages" not in origin)

    class Block:
        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top not in allowed and top not in present and not is_stdlib(top):
                raise ImportError(f"bria_fleet_contracts must not import {name}")
            return None

    sys.meta_path.insert(0, Block())
    import bria_fleet_contracts
    names = [m.name for m in pkgutil.walk_packages(
        bria_fleet_contracts.__path__, "bria_fleet_contracts.")]
    for name in names:
        importlib.import_module(name)
    print(len(names))
    """
)


def test_every_module_imports_with_pydantic_alone() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(sorted(ALLOWED))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 20


def test_the_blocker_does_block_other_packages() -> None:
    probe = SCRIPT.replace("import bria_fleet_contracts\n", "import httpx\n", 1)
    result = subprocess.run(
        [sys.executable, "-c", probe, ",".join(sorted(ALLOWED))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "must not import httpx" in result.stderr
