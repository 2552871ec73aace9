"""Reading the map in a real headless Chromium: colour, legend, and what is drawn over it."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from explore_dash.colouring import PALETTE  # noqa: E402
from extraction.contract import SEGMENT_ID_STRIDE  # noqa: E402
from tests.test_browser import (  # noqa: E402, F401  (fixtures)
    app_duo,
    assert_no_console_errors,
    collection,
    graph_js,
    trace_ids,
    wait_until,
)


def legend(duo, panel: int) -> list[str]:
    selector = f"[id='{{\"panel\":{panel},\"type\":\"panel-legend\"}}'] .legend-entry"
    return [e.get_attribute("title") for e in duo.driver.find_elements(By.CSS_SELECTOR, selector)]


def colour_of_tracks(duo, panel: int) -> dict[int, set[str]]:
    """Track -> the colours Plotly drew its points in (from the marker colours and scale)."""
    codes, scale = duo.driver.execute_script(
        f"const m = {graph_js(panel)}._fullData[0].marker;"
        "return [Array.from(m.color), m.colorscale];"
    )
    found: dict[int, set[str]] = {}
    for segment, code in zip(trace_ids(duo, panel), codes, strict=True):
        found.setdefault(segment // SEGMENT_ID_STRIDE, set()).add(scale[2 * int(code)][1])
    return found


def test_map001_colour_by_artist_is_the_same_in_both_panels_with_a_legend(app_duo, collection):
    assert legend(app_duo, 0) == [] and legend(app_duo, 1) == []
    Select(app_duo.find_element("#colour-by")).select_by_value("artist")
    names = ["Alpha", "Beta", "Delta", "Gamma"]  # most segments first
    for panel in (0, 1):
        wait_until(lambda p=panel: legend(app_duo, p) == names, message=f"legend {panel}")
    left, right = colour_of_tracks(app_duo, 0), colour_of_tracks(app_duo, 1)
    assert left == right
    by_artist = {t.artist: left[t.track] for t in collection.ok_tracks()}
    assert by_artist["Alpha"] == {PALETTE[0]} and by_artist["Beta"] == {PALETTE[1]}
    # A continuous scale instead of categories (tests/test_colouring.py checks the values).
    Select(app_duo.find_element("#colour-by")).select_by_value("position")
    wait_until(lambda: legend(app_duo, 0) == [], message="no legend for a scale")
    shown = app_duo.driver.execute_script(
        f"return {graph_js(0)}._fullData[0].marker.showscale"
    )
    assert shown is True
    assert_no_console_errors(app_duo)
