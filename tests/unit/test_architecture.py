"""The import contracts of pyproject.toml ([tool.importlinter]): which module may import which;
and the tests' own rule: no test or benchmark imports a test module, only tests/support."""

from __future__ import annotations

import ast
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


#: The rooms of test modules. Nothing imports them: what tests share lives in tests/support
#: (helpers) and in conftest.py files (fixtures), so a test module can move or go alone.
TEST_ROOMS = ("tests.unit", "tests.browser", "tests.system")


def imported_modules(source: str, package: tuple[str, ...]) -> set[str]:
    """Every module that Python ``source`` imports, function-level imports included.

    Parameters
    ----------
    source : str
        A module's text.
    package : tuple of str
        The package the module is in, ``("tests", "unit")``: relative imports resolve against it.

    Returns
    -------
    set of str
        Dotted names; ``from package import name`` gives both ``package`` and ``package.name``
        (the name may be a submodule).
    """
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *(node.module.split(".") if node.module else ())])
            modules.add(module)
            modules.update(f"{module}.{alias.name}" for alias in node.names)
    return modules


def is_test_module(module: str) -> bool:
    return any(module == room or module.startswith(room + ".") for room in TEST_ROOMS)


def test_architecture003_no_test_or_benchmark_imports_a_test_module():
    offences = []
    for folder in ("tests", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            package = path.relative_to(REPO).parent.parts
            found = imported_modules(path.read_text(encoding="utf-8"), package)
            name = path.relative_to(REPO)
            offences += [f"{name}: {module}" for module in sorted(found) if is_test_module(module)]
    assert offences == [], "import these from tests/support or a conftest.py instead"


def test_architecture004_imports_are_read_from_the_syntax_at_any_depth_and_resolved():
    source = (
        "import tests.unit.test_a\n"
        "from tests.browser.test_b import helper\n"
        "from tests import system\n"
        "from .test_c import other\n"
        "from . import test_d\n"
        "def f():\n"
        "    from tests.support.browser import graph_js\n"
        "TEXT = 'from tests.unit.test_e import not_an_import'\n"
    )
    found = imported_modules(source, ("tests", "unit"))
    assert {m for m in found if is_test_module(m)} == {
        "tests.unit.test_a", "tests.browser.test_b", "tests.browser.test_b.helper",
        "tests.system", "tests.unit", "tests.unit.test_c", "tests.unit.test_c.other",
        "tests.unit.test_d",
    }  # fmt: skip
    assert "tests.support.browser" in found
    assert not is_test_module("tests.support.browser") and not is_test_module("tests.units")


#: The longest a module of the app or the extraction may grow before it is split by concern.
MOST_LINES = 450


def test_architecture005_no_module_of_the_app_or_the_extraction_is_over_450_lines():
    lengths = {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in ("explore_dash", "extraction")
        for path in (REPO / folder).rglob("*.py")
    }
    assert len(lengths) > 50  # both packages were read
    assert {name: n for name, n in lengths.items() if n > MOST_LINES} == {}


def layered_names(contract: dict) -> set[str]:
    """The modules and packages a layers contract names, ``"maps | listening"`` split."""
    return {name.strip() for layer in contract["layers"] for name in layer.split("|")}


#: Modules of explore_dash outside the layers: the words every room shares.
SHARED_WORDS = {"__init__", "config", "formatting", "ids", "routes"}


def test_architecture006_every_room_and_entry_point_of_the_app_is_in_a_layer():
    (contract,) = [c for c in contracts() if c["type"] == "layers"]
    package = REPO / "explore_dash"
    rooms = {path.parent.name for path in package.glob("*/__init__.py")}
    entry_points = {path.stem for path in package.glob("*.py")} - SHARED_WORDS
    assert {"data", "maps", "callbacks", "server"} <= rooms and "cli" in entry_points
    assert layered_names(contract) == rooms | entry_points
