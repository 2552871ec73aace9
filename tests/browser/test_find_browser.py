"""Find (the search box) in a real headless Chromium: what it highlights and zooms, and what it
gives back when it finds nothing."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from extraction.contract import SEGMENT_ID_STRIDE  # noqa: E402
from tests.support.browser import assert_no_console_errors, axis_ranges, trace_ids  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def flat(ranges) -> list[float]:
    return [value for axis in ranges for value in axis]


def test_find001_no_match_or_a_cleared_box_gives_back_highlight_and_zoom(app_duo, collection):
    from selenium.webdriver.common.keys import Keys

    full = [axis_ranges(app_duo, panel) for panel in (0, 1)]
    etude = [t for t in collection.ok_tracks() if t.title == "Étude"][0]
    message = app_duo.find_element("#search-message")
    search = app_duo.find_element("#search")

    def found_and_zoomed():
        search.send_keys("etud")
        wait_until(lambda: "1 track" in message.text, message="the search's message")
        for panel in (0, 1):
            wait_until(lambda p=panel: {s // SEGMENT_ID_STRIDE for s in trace_ids(app_duo, p, 1)}
                       == {etude.track}, message=f"highlight in panel {panel}")  # fmt: skip
            wait_until(lambda p=panel: axis_ranges(app_duo, p) != full[p], message="zoom")

    def given_back(why):
        for panel in (0, 1):
            wait_until(lambda p=panel: not trace_ids(app_duo, p, 1),
                       message=f"no highlight in panel {panel} ({why})")  # fmt: skip
            wait_until(lambda p=panel: flat(axis_ranges(app_duo, p))
                       == pytest.approx(flat(full[p])),
                       message=f"the full view in panel {panel} ({why})")  # fmt: skip

    found_and_zoomed()
    search.send_keys("x")  # "etudx": nothing matches
    wait_until(lambda: "Nothing matches" in message.text, message="no match")
    given_back("no match")
    search.send_keys(Keys.BACKSPACE * 5)  # cleared
    found_and_zoomed()
    search.send_keys(Keys.BACKSPACE * 4)
    wait_until(lambda: message.text == "", message="the message to go")
    given_back("cleared")
    assert_no_console_errors(app_duo)
