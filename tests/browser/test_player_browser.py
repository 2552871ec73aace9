"""Sending a radio and the playlist to a real MPD from the page, in a real headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from explore_dash.config import AppConfig  # noqa: E402
from explore_dash.players.subsonic import PASSWORD_VARIABLE as SUBSONIC_PASSWORD  # noqa: E402
from explore_dash.players.subsonic import SubsonicServer  # noqa: E402
from explore_dash.server.app import create_app  # noqa: E402
from extraction.contract import SEGMENT_ID_STRIDE  # noqa: E402
from tests.support.browser import (  # noqa: E402
    assert_no_console_errors,
    point_pixel,
    trace_ids,
    wait_for_points,
)
from tests.support.fake_collection import FakeCollection  # noqa: E402
from tests.support.flow_page import chain_rows, click, start_radio_from, status  # noqa: E402
from tests.support.mpd_server import (  # noqa: E402
    MpdServer,
    running_mpd,
    start_mpd,
    stop_mpd,
)
from tests.support.pointer import move_to, press  # noqa: E402
from tests.support.subsonic_server import PASSWORD, USER, running_subsonic  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402

#: A folder to keep a screenshot of the page after sending to MPD, for looking at it.
SCREENSHOTS = os.environ.get("EXPLORE_DASH_SCREENSHOTS")


@pytest.fixture
def mpd_server(tmp_path, collection: FakeCollection) -> MpdServer:
    """MPD over ``tmp_path``, in which the collection's library is the folder ``library/``."""
    with running_mpd(tmp_path / "mpd", tmp_path) as server:
        yield server


@pytest.fixture
def mpd_duo(dash_duo, collection: FakeCollection, mpd_server: MpdServer):
    app = create_app(AppConfig(collection.library, collection.data_dir, mpd=mpd_server.address))
    dash_duo.start_server(app)
    for panel in (0, 1):
        wait_for_points(dash_duo, panel)
    return dash_duo






def test_player001_a_radio_and_the_playlist_go_to_mpd_from_their_buttons(
    mpd_duo, mpd_server, collection
):
    duo = mpd_duo
    start_radio_from(duo, 0)  # Alpha – Song A, from its first moment
    wait_until(lambda: len(chain_rows(duo)) >= 3, message="three moments in the chain")
    rows = chain_rows(duo)
    click(duo, "#chain-to-mpd")
    said = wait_until(lambda: "in MPD" in status(duo) and status(duo),
                      message="the page to say what MPD plays")  # fmt: skip
    assert said == f"Playing {len(rows)} songs in MPD; the radio goes on in MPD"
    queue = mpd_server.queue()
    assert len(queue) >= len(rows) >= 3  # the radio in MPD may have added more
    # Its first moment, for the item length (15 s) or to the song's end, whichever comes first.
    song_a = collection.by_id(0)
    assert queue[0][0] == f"library/{song_a.path}"
    assert queue[0][1] in ("0.000-15.000", f"0.000-{song_a.duration:.3f}", "0.000-")
    assert mpd_server.status()["state"] == "play"
    # The chain made the playlist, then added to MPD's queue after what plays.
    click(duo, "#chain-to-playlist")
    wait_until(lambda: duo.driver.find_elements("css selector", ".playlist-entry"),
               message="the playlist's rows")  # fmt: skip
    tracks = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.playlist-entry'), r => +r.dataset.track)"
    )
    click(duo, "#playlist-add-to-mpd")
    wait_until(lambda: "MPD" in duo.find_element("#playlist-message").text,
               message="the playlist's message")  # fmt: skip
    assert duo.find_element("#playlist-message").text == f"Added {len(tracks)} songs in MPD"
    added = [path for path, _ in mpd_server.queue()[len(queue):]]
    assert added == [f"library/{collection.by_id(t).path}" for t in tracks]
    if SCREENSHOTS:
        duo.driver.save_screenshot(str(Path(SCREENSHOTS) / "player001.png"))
    assert_no_console_errors(duo)


def test_player002_mpd_gone_is_one_line_and_the_page_goes_on(mpd_duo, mpd_server):
    duo = mpd_duo
    start_radio_from(duo, 2)
    stop_mpd(mpd_server)
    click(duo, "#chain-to-mpd")
    wait_until(lambda: "does not answer" in duo.find_element("#flow-message").text,
               message="the page to say MPD does not answer")  # fmt: skip
    assert duo.find_element("#flow-message").text.startswith(
        f"MPD at {mpd_server.address} does not answer"
    )
    assert "Radio " in status(duo)  # the radio plays on in the page
    assert_no_console_errors(duo)


def test_player003_no_mpd_buttons_without_mpd(app_duo):
    for button in ("#chain-to-mpd", "#chain-add-to-mpd", "#playlist-to-mpd",
                   "#playlist-add-to-mpd"):  # fmt: skip
        assert app_duo.driver.find_elements("css selector", button) == []
    assert_no_console_errors(app_duo)


def mpd_line(duo) -> str:
    return duo.find_element("#mpd-line").text


def test_player004_the_page_follows_mpd_through_a_restart_without_a_reload(
    mpd_duo, mpd_server, tmp_path
):
    duo = mpd_duo
    wait_until(lambda: mpd_line(duo) == "MPD: stopped", message="the MPD line")
    start_radio_from(duo, 0)
    click(duo, "#chain-to-mpd")
    line = wait_until(lambda: "Alpha – Song A" in mpd_line(duo) and mpd_line(duo),
                      message="the MPD line to name the song MPD plays")  # fmt: skip
    assert line.startswith("MPD ▶ Alpha – Song A @ 0:0") and line.endswith(" · radio in MPD")
    if SCREENSHOTS:
        duo.driver.save_screenshot(str(Path(SCREENSHOTS) / "player004.png"))
    stop_mpd(mpd_server)
    wait_until(lambda: "does not answer" in mpd_line(duo), message="the page to say MPD is gone")
    assert mpd_line(duo).startswith(f"MPD at {mpd_server.address} does not answer")
    restarted = start_mpd(tmp_path / "mpd", tmp_path, port=mpd_server.port)
    try:
        wait_until(lambda: mpd_line(duo).startswith("MPD"), 20,
                   "the page to find MPD again, without a reload")  # fmt: skip
    finally:
        stop_mpd(restarted)
    assert_no_console_errors(duo)


def ring(duo, panel: int) -> int | None:
    """The segment the MPD ring is on in ``panel``, or None when it is hidden."""
    return duo.driver.execute_script(
        "const mark = document.querySelectorAll('.player-mark')[arguments[0]];"
        "return mark && !mark.hidden ? Number(mark.dataset.segment) : null;", panel)


def test_player005_the_maps_ring_what_mpd_plays_and_a_click_on_its_track_seeks_it(
    mpd_duo, mpd_server, collection
):
    """A whole song sent to MPD: both maps ring its moment as it plays; a click on a later point
    of the same track makes MPD play from there, and the ring follows."""
    duo = mpd_duo
    client = mpd_server.client()
    client.add("library/Beta/Second/01 Étude.wav")  # track 2: 7 segments
    client.play(0)
    client.disconnect()
    first = SEGMENT_ID_STRIDE * 2
    for panel in (0, 1):
        wait_until(lambda p=panel: ring(duo, p) in (first, first + 1), 10,
                   f"the ring on Étude's first moments in panel {panel}")  # fmt: skip
    assert "MPD ▶ Beta – Étude @ 0:0" in mpd_line(duo)
    # A click on Étude's sixth segment (15 s in): MPD plays from there.
    ids = trace_ids(duo, 0)
    sixth = ids.index(first + 5)
    move_to(duo.driver, *point_pixel(duo, 0, sixth))
    press(duo.driver, True)
    press(duo.driver, False)
    wait_until(lambda: mpd_server.playing()[2] >= 14.5, 10, "MPD to play from the clicked moment")
    for panel in (0, 1):
        wait_until(lambda p=panel: ring(duo, p) in (first + 5, first + 6), 10,
                   f"the ring on the clicked moment in panel {panel}")  # fmt: skip
    if SCREENSHOTS:
        duo.driver.save_screenshot(str(Path(SCREENSHOTS) / "player005.png"))
    assert_no_console_errors(duo)




def test_player006_the_playlist_and_a_radio_saved_on_a_subsonic_server(
    dash_duo, collection, tmp_path, monkeypatch
):
    monkeypatch.setenv(SUBSONIC_PASSWORD, PASSWORD)
    with running_subsonic(tmp_path / "supysonic", tmp_path) as served:
        config = AppConfig(collection.library, collection.data_dir, subsonic=served.url,
                           subsonic_user=USER)  # fmt: skip
        dash_duo.start_server(create_app(config))
        for panel in (0, 1):
            wait_for_points(dash_duo, panel)
        start_radio_from(dash_duo, 0)
        rows = chain_rows(dash_duo)
        click(dash_duo, "#chain-to-subsonic")
        said = wait_until(lambda: "on the server" in status(dash_duo) and status(dash_duo),
                          message="the radio saved")  # fmt: skip
        name = "explore-dash radio from Alpha – Song A"
        assert said.startswith(f"Saved '{name}' on the server: ")
        server = SubsonicServer.from_options(served.url, USER)
        paths = server.playlist_paths(server.playlist_id(name))
        titles = [row.split(". ", 1)[-1].split(" @ ")[0] for row in rows]
        assert len(paths) == len(dict.fromkeys(titles)) >= 3  # each track once, all matched
        assert paths[0] == f"library/{collection.by_id(0).path}"
        # The chain made the playlist, saved under the name in the Playlist card.
        click(dash_duo, "#chain-to-playlist")
        wait_until(lambda: dash_duo.driver.find_elements("css selector", ".playlist-entry"),
                   message="the playlist's rows")  # fmt: skip
        tracks = dash_duo.driver.execute_script(
            "return Array.from(document.querySelectorAll('.playlist-entry'), r => +r.dataset.track)"
        )
        click(dash_duo, "#playlist-to-subsonic")
        wait_until(lambda: "on the server" in dash_duo.find_element("#playlist-message").text,
                   message="the playlist saved")  # fmt: skip
        assert dash_duo.find_element("#playlist-message").text == (
            f"Saved 'explore-dash playlist' on the server: {len(tracks)} of {len(tracks)} "
            "tracks matched")  # fmt: skip
        saved = server.playlist_paths(server.playlist_id("explore-dash playlist"))
        assert saved == [f"library/{collection.by_id(t).path}" for t in tracks]
        assert PASSWORD not in dash_duo.driver.page_source
        assert_no_console_errors(dash_duo)


def test_player007_stop_in_the_page_stops_the_radio_in_mpd(mpd_duo, mpd_server):
    duo = mpd_duo
    start_radio_from(duo, 0)
    click(duo, "#item-length input[value='segment']")  # 3-s moments: MPD moves on quickly
    click(duo, "#chain-to-mpd")
    wait_until(lambda: "radio in MPD" in mpd_line(duo), message="the radio to live in MPD")
    click(duo, "#flow-stop")
    wait_until(lambda: "The radio in MPD stopped" in mpd_line(duo), message="the radio to stop")
    queued = mpd_server.queue()
    client = mpd_server.client()
    try:
        client.next()  # MPD goes on: nothing is added any more
        client.next()
    finally:
        client.disconnect()
    wait_until(lambda: "The radio in MPD stopped" in mpd_line(duo), message="the line to stay")
    assert mpd_server.queue() == queued
    assert_no_console_errors(duo)
