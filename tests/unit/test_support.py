"""The helpers every test room shares (tests/support): where things are, waiting on events."""

from __future__ import annotations

import itertools

import pytest

from tests.support.paths import LIVE_APP, REPO, SLOW_EXTRACTOR, SMALL_LIBRARY_SCRIPT
from tests.support.waiting import wait_until


def test_support001_the_paths_name_the_repository_and_the_scripts_the_tests_run():
    assert (REPO / "pyproject.toml").is_file()
    assert (REPO / "explore_dash").is_dir() and (REPO / "extraction").is_dir()
    assert SLOW_EXTRACTOR.is_file() and LIVE_APP.is_file()
    assert SMALL_LIBRARY_SCRIPT.parent.parent.parent == REPO.parent


def test_support002_wait_until_gives_the_first_truthy_value():
    values = iter([0, None, [], "ready", "later"])
    assert wait_until(lambda: next(values), 5, "a value") == "ready"


def test_support003_wait_until_names_what_it_waited_for_and_the_last_value():
    looks = itertools.count(1)
    with pytest.raises(AssertionError, match=r"timed out waiting for the answer \(last: \[\]\)"):
        wait_until(lambda: [] if next(looks) else None, 0.3, "the answer")
    assert next(looks) > 2  # it kept looking until the timeout
