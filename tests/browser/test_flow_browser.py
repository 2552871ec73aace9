"""Radio, paths and whole-track listening in a real headless Chromium."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from selenium.common.exceptions import ElementClickInterceptedException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from extraction.contract import SEGMENT_ID_STRIDE, SEGMENT_SECONDS  # noqa: E402
from tests.support.browser import assert_no_console_errors, point_pixel, trace_ids  # noqa: E402
from tests.support.flow_page import (  # noqa: E402
    PLAYER,
    chain_rows,
    click,
    hover_segment_of,
    playing,
    start_radio_from,
    status,
)
from tests.support.pointer import move_to  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def _clicked(element) -> bool:
    try:
        element.click()
    except ElementClickInterceptedException:
        return False
    return True


def _scrolled_to(duo, element) -> bool:
    """Scroll ``element`` to the middle of the window at once (Bootstrap scrolls smoothly)."""
    script = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"
    duo.driver.execute_script(script, element)
    return True


def choose_option(duo, component_id: str, label: str) -> None:
    """Pick ``label`` in a dropdown of the sidebar (scrolled into view first: it is low)."""
    ActionChains(duo.driver).send_keys(Keys.ESCAPE).perform()  # close a menu still open
    element = duo.find_element(component_id)
    wait_until(lambda: _scrolled_to(duo, element) and _clicked(element),
               message=f"{component_id} to take a click")  # fmt: skip
    options = wait_until(
        lambda: [o for o in duo.driver.find_elements(By.CSS_SELECTOR, "[role=option]")
                 if o.text == label],  # fmt: skip
        message=f"option {label}",
    )
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", options[0])
    options[0].click()


def shown_chain(duo, panel: int) -> list[int]:
    return duo.driver.execute_script(f"return window.exploreDash.flow.shown({panel})")


def message(duo) -> str:
    return duo.find_element("#flow-message").text


def player_paused(duo) -> bool:
    return duo.driver.execute_script(f"return {PLAYER}.paused")


def test_flow001_radio_plays_new_tracks_by_itself_and_keeps_artists_apart(app_duo, collection):
    hover_segment_of(app_duo, 0)  # Alpha – Song A
    click(app_duo, "#item-length input[value='segment']")  # ~3 s per item
    move_to(app_duo.driver, 5, 5)  # off the maps: no more hovers
    click(app_duo, "#radio-start")
    rows = wait_until(lambda: len(chain_rows(app_duo)) >= 3 and chain_rows(app_duo),
                      message="the radio's chain")  # fmt: skip
    sources = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(set(sources)) < 3:
        source = playing(app_duo)[0]
        if source and (not sources or sources[-1] != source):
            sources.append(source)
        time.sleep(0.1)
    tracks = [int(s.rsplit("/", 1)[1]) for s in sources]
    assert len(set(tracks)) >= 3 and len(tracks) == len(set(tracks)), tracks
    assert tracks[0] == 0
    artists = [collection.by_id(t).artist for t in tracks]
    for i, artist in enumerate(artists):  # no same artist within 3 tracks (the default)
        assert artist not in artists[max(0, i - 3) : i], artists
    assert rows[0].startswith("Alpha – Song A @ 0:00")
    # The chain is drawn on both maps, and the status says where the radio is.
    items = app_duo.driver.execute_script("return window.exploreDash.flow.state().items")
    for panel in (0, 1):
        assert len(shown_chain(app_duo, panel)) == items
    assert app_duo.find_element("#flow-status").text.startswith("Radio ")
    wait_until(  # the line under the player names the radio's item, not the last hover (the
        # status may go on with a note on the variety rules)
        lambda: app_duo.find_element("#flow-status").text.split(": ", 1)[-1].startswith(
            app_duo.find_element("#now-playing").text
        ),
        message="the player line to name the radio's item",
    )
    click(app_duo, "#flow-stop")
    wait_until(lambda: "stopped" in app_duo.find_element("#flow-status").text, message="stop")
    assert app_duo.driver.execute_script(f"return {PLAYER}.paused")
    assert_no_console_errors(app_duo)


def test_flow002_a_path_runs_from_start_to_end_on_both_maps_and_exports(app_duo, collection,
                                                                         tmp_path):  # fmt: skip
    choose_option(app_duo, "#path-start", "Alpha – Song A")
    choose_option(app_duo, "#path-end", "Delta – Hit")
    steps = app_duo.find_element("#path-steps")
    steps.clear()
    steps.send_keys("4")
    click(app_duo, "#path-button")
    rows = wait_until(lambda: len(chain_rows(app_duo)) == 4 and chain_rows(app_duo),
                      message=f"the path ({message(app_duo)!r})")  # fmt: skip
    names = [row.split(" @ ")[0] for row in rows]
    assert names[0] == "Alpha – Song A" and names[-1] == "Delta – Hit"
    assert len(set(names)) == 4
    for panel in (0, 1):
        assert len(shown_chain(app_duo, panel)) == 4
    wait_until(lambda: playing(app_duo)[0] == "audio/0", message="the path to start playing")
    # Skip moves to the next step.
    click(app_duo, "#flow-skip")
    wait_until(lambda: "Path 2/4" in app_duo.find_element("#flow-status").text, message="skip")
    # The path as a playlist, with its moments for VLC.
    click(app_duo, "#chain-to-playlist")
    wait_until(lambda: len(app_duo.driver.find_elements(By.CSS_SELECTOR, ".playlist-entry")) == 4,
               message="the playlist")  # fmt: skip
    click(app_duo, "#playlist-keep-moments")
    click(app_duo, "#playlist-export")
    saved = wait_until(
        lambda: list((collection.data_dir / "playlists").glob("[!.]*.m3u8")), message="export"
    )
    lines = saved[0].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    paths = [line for line in lines if not line.startswith("#")]
    assert len(paths) == 4 and paths[0].endswith("Song A.wav") and paths[-1].endswith("Hit.wav")
    for i, line in enumerate(lines):  # every path follows its #EXTINF (and start time, if any)
        if not line.startswith("#"):
            before = [x for x in lines[:i] if x.startswith("#EXTINF")]
            assert before and lines[i - 1].startswith(("#EXTINF:", "#EXTVLCOPT:start-time="))
    assert all(float(x.split("=")[1]) > 0 for x in lines if x.startswith("#EXTVLCOPT"))
    assert_no_console_errors(app_duo)


def test_flow003_bad_requests_get_a_message_in_the_page(app_duo):
    click(app_duo, "#radio-start")  # nothing hovered yet
    wait_until(lambda: "Hover or click" in message(app_duo), message="no seed")
    choose_option(app_duo, "#path-start", "Beta – Étude")
    choose_option(app_duo, "#path-end", "Beta – Étude")
    click(app_duo, "#path-button")
    wait_until(lambda: "same track" in message(app_duo), message="start equals end")
    choose_option(app_duo, "#path-end", "Gamma – Crowd")
    click(app_duo, "#path-button")  # 12 steps, 5 tracks: a path of 5, and a calm note
    path_rows = wait_until(lambda: len(chain_rows(app_duo)) == 5 and chain_rows(app_duo),
                           message="a path of every track")  # fmt: skip
    wait_until(lambda: "Only 5 tracks can be on this path with these settings: it has 5 steps"
               in status(app_duo), message="the note on fewer steps")  # fmt: skip
    assert message(app_duo) == ""  # not an error
    click(app_duo, "#flow-stop")
    wait_until(lambda: "stopped" in status(app_duo), message="stop")
    # Every artist left out under "Variety": the radio says so instead of playing.
    summary = app_duo.driver.find_element(By.XPATH, "//summary[text()='Variety']")
    app_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
    ActionChains(app_duo.driver).send_keys(Keys.ESCAPE).perform()  # the path menu, still open
    wait_until(lambda: _clicked(summary), message="Variety to open")
    for artist in ("Alpha", "Beta", "Gamma", "Delta"):
        choose_option(app_duo, "#exclude-artists", artist)
    ActionChains(app_duo.driver).send_keys(Keys.ESCAPE).perform()
    hover_segment_of(app_duo, 0)
    move_to(app_duo.driver, 5, 5)
    click(app_duo, "#radio-start")
    wait_until(lambda: "No other track fits" in message(app_duo), message="every track left out")
    assert chain_rows(app_duo) == path_rows  # no radio: the path's chain stays
    assert_no_console_errors(app_duo)


def test_flow004_whole_track_listening_seeks_to_the_moment_and_holds_against_hover(app_duo):
    segment = hover_segment_of(app_duo, 2)
    move_to(app_duo.driver, 5, 5)
    click(app_duo, "#radio-start")
    wait_until(lambda: len(chain_rows(app_duo)) >= 2, message="the radio's chain")
    second = app_duo.driver.find_elements(By.CSS_SELECTOR, "#chain-list .chain-item")[1]
    target = int(second.get_attribute("data-segment"))
    track, number = divmod(target, SEGMENT_ID_STRIDE)
    button = second.find_elements(By.TAG_NAME, "button")[0]  # ▶ from this moment
    app_duo.driver.execute_script("arguments[0].click()", button)
    wait_until(
        lambda: playing(app_duo)[0] == f"audio/{track}"
        and abs(playing(app_duo)[1] - number * SEGMENT_SECONDS) < 0.5,
        message="whole-track play from the moment",
    )
    status = app_duo.find_element("#flow-status").text
    assert status.startswith("Whole track: ") and "Stop to hover-play again" in status
    wait_until(lambda: " / " in app_duo.find_element("#play-position").text, message="position")
    # Hovering does not take the player away, but becomes the next seed.
    hover_ids = trace_ids(app_duo, 0)
    other = next(i for i, s in enumerate(hover_ids) if s // SEGMENT_ID_STRIDE not in (track,))
    move_to(app_duo.driver, *point_pixel(app_duo, 0, other))
    time.sleep(0.5)
    assert playing(app_duo)[0] == f"audio/{track}"
    # ⇤ under the player: the last hovered track from its start.
    click(app_duo, "#pin-start")
    hovered_track = hover_ids[other] // SEGMENT_ID_STRIDE
    wait_until(
        lambda: playing(app_duo)[0] == f"audio/{hovered_track}" and playing(app_duo)[1] < 1.0,
        message="the hovered track from its start",
    )
    assert segment // SEGMENT_ID_STRIDE == 2
    assert_no_console_errors(app_duo)


def test_flow005_a_path_takes_its_start_and_end_from_the_map(app_duo, collection):
    start, end = collection.by_id(0), collection.by_id(7)
    hover_segment_of(app_duo, 0)
    click(app_duo, "#path-start-from-map")
    hover_segment_of(app_duo, 7)
    click(app_duo, "#path-end-from-map")
    move_to(app_duo.driver, 5, 5)
    for component, chosen in (("#path-start", start), ("#path-end", end)):
        label = f"{chosen.artist} – {chosen.title}"
        wait_until(lambda c=component, label=label: label in app_duo.find_element(c).text,
                   message=f"{component} from the map")  # fmt: skip
    steps = app_duo.find_element("#path-steps")
    steps.clear()
    steps.send_keys("3")
    click(app_duo, "#path-button")
    rows = wait_until(lambda: len(chain_rows(app_duo)) == 3 and chain_rows(app_duo),
                      message=f"the path ({message(app_duo)!r})")  # fmt: skip
    names = [row.split(" @ ")[0] for row in rows]
    assert names[0] == f"{start.artist} – {start.title}"
    assert names[-1] == f"{end.artist} – {end.title}"
    assert_no_console_errors(app_duo)


def test_flow006_a_chain_is_drawn_on_maps_of_longer_windows(app_duo):
    from selenium.webdriver.support.ui import Select

    Select(app_duo.find_element("#segment-length")).select_by_value("4")
    wait_until(lambda: len(trace_ids(app_duo, 0)) == 7, message="12-s windows")
    hover_segment_of(app_duo, 0)
    move_to(app_duo.driver, 5, 5)
    click(app_duo, "#radio-start")
    wait_until(lambda: len(chain_rows(app_duo)) >= 3, message="the radio's chain")
    items = app_duo.driver.execute_script("return window.exploreDash.flow.state().items")
    for panel in (0, 1):
        wait_until(lambda p=panel: len(shown_chain(app_duo, p)) == items,
                   message=f"the chain on panel {panel}")  # fmt: skip
    click(app_duo, "#flow-stop")
    assert_no_console_errors(app_duo)


def test_flow007_the_default_radio_plays_a_small_library_through_and_ends_calmly(app_duo):
    # 5 playable tracks; by default 'No album twice' and 3 artists apart. Before: 4 tracks,
    # then "The radio has played every track its settings allow" in red (the error style).
    start_radio_from(app_duo, 2)
    wait_until(lambda: len(chain_rows(app_duo)) == 5, message="every playable track")
    seen = [status(app_duo)]
    for _ in range(12):  # Skip to the end (the last items ask for more, which there is not)
        if "Radio finished" in seen[-1]:
            break
        shown = seen[-1]
        click(app_duo, "#flow-skip")
        seen.append(wait_until(lambda s=shown: status(app_duo) != s and status(app_duo),
                               message="the next item"))  # fmt: skip
    # The first items fit the rules; the one that does not says which it relaxed, calmly.
    assert "variety" not in seen[0]
    assert any("Few tracks left fit the variety rules, so this one allows" in text
               for text in seen), seen  # fmt: skip
    wait_until(lambda: "Radio finished: it has played every track it may" in status(app_duo),
               message="the end")  # fmt: skip
    assert message(app_duo) == ""
    classes = app_duo.find_element("#flow-status").get_attribute("class")
    assert "text-danger" not in classes
    red, green, _ = app_duo.driver.execute_script(
        "return getComputedStyle(document.getElementById('flow-status')).color"
        ".match(/[0-9]+/g).map(Number)"
    )
    assert red - green < 60, (red, green)  # not the error's red
    assert player_paused(app_duo)
    assert_no_console_errors(app_duo)


def test_flow008_pause_reads_resume_while_paused(app_duo):
    from explore_dash.layouts.listening import PAUSE_LABEL, RESUME_LABEL

    button = app_duo.find_element("#flow-pause")
    assert button.text == PAUSE_LABEL
    start_radio_from(app_duo, 0)
    click(app_duo, "#flow-pause")
    wait_until(lambda: button.text == RESUME_LABEL, message="Resume while paused")
    assert RESUME_LABEL.startswith("\u25b6") and ", paused:" in status(app_duo)
    assert player_paused(app_duo)
    click(app_duo, "#flow-pause")
    wait_until(lambda: button.text == PAUSE_LABEL, message="Pause again")
    wait_until(lambda: not player_paused(app_duo), message="playing again")
    click(app_duo, "#flow-pause")
    wait_until(lambda: button.text == RESUME_LABEL, message="Resume")
    click(app_duo, "#flow-stop")  # a stopped chain is not paused
    wait_until(lambda: button.text == PAUSE_LABEL, message="Pause after Stop")
    assert_no_console_errors(app_duo)


def choose_listen(duo, value: str) -> None:
    """Choose Hover, Click or Off under Listen (a click on the radio input, as a user's)."""
    choice = duo.find_element(f"#listen-mode input[value='{value}']")
    duo.driver.execute_script("arguments[0].click()", choice)
    wait_until(lambda: choice.is_selected(), message=f"Listen = {value}")


def test_flow009_listen_off_stops_a_radio_and_a_hovered_moment(app_duo):
    start_radio_from(app_duo, 0)
    assert not player_paused(app_duo)
    choose_listen(app_duo, "off")
    wait_until(lambda: player_paused(app_duo), message="Off to stop the radio")
    wait_until(lambda: status(app_duo) == "Radio stopped", message="the radio stopped")
    assert app_duo.driver.execute_script("return window.exploreDash.flow.state().mode") is None
    # Off: hovering plays nothing.
    ids = trace_ids(app_duo, 0)
    other = next(i for i, s in enumerate(ids) if s // SEGMENT_ID_STRIDE == 7)
    move_to(app_duo.driver, *point_pixel(app_duo, 0, other))
    time.sleep(0.5)
    assert player_paused(app_duo) and playing(app_duo)[0] != "audio/7"
    # Hover again (another point: the map sends no new hover for the same one), then Off
    # stops the hovered moment.
    choose_listen(app_duo, "hover")
    hover_segment_of(app_duo, 5)
    wait_until(lambda: not player_paused(app_duo), message="the hovered moment to play")
    choose_listen(app_duo, "off")
    wait_until(lambda: player_paused(app_duo), message="Off to stop the hovered moment")
    first = next(i for i, s in enumerate(ids) if s // SEGMENT_ID_STRIDE == 0)
    move_to(app_duo.driver, *point_pixel(app_duo, 0, first))
    time.sleep(0.5)
    assert player_paused(app_duo) and playing(app_duo)[0] == "audio/5"
    assert_no_console_errors(app_duo)


def test_flow010_keep_playing_with_nothing_hovered_says_what_to_do(app_duo):
    from explore_dash.layouts.listening import PIN_HINT_TEXT

    click(app_duo, "#pin-moment")
    wait_until(lambda: app_duo.find_element("#pin-hint").text == PIN_HINT_TEXT,
               message="the hint under the buttons")  # fmt: skip
    assert message(app_duo) == "" and "◎" not in PIN_HINT_TEXT
    assert playing(app_duo)[0] is None
    hover_segment_of(app_duo, 0)  # a point hovered: the hint goes
    wait_until(lambda: app_duo.find_element("#pin-hint").text == "", message="the hint gone")
    assert_no_console_errors(app_duo)
