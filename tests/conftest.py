"""Shared pytest setup: headless Chromium for the browser tests; without it, they are skipped
and counted in one line (a fresh machine), or the run stops (CI, which must run them all)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess

import pytest

BROWSER_FIXTURES = frozenset({"dash_duo", "dash_br", "dash_duo_mp", "dash_thread_server"})
BROWSER_HELP = (
    "the browser tests need Chromium and its driver on PATH (chromium, chromedriver): "
    "'sudo apt install chromium chromium-driver' on Debian/Ubuntu, "
    "'brew install --cask chromium chromedriver' on macOS; "
    "or leave them out with: pytest -m 'not browser'"
)
#: A stash key: the browser tests skipped for want of a browser, for the summary line.
SKIPPED_BROWSER_TESTS = pytest.StashKey[int]()


def missing_browser_programs() -> list[str]:
    """Which of the system Chromium and chromedriver are not on PATH."""
    missing = []
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        missing.append("chromium")
    if not shutil.which("chromedriver"):
        missing.append("chromedriver")
    return missing


@pytest.fixture(scope="module")
def registry():
    """The shipped models' metadata (extraction/models)."""
    from extraction.registry import load_registry

    return load_registry()


@pytest.fixture(scope="module")
def redis_url():
    """A Redis on loopback for this test module: ``EXPLORE_DASH_TEST_REDIS`` when set (``.ci/run``
    starts Debian's ``redis-server``), else a ``redis-server`` of our own, in memory only."""
    redis = pytest.importorskip("redis", reason="Redis' client comes with explore-dash[cluster]")
    from tests.support.doubles import free_port
    from tests.support.waiting import wait_until

    url = os.environ.get("EXPLORE_DASH_TEST_REDIS")
    server = None
    if url is None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("CI must provide Redis: apt-get install redis-server")
            pytest.skip("no redis-server (apt install redis-server), no EXPLORE_DASH_TEST_REDIS")
        port = free_port()
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        try:
            return redis.Redis.from_url(url).ping()
        except redis.ConnectionError:
            return False

    wait_until(answers, 10, f"Redis at {url}")
    redis.Redis.from_url(url).flushdb()  # a test database: no jobs of an earlier run
    yield url
    if server is not None:
        server.terminate()
        server.wait(10)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Mark before `-m` deselects, so `-m 'not browser'` leaves every browser test out.
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Browser tests selected but no browser to run them: under CI, stop at once in one line;
    elsewhere (the README's test command on a fresh machine) skip them, to be counted at the end."""
    if session.config.option.collectonly:
        return
    browser_tests = [item for item in session.items if item.get_closest_marker("browser")]
    missing = missing_browser_programs() if browser_tests else []
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.exit(f"{', '.join(missing)} not found: {BROWSER_HELP}", returncode=4)
    skip = pytest.mark.skip(reason=f"{', '.join(missing)} not found")
    for item in browser_tests:
        item.add_marker(skip)
    session.config.stash[SKIPPED_BROWSER_TESTS] = len(browser_tests)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    skipped = config.stash.get(SKIPPED_BROWSER_TESTS, 0)
    if skipped:
        missing = ", ".join(missing_browser_programs())
        terminalreporter.write_line(
            f"{skipped} browser tests skipped, {missing} not found: {BROWSER_HELP}", yellow=True
        )


# The hook exists only where dash's pytest plugin is installed (the test extra); the TensorFlow
# venv that checks the model conversion runs without it.
if importlib.util.find_spec("dash") and importlib.util.find_spec("selenium"):

    def pytest_setup_options():
        from tests.support.browser_options import chrome_options

        return chrome_options()
