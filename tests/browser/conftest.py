"""The fixtures of the browser tests: a small fake collection with playable audio, and the app
serving it in dash's ``dash_duo`` page, both panels drawn (helpers: tests/support/browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from explore_dash.config import AppConfig
from explore_dash.server.app import create_app
from tests.support.browser import wait_for_points
from tests.support.fake_collection import FakeCollection, write_fake_collection, write_wav


@pytest.fixture
def collection(tmp_path: Path) -> FakeCollection:
    fake = write_fake_collection(tmp_path)
    for track in fake.ok_tracks():  # long enough to seek into
        write_wav(fake.library / track.path, seconds=track.duration, sample_rate=4000)
    return fake


@pytest.fixture
def app_duo(dash_duo, collection: FakeCollection):
    app = create_app(AppConfig(collection.library, collection.data_dir))
    dash_duo.start_server(app)
    for panel in (0, 1):
        wait_for_points(dash_duo, panel)
    return dash_duo
