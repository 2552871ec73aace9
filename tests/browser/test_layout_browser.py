"""The page's layout and first load in a real headless Chromium: what is in view on a desktop
screen, the newcomer's hint, the colours and the drag the maps start with."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.support.browser import (  # noqa: E402
    RECORD_REQUESTS,
    assert_no_console_errors,
    graph_js,
    inside,
    plot_box,
    point_pixel,
    selected_points,
    trace_ids,
    updated_outputs,
    wait_for_points,
    wait_for_quiet_callbacks,
)
from tests.support.pointer import drag, move_to  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402

#: What the page must show without scrolling, by CSS selector.
IN_VIEW = {
    "left map's plot area": '[id=\'{"panel":0,"type":"panel-graph"}\'] .nsewdrag',
    "right map's plot area": '[id=\'{"panel":1,"type":"panel-graph"}\'] .nsewdrag',
    "player": "#player",
    "radio start button": "#radio-start",
    "path button": "#path-button",
    "playlist's list": "#playlist-list",
    "export button": "#playlist-export",
}

#: Each element's box, and whether it lies wholly inside the viewport (1 px of rounding).
BOXES = """
return Object.fromEntries(Object.entries(arguments[0]).map(([name, selector]) => {
  const element = document.querySelector(selector);
  if (!element) return [name, null];
  const r = element.getBoundingClientRect();
  const inView = r.width > 0 && r.height > 0 && r.left >= -1 && r.top >= -1
    && r.right <= innerWidth + 1 && r.bottom <= innerHeight + 1;
  return [name, {box: [r.left, r.top, r.right, r.bottom].map(Math.round), inView: inView}];
}));
"""


def set_viewport(duo, width: int, height: int) -> None:
    """The page's viewport exactly (a window's size also counts its frame), then wait until the
    page has laid itself out for it."""
    duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    wait_until(
        lambda: duo.driver.execute_script("return [innerWidth, innerHeight]") == [width, height],
        message=f"a {width} x {height} viewport",
    )


def hint_shown(duo) -> bool:
    return duo.driver.execute_script(
        "const hint = document.querySelector('.explore-hint');"
        "return !!hint && hint.getBoundingClientRect().height > 0;"
    )


def open_point(duo, panel: int) -> int:
    """The index of a point whose pixel reaches the plot (not a legend or label over it)."""
    for index in range(len(trace_ids(duo, panel))):
        x, y = point_pixel(duo, panel, index)
        reaches = duo.driver.execute_script(
            "const e = document.elementFromPoint(arguments[0], arguments[1]);"
            f"return !!e && e.classList.contains('nsewdrag') && {graph_js(panel)}.contains(e);",
            x,
            y,
        )
        if reaches:
            return index
    raise AssertionError(f"every point of panel {panel} is covered")


def test_layout_browser001_at_1600x1000_maps_player_radio_path_and_playlist_in_view(app_duo):
    """Issue 32, item 11: the listening controls sat ~2,000 px down the sidebar."""
    set_viewport(app_duo, 1600, 1000)

    def boxes():
        found = app_duo.driver.execute_script(BOXES, IN_VIEW)
        if not all(b and b["inView"] for b in found.values()):
            return None
        # Maps a user can read, each plot area at least 400 x 400 px (once the maps have
        # followed the new viewport: dcc.Graph resizes after the window does).
        maps = [found[n]["box"] for n in IN_VIEW if "plot area" in n]
        return found if all(b[3] - b[1] >= 400 and b[2] - b[0] >= 400 for b in maps) else None

    try:
        found = wait_until(boxes, message="every listening control and both maps in view")
    except AssertionError:
        raise AssertionError(
            f"not in view: {app_duo.driver.execute_script(BOXES, IN_VIEW)}"
        ) from None
    assert app_duo.driver.execute_script("return window.scrollY") == 0
    # The listening row is under the maps, not beside or over them.
    maps_bottom = max(found[n]["box"][3] for n in IN_VIEW if "plot area" in n)
    assert found["player"]["box"][1] > maps_bottom
    assert_no_console_errors(app_duo)


def test_layout_browser002_no_horizontal_scroll_on_a_390_px_phone(app_duo):
    app_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )
    wait_until(lambda: app_duo.driver.execute_script("return innerWidth") == 390, message="390 px")
    app_duo.driver.refresh()
    for panel in (0, 1):
        wait_for_points(app_duo, panel)
    widths = app_duo.driver.execute_script(
        "window.scrollTo(500, 0);"
        "return [innerWidth, document.documentElement.scrollWidth, document.body.scrollWidth,"
        " window.scrollX];"
    )
    assert widths[1] <= widths[0] and widths[2] <= widths[0] and widths[3] == 0, widths
    assert_no_console_errors(app_duo)


def test_layout_browser003_the_hint_goes_once_a_hover_plays_and_stays_gone(app_duo):
    """Issue 32, item 12a: nothing told a newcomer to point at a dot."""
    wait_until(lambda: hint_shown(app_duo), message="the hint on a first visit")
    assert "Point at a dot" in app_duo.find_element(".explore-hint").text
    index = open_point(app_duo, 0)
    move_to(app_duo.driver, *point_pixel(app_duo, 0, index))
    wait_until(
        lambda: app_duo.driver.execute_script(
            "const a = document.getElementById('player'); return !!a.src && !a.paused;"
        ),
        message="the hover to play",
    )
    wait_until(lambda: not hint_shown(app_duo), message="the hint to go")
    app_duo.driver.refresh()
    for panel in (0, 1):
        wait_for_points(app_duo, panel)
    assert app_duo.driver.find_elements("css selector", ".explore-hint")  # drawn, and hidden
    assert not hint_shown(app_duo)
    assert_no_console_errors(app_duo)


def test_layout_browser004_the_hint_can_be_closed_and_stays_closed(app_duo):
    wait_until(lambda: hint_shown(app_duo), message="the hint on a first visit")
    app_duo.find_element(".explore-hint .btn-close").click()
    wait_until(lambda: not hint_shown(app_duo), message="the hint to close")
    app_duo.driver.refresh()
    for panel in (0, 1):
        wait_for_points(app_duo, panel)
    assert not hint_shown(app_duo)
    assert_no_console_errors(app_duo)


def test_layout_browser005_colour_by_starts_at_artist(app_duo):
    """Issue 32, item 12b: the maps started grey ("nothing")."""
    assert Select(app_duo.find_element("#colour-by")).first_selected_option.text == "artist"
    legend = '[id=\'{"panel":0,"type":"panel-legend"}\'] .legend-entry'
    wait_until(
        lambda: (
            app_duo.driver.execute_script(
                "return Array.from(document.querySelectorAll(arguments[0]), e => e.title);", legend
            )
            == ["Alpha", "Beta", "Delta", "Gamma"]
        ),
        message="the artists' legend",
    )
    assert (
        app_duo.driver.execute_script(f"return {graph_js(0)}._fullData[0].marker.colorscale.length")
        > 2
    )  # a stepped scale of categories, not one grey
    assert_no_console_errors(app_duo)


def test_layout_browser006_a_drag_on_the_map_pans_and_selects_nothing(app_duo):
    """Issue 32, item 12c: the default drag drew a lasso, which replaced the playlist."""
    ranges = f"const l = {graph_js(0)}._fullLayout; return [l.xaxis.range, l.yaxis.range];"
    assert app_duo.driver.execute_script(f"return {graph_js(0)}._fullLayout.dragmode") == "pan"
    before = app_duo.driver.execute_script(ranges)
    app_duo.driver.execute_script(RECORD_REQUESTS)
    box = plot_box(app_duo, 0)
    drag(app_duo.driver, inside(box, (0.3, 0.4)), inside(box, (0.6, 0.6)))
    wait_until(lambda: app_duo.driver.execute_script(ranges) != before, message="the map to move")
    after = app_duo.driver.execute_script(ranges)
    # Moved, not zoomed: each axis keeps its span.
    for axis in (0, 1):
        span_before = before[axis][1] - before[axis][0]
        span_after = after[axis][1] - after[axis][0]
        assert span_after == pytest.approx(span_before, rel=1e-6)
    wait_for_quiet_callbacks(app_duo)
    assert selected_points(app_duo, 0) is None
    # Nothing asked the server for a selection or a playlist.
    assert not [o for o in updated_outputs(app_duo) if "playlist" in str(o.get("id"))]
    assert app_duo.driver.find_elements("css selector", ".playlist-entry") == []
    assert_no_console_errors(app_duo)


def test_layout_browser007_the_listening_cards_never_scroll_sideways_on_laptop_widths(app_duo):
    """The Path row needs about 360 px: on 1200-1500 px screens its button went past the Radio
    card's edge (76 px at 1200, 35 px at 1366), the card scrolling sideways."""
    for width in (1200, 1280, 1366, 1440, 1600):
        set_viewport(app_duo, width, 900)
        overflow = app_duo.driver.execute_script(
            "const button = document.getElementById('path-button').getBoundingClientRect();"
            "const body = document.getElementById('path-button').closest('.card-body');"
            "const cards = Array.from(document.querySelectorAll('.listening-row .card-body'));"
            "return [button.right - body.getBoundingClientRect().right,"
            " cards.map(c => c.scrollWidth - c.clientWidth)];"
        )
        past_edge, sideways = overflow
        assert past_edge <= 0, f"Path button {past_edge:.0f} px past the card at {width} px"
        assert max(sideways) <= 0, f"a listening card scrolls sideways at {width} px: {sideways}"
    assert_no_console_errors(app_duo)
