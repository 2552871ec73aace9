"""The playlist is the user's work, in a real headless Chromium: selections offer to add to an
edited playlist or replace it, Undo brings back what was replaced or removed, and a click that
plays selects nothing (issue 32, item 3); its rows' ↑ and ↓ and the export message (item 13)."""

# Fixtures imported from tests/browser/test_browser.py are taken as parameters by name.
# ruff: noqa: F811

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from selenium.webdriver.common.by import By  # noqa: E402

from extraction.contract import SEGMENT_ID_STRIDE  # noqa: E402
from tests.support.browser import (  # noqa: E402
    assert_no_console_errors,
    box_select,
    plot_box,
    point_pixel,
    selected_points,
    shown_selection,
    trace_ids,
)
from tests.support.pointer import double_click, move_to, press  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def rows(duo) -> list[int]:
    """The playlist's tracks, top to bottom."""
    # Read in one script: the rows are drawn anew at each change, under a loop over elements.
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.playlist-entry'), r => +r.dataset.track)"
    )


def wait_for_rows(duo, expected: list[int], message: str) -> None:
    wait_until(lambda: rows(duo) == expected, message=f"{message}: rows {expected}")


def click(duo, element) -> None:
    duo.driver.execute_script("arguments[0].click()", element)


def click_row_button(duo, track: int, title: str) -> None:
    """Click a row's button, found when clicked (the rows are drawn anew at each change)."""
    clicked = duo.driver.execute_script(
        "const row = document.querySelector(arguments[0]);"
        "const button = row && row.querySelector(arguments[1]);"
        "if (button) { button.click(); } return Boolean(button);",
        f'.playlist-entry[data-track="{track}"]',
        f'button[title="{title}"]',
    )
    assert clicked, (track, title)


def buttons_of(duo, track: int) -> list[str]:
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), b => b.title)",
        f'.playlist-entry[data-track="{track}"] button',
    )


def selected_tracks(duo, panel: int) -> list[int]:
    """The tracks of a box selection made on ``panel``, the most selected first (as the server
    orders them: ties keep their first segment's order)."""
    ids = trace_ids(duo, panel)
    counts: dict[int, int] = {}
    for index in sorted(selected_points(duo, panel)):
        track = ids[index] // SEGMENT_ID_STRIDE
        counts[track] = counts.get(track, 0) + 1
    return sorted(counts, key=lambda track: -counts[track])


def offer(duo) -> str | None:
    """The "Selection: N tracks" offer's text, or None while it is hidden."""
    box = duo.find_element("#playlist-offer")
    return None if box.get_attribute("hidden") is not None else box.text


def test_playlist101_an_edited_playlist_survives_new_selections_and_undo_brings_back_five(
    app_duo,
):
    box_select(app_duo, 0, (0, 0), (0.5, 1))
    first = selected_tracks(app_duo, 0)
    assert len(first) >= 2
    wait_for_rows(app_duo, first, "the selection's playlist")
    # The user makes it theirs: the first row goes down.
    click_row_button(app_duo, first[0], "Move down")
    mine = [first[1], first[0], *first[2:]]
    wait_for_rows(app_duo, mine, "moved down")
    # A double-click off the selection clears it; the playlist stays.
    left, top, width, height = plot_box(app_duo, 0)
    double_click(app_duo.driver, left + width * 0.8, top + height / 2)
    wait_until(lambda: shown_selection(app_duo, 1) == [] and selected_points(app_duo, 0) is None,
               message="the selection cleared")  # fmt: skip
    assert rows(app_duo) == mine
    # A new selection offers to add or replace, and replaces nothing by itself.
    box_select(app_duo, 1, (0, 0), (1, 1))
    every = selected_tracks(app_duo, 1)
    assert len(every) == 5
    text = wait_until(lambda: offer(app_duo), message="the offer")
    assert text.startswith(f"Selection: 5 tracks ({5 - len(mine)} not in the playlist).")
    assert "Add to playlist" in text and "Replace playlist" in text
    assert rows(app_duo) == mine
    click(app_duo, app_duo.find_element("#playlist-replace"))
    wait_for_rows(app_duo, every, "replaced")
    assert offer(app_duo) is None
    assert "Undo brings back" in app_duo.find_element("#playlist-message").text
    # Four removals: with the playlist before the replacement, five states kept.
    states = [mine, every]
    for track in every[:4]:
        click_row_button(app_duo, track, "Remove")
        states.append([t for t in states[-1] if t != track])
        wait_for_rows(app_duo, states[-1], f"removed {track}")
    undo = app_duo.find_element("#playlist-undo")
    for expected in reversed(states[:-1]):
        assert undo.get_attribute("disabled") is None
        click(app_duo, undo)
        wait_for_rows(app_duo, expected, "undone")
    wait_until(lambda: undo.get_attribute("disabled") is not None, message="nothing left to undo")
    # Redo goes forward again; the menu names the kept states.
    click(app_duo, app_duo.find_element("#playlist-redo"))
    wait_for_rows(app_duo, every, "redone")
    assert_no_console_errors(app_duo)


def test_playlist102_a_click_in_listen_click_mode_plays_and_selects_nothing(app_duo):
    box_select(app_duo, 0, (0, 0), (1, 1))
    chosen = sorted(shown_selection(app_duo, 1))
    every = selected_tracks(app_duo, 0)
    wait_for_rows(app_duo, every, "the selection's playlist")
    listen = app_duo.driver.find_element(By.CSS_SELECTOR, "#listen-mode input[value=click]")
    click(app_duo, listen)
    wait_until(lambda: listen.is_selected(), message="Listen = Click")
    # Click a point of the other map (off the selection's outline, which Plotly keeps).
    ids = trace_ids(app_duo, 1)
    index = next(i for i, s in enumerate(ids) if s // SEGMENT_ID_STRIDE != every[0])
    move_to(app_duo.driver, *point_pixel(app_duo, 1, index))
    press(app_duo.driver, True)
    press(app_duo.driver, False)
    track = ids[index] // SEGMENT_ID_STRIDE
    wait_until(
        lambda: app_duo.driver.execute_script(
            "return document.getElementById('player').getAttribute('src')"
        ) == f"audio/{track}",
        message="the click to play",
    )  # fmt: skip
    # Nothing else changed: the same selection on both maps, the same playlist.
    assert selected_points(app_duo, 1) is None
    assert sorted(shown_selection(app_duo, 1)) == chosen
    assert rows(app_duo) == every
    assert_no_console_errors(app_duo)


def test_playlist103_each_row_has_the_up_and_down_that_can_act(app_duo):
    box_select(app_duo, 0, (0, 0), (1, 1))
    order = selected_tracks(app_duo, 0)
    wait_for_rows(app_duo, order, "the playlist")
    first, last = order[0], order[-1]
    assert buttons_of(app_duo, first) == ["Play the whole track", "Move down", "Remove"]
    assert buttons_of(app_duo, last) == ["Play the whole track", "Move up", "Remove"]
    assert buttons_of(app_duo, order[1]) == ["Play the whole track", "Move up", "Move down",
                                             "Remove"]  # fmt: skip
    click_row_button(app_duo, first, "Move down")
    order = [order[1], first, *order[2:]]
    wait_for_rows(app_duo, order, "the first row down")
    click_row_button(app_duo, last, "Move up")
    order = [*order[:-2], last, order[-2]]
    wait_for_rows(app_duo, order, "the last row up")
    click_row_button(app_duo, first, "Move up")
    order = [first, *[t for t in order if t != first]]
    wait_for_rows(app_duo, order, "back to the top")
    assert "Move up" not in buttons_of(app_duo, first)
    assert_no_console_errors(app_duo)


def test_playlist104_the_saved_message_goes_when_the_playlist_changes(app_duo):
    box_select(app_duo, 0, (0, 0), (1, 1))
    order = selected_tracks(app_duo, 0)
    wait_for_rows(app_duo, order, "the playlist")
    click(app_duo, app_duo.find_element("#playlist-export"))
    wait_until(lambda: app_duo.find_element("#playlist-message").text.startswith("Saved 5 tracks"),
               message="the export's message")  # fmt: skip
    click_row_button(app_duo, order[0], "Remove")
    wait_for_rows(app_duo, order[1:], "a row removed")
    wait_until(lambda: app_duo.find_element("#playlist-message").text == "",
               message="the message of the playlist before gone")  # fmt: skip
    # An exported playlist is the user's: a new selection only offers.
    box_select(app_duo, 1, (0, 0), (1, 1))
    wait_until(lambda: offer(app_duo), message="the offer")
    assert rows(app_duo) == order[1:]
    assert_no_console_errors(app_duo)


def test_playlist105_earlier_playlists_go_back_several_states_at_once(app_duo):
    box_select(app_duo, 0, (0, 0), (1, 1))
    states = [selected_tracks(app_duo, 0)]
    wait_for_rows(app_duo, states[0], "the playlist")
    for track in states[0][:3]:
        click_row_button(app_duo, track, "Remove")
        states.append([t for t in states[-1] if t != track])
        wait_for_rows(app_duo, states[-1], f"removed {track}")
    # The menu lists the three kept states, the newest first, each with its size.
    click(app_duo, app_duo.find_element("#playlist-kept button"))
    items = wait_until(
        lambda: app_duo.driver.execute_script(
            "return Array.from(document.querySelectorAll('#playlist-kept .dropdown-item'),"
            " e => e.innerText)"
        ),
        message="the kept playlists",
    )
    assert [item.split(":")[0] for item in items] == ["3 tracks", "4 tracks", "5 tracks"]
    picked = app_duo.driver.find_elements(By.CSS_SELECTOR, "#playlist-kept .dropdown-item")[2]
    click(app_duo, picked)
    wait_for_rows(app_duo, states[0], "three states back at once")
    # What was left can be redone, step by step.
    click(app_duo, app_duo.find_element("#playlist-redo"))
    wait_for_rows(app_duo, states[1], "redone")
    assert_no_console_errors(app_duo)
