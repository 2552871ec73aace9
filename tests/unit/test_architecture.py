"""The import contracts of pyproject.toml ([tool.importlinter]): which module may import which."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.paths import REPO

#: What the app may import from the extraction.
APP_SIDE_OF_EXTRACTION = {"contract", "errors", "signals", "__init__"}


def contracts() -> list[dict]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]


def test_architecture001_the_import_contracts_are_kept():
    program = Path(sys.executable).parent / "lint-imports"
    if not program.exists():
        pytest.fail("lint-imports not found: pip install -e '.[test]' brings import-linter")
    run = subprocess.run([str(program)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"Contracts: {len(contracts())} kept, 0 broken." in run.stdout


def test_architecture002_the_app_is_kept_from_every_other_module_of_the_extraction():
    (contract,) = [c for c in contracts() if c.get("source_modules") == ["explore_dash"]]
    modules = {path.stem for path in (REPO / "extraction").glob("*.py")}
    expected = {f"extraction.{name}" for name in modules - APP_SIDE_OF_EXTRACTION}
    assert set(contract["forbidden_modules"]) == expected
