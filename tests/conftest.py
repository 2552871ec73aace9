"""Shared pytest setup: headless Chromium for the browser tests, and a clear stop without it."""

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
    from tests.doubles import free_port
    from tests.test_maps_ahead import wait_for

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

    wait_for(answers, 10, f"Redis at {url}")
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
    """Stop at once, in one line, when browser tests are selected but cannot start."""
    if session.config.option.collectonly:
        return
    if any(item.get_closest_marker("browser") for item in session.items):
        missing = missing_browser_programs()
        if missing:
            pytest.exit(f"{', '.join(missing)} not found: {BROWSER_HELP}", returncode=4)


# The hook exists only where dash's pytest plugin is installed (the test extra); the TensorFlow
# venv that checks the model conversion runs without it.
if importlib.util.find_spec("dash") and importlib.util.find_spec("selenium"):

    def pytest_setup_options():
        from tests.browser_options import chrome_options

        return chrome_options()
