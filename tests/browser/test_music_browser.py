"""The Music card in a real headless Chromium: the thinning slider and its number box."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from tests.support.browser import assert_no_console_errors, trace_ids  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def thinned_count(fake, every_n: int) -> int:
    """Points of panel 0's map (its default space) keeping every n-th segment of each track."""
    from pathlib import Path

    from explore_dash.data.snapshot import Snapshot
    from explore_dash.maps.points import visible_points
    from explore_dash.maps.settings import DEFAULT_PANELS

    snapshot = Snapshot.load(fake.data_dir)
    points = visible_points(snapshot, Path("/nonexistent"), DEFAULT_PANELS[0], [], [], every_n)
    return len(points.segment_ids)


def test_music001_a_handle_released_on_a_mark_gives_that_marks_value(app_duo, collection):
    """Dash 4's slider measured the pointer over its whole width but drew its marks and thumb
    8 px further in: a drag released on "5" gave 6."""
    from selenium.webdriver.common.action_chains import ActionChains

    thumb = wait_until(lambda: app_duo.driver.find_elements(
        "css selector", "#music-reduction .dash-slider-thumb"), message="the slider")[0]
    for label, value in (("5", 5), ("10", 10), ("1", 1)):
        start, mark = app_duo.driver.execute_script(
            "const centre = e => { const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; };"
            "const marks = document.querySelectorAll('#music-reduction .dash-slider-mark');"
            "return [centre(arguments[0]),"
            " centre(Array.from(marks).find(m => m.textContent === arguments[1]))];",
            thumb, label,
        )
        steps = 6
        chain = ActionChains(app_duo.driver).click_and_hold(thumb)
        moved = 0
        for step in range(1, steps + 1):
            to = round((mark[0] - start[0]) * step / steps)
            chain.move_by_offset(to - moved, 0)
            moved = to
        chain.release().perform()
        box = app_duo.find_element("#music-reduction-box")
        wait_until(lambda v=value, b=box: b.get_attribute("value") == str(v),
                   message=f"the box to say {value}")  # fmt: skip
        assert thumb.get_attribute("aria-valuenow") == str(value)
        for panel in (0, 1):
            want = thinned_count(collection, value)
            wait_until(lambda p=panel, w=want: len(trace_ids(app_duo, p) or []) == w,
                       message=f"panel {panel} at {value}")  # fmt: skip
    assert_no_console_errors(app_duo)


def test_music002_a_number_typed_in_the_box_applies_on_enter(app_duo, collection):
    from selenium.webdriver.common.keys import Keys

    want = thinned_count(collection, 4)
    assert want != len(trace_ids(app_duo, 0))
    box = app_duo.find_element("#music-reduction-box")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("4", Keys.ENTER)
    for panel in (0, 1):
        wait_until(lambda p=panel: len(trace_ids(app_duo, p) or []) == want,
                   message=f"panel {panel} redrawn with every 4th segment")  # fmt: skip
    # Applied by Enter, not by leaving the box: it still has the focus.
    focused = app_duo.driver.execute_script("return document.activeElement.id")
    assert focused == "music-reduction-box"
    value = app_duo.driver.execute_script(
        "return document.querySelector('#music-reduction .dash-slider-thumb')"
        ".getAttribute('aria-valuenow')"
    )
    assert value == "4"
    assert_no_console_errors(app_duo)


def test_music003_the_box_and_the_slider_follow_each_other():
    from dash import no_update

    from explore_dash.callbacks.sidebar import every_n_shown

    assert every_n_shown(False, 5, 1, 30) == (no_update, 5)  # the slider moved
    assert every_n_shown(True, 1, 4, 30) == (4, no_update)  # a number typed, Enter
    assert every_n_shown(True, 1, 4.4, 30) == (4, 4)  # rounded, and shown rounded
    assert every_n_shown(True, 1, 99, 30) == (30, 30) and every_n_shown(True, 3, 0, 30) == (1, 1)
    assert every_n_shown(True, 3, None, 30) == (no_update, 3)  # emptied: the slider's value back
