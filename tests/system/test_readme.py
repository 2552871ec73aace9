"""The README and each command agree: usage blocks flag for flag and default for default."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from explore_dash.cli import build_parser as app_parser
from explore_dash.history.command import build_parser as history_parser
from extraction.cli import build_parser as extraction_parser
from tests.support.paths import REPO

README = REPO / "README.md"
FLAG = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")
# "[--port 8050]": a flag with a literal value (not a METAVAR) documents its default.
FLAG_WITH_DEFAULT = re.compile(r"\[(--[a-z-]+) ([^\]A-Z][^\]]*)\]")


def usage_block(command: str) -> str:
    """The README's fenced block whose first line runs ``command``."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", README.read_text(), flags=re.S):
        if block.startswith(command + " "):
            return block
    raise AssertionError(f"the README has no usage block for {command!r}")


def parser_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
        for flag in action.option_strings
    }


def parser_default(parser: argparse.ArgumentParser, flag: str) -> object:
    (action,) = [a for a in parser._actions if flag in a.option_strings]
    return action.default


def history_import_parser() -> argparse.ArgumentParser:
    """``explore-dash history import``'s own parser (a sub-command's)."""
    commands = next(a for a in history_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))  # fmt: skip
    return commands.choices["import"]


COMMANDS = {
    "python -m explore_dash": app_parser,
    "python -m extraction": extraction_parser,
    "explore-dash history import": history_import_parser,
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_readme001_usage_blocks_list_every_flag_and_no_other(command: str):
    block = usage_block(command).removeprefix(command)
    documented = set(FLAG.findall(block))
    assert documented == parser_flags(COMMANDS[command]())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_readme002_defaults_shown_in_usage_blocks_are_the_parsers(command: str):
    parser = COMMANDS[command]()
    shown = FLAG_WITH_DEFAULT.findall(usage_block(command))
    assert shown or command in ("python -m extraction", "explore-dash history import")
    for flag, value in shown:
        assert str(parser_default(parser, flag)) == value, flag


def test_readme003_the_workers_default_is_described_as_the_code_computes_it():
    from extraction.cli import MAX_DEFAULT_WORKERS, OPENVINO_CORES_PER_WORKER

    text = README.read_text()
    start = text.index("- `--workers N`")
    item = " ".join(text[start : text.index("\n- ", start + 1)].split())
    assert f"with OpenVINO one per {OPENVINO_CORES_PER_WORKER} cores" in item
    assert "with Essentia one per core" in item and f"at most {MAX_DEFAULT_WORKERS}" in item


def _pytest_without_a_browser(tmp_path: Path, tests: list[str], env: dict[str, str]):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=README.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path), **env},  # no chromium, no driver
    )


def test_readme004_under_ci_a_missing_browser_stops_the_tests_at_once_in_one_line(tmp_path: Path):
    result = _pytest_without_a_browser(tmp_path, ["tests/browser/test_browser.py"], {"CI": "true"})
    assert result.returncode == 4, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    (stop,) = [line for line in result.stdout.splitlines() if "chromedriver" in line]
    assert "chromium, chromedriver not found" in stop and "apt install chromium" in stop
    assert "passed" not in result.stdout and "failed" not in result.stdout


def test_readme005_without_a_browser_the_test_command_passes_and_counts_what_it_skipped(
    tmp_path: Path,
):
    tests = ["tests/browser/test_browser.py::test_panel001_both_panels_render_every_segment",
             "tests/browser/test_browser.py::test_listen002_the_page_writes_times_as_the_server_does",
             "tests/system/test_readme.py::test_readme003_the_workers_default_is_described_as_the_code_computes_it"]  # noqa: E501
    result = _pytest_without_a_browser(tmp_path, tests, {})
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "browser tests skipped" in line]
    assert line.startswith("2 browser tests skipped, chromium, chromedriver not found")
    assert "apt install chromium chromium-driver" in line
    assert "1 passed, 2 skipped" in result.stdout
