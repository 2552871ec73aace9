"""Reading the map in a real headless Chromium: colour, legend, and what is drawn over it."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from selenium.webdriver.support.ui import Select  # noqa: E402

from explore_dash.data.colouring import NONE, PALETTE  # noqa: E402
from extraction.contract import SEGMENT_ID_STRIDE  # noqa: E402
from tests.support.browser import (  # noqa: E402
    assert_no_console_errors,
    axis_ranges,
    choose_option,
    css_id,
    graph_js,
    trace_ids,
)
from tests.support.waiting import wait_until  # noqa: E402


def legend(duo, panel: int) -> list[str]:
    selector = f"[id='{{\"panel\":{panel},\"type\":\"panel-legend\"}}'] .legend-entry"
    # Read in one script: the legend may be redrawn between finding its entries and reading them.
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.title);", selector
    )


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
    # The maps start coloured by artist (test_layout_browser.py); grey first, then back.
    Select(app_duo.find_element("#colour-by")).select_by_value(NONE)
    for panel in (0, 1):
        wait_until(lambda p=panel: legend(app_duo, p) == [], message=f"no legend {panel}")
    Select(app_duo.find_element("#colour-by")).select_by_value("artist")
    names = ["Alpha", "Beta", "Delta", "Gamma"]  # most segments first
    for panel in (0, 1):
        wait_until(lambda p=panel: legend(app_duo, p) == names, message=f"legend {panel}")
    left, right = colour_of_tracks(app_duo, 0), colour_of_tracks(app_duo, 1)
    assert left == right
    by_artist = {t.artist: left[t.track] for t in collection.ok_tracks()}
    assert by_artist["Alpha"] == {PALETTE[0]} and by_artist["Beta"] == {PALETTE[1]}
    # A continuous scale instead of categories (tests/unit/test_colouring.py checks the values).
    Select(app_duo.find_element("#colour-by")).select_by_value("position")
    wait_until(lambda: legend(app_duo, 0) == [], message="no legend for a scale")
    shown = app_duo.driver.execute_script(
        f"return {graph_js(0)}._fullData[0].marker.showscale"
    )
    assert shown is True
    assert_no_console_errors(app_duo)


def points_of_track(duo, panel: int, track: int) -> list[tuple[float, float]]:
    xs, ys = duo.driver.execute_script(
        f"const t = {graph_js(panel)}._fullData[0]; return [Array.from(t.x), Array.from(t.y)];"
    )
    ids = trace_ids(duo, panel)
    return [(x, y) for x, y, s in zip(xs, ys, ids, strict=True) if s // SEGMENT_ID_STRIDE == track]


def test_map002_search_highlights_the_track_and_zooms_both_maps_to_it(app_duo, collection):
    before = [axis_ranges(app_duo, panel) for panel in (0, 1)]
    search = app_duo.find_element("#search")
    search.send_keys("ETUDE")  # the title is "Étude"
    wait_until(lambda: "1 track" in app_duo.find_element("#search-message").text,
               message="the search's message")  # fmt: skip
    etude = [t for t in collection.ok_tracks() if t.title == "Étude"][0]
    for panel in (0, 1):
        wait_until(lambda p=panel: {s // SEGMENT_ID_STRIDE for s in trace_ids(app_duo, p, 1)}
                   == {etude.track}, message=f"highlight in panel {panel}")  # fmt: skip
        wait_until(lambda p=panel: axis_ranges(app_duo, p) != before[p], message="zoom")
        (x0, x1), (y0, y1) = axis_ranges(app_duo, panel)
        found = points_of_track(app_duo, panel, etude.track)
        for x, y in found:
            assert x0 <= x <= x1 and y0 <= y <= y1
        # Centred on the track's segments (in the fake collection they span most of the map).
        for axis, (low, high) in enumerate(((x0, x1), (y0, y1))):
            values = [point[axis] for point in found]
            centre = (min(values) + max(values)) / 2
            assert abs((low + high) / 2 - centre) < 0.01 * (high - low)
    assert_no_console_errors(app_duo)


def test_map003_a_trajectory_joins_a_tracks_segments_in_order_on_both_maps(app_duo, collection):
    app_duo.driver.execute_script("document.getElementById('trajectories').click()")
    app_duo.find_element("#search").send_keys("etude")
    etude = [t for t in collection.ok_tracks() if t.title == "Étude"][0]
    for panel in (0, 1):
        line = wait_until(
            lambda p=panel: app_duo.driver.execute_script(
                f"const d = {graph_js(p)}._fullData;"
                "return d[2] && d[2].x.length ? [Array.from(d[2].x), Array.from(d[2].y),"
                " Array.from(d[3].customdata)] : null;"
            ),
            message=f"the trajectory in panel {panel}",
        )
        xs, ys, ends = line
        assert ends == [etude.track * SEGMENT_ID_STRIDE,
                        etude.track * SEGMENT_ID_STRIDE + etude.n_segments - 1]  # fmt: skip
        # The line goes through the track's points in time order.
        segment_xy = dict(zip(trace_ids(app_duo, panel), zip(*app_duo.driver.execute_script(
            f"const t = {graph_js(panel)}._fullData[0]; return [Array.from(t.x), Array.from(t.y)];"
        ), strict=True), strict=True))  # fmt: skip
        first = etude.track * SEGMENT_ID_STRIDE
        expected = [segment_xy[first + i] for i in range(etude.n_segments)]
        assert [tuple(p) for p in zip(xs, ys, strict=True)] == [tuple(p) for p in expected]
    assert_no_console_errors(app_duo)


def shown_captions(duo, panel: int) -> list[tuple[str, float, float]]:
    return [tuple(c) for c in duo.driver.execute_script(
        f"return ({graph_js(panel)}.layout.annotations || [])"
        ".map(a => [a.text, a.x, a.y]);"
    )]  # fmt: skip


@pytest.fixture
def small_regions(monkeypatch):
    """Regions of 4 points: the fake collection's 20-point maps get captions (a real map needs
    24 points a caption, explore_dash/maps/captions.py)."""
    from explore_dash.maps import captions

    monkeypatch.setattr(captions, "MIN_POINTS_PER_REGION", 4)


def caption_boxes(duo) -> list[dict]:
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.annotation')).map(e => {"
        " const r = e.getBoundingClientRect();"
        " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; });"
    )


def test_map004_captions_are_drawn_on_both_maps_and_change_with_the_map(small_regions, app_duo):
    assert shown_captions(app_duo, 0) == []
    app_duo.driver.execute_script("document.getElementById('captions').click()")
    for panel in (0, 1):
        wait_until(lambda p=panel: shown_captions(app_duo, p), message=f"captions in {panel}")
    drawn = app_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.annotation-text')).map(e => e.textContent)"
    )
    before = shown_captions(app_duo, 0)
    assert sorted(drawn) == sorted(t for p in (0, 1) for t, _, _ in shown_captions(app_duo, p))
    choose_option(app_duo, "#" + css_id({"panel": 0, "type": "panel-layer"}), "Taggram")
    wait_until(lambda: shown_captions(app_duo, 0) and shown_captions(app_duo, 0) != before,
               message="captions of the new map")  # fmt: skip
    app_duo.driver.execute_script("document.getElementById('captions').click()")
    wait_until(lambda: shown_captions(app_duo, 0) == shown_captions(app_duo, 1) == [],
               message="captions taken away")  # fmt: skip
    assert_no_console_errors(app_duo)


def test_map008_no_two_captions_overlap_and_they_write_tags_as_the_tag_list(small_regions, app_duo):
    app_duo.driver.execute_script("document.getElementById('captions').click()")
    for panel in (0, 1):
        wait_until(lambda p=panel: shown_captions(app_duo, p), message=f"captions in {panel}")
    boxes = caption_boxes(app_duo)
    assert boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = (a["right"] <= b["left"] or b["right"] <= a["left"]
                     or a["bottom"] <= b["top"] or b["bottom"] <= a["top"])  # fmt: skip
            assert apart, (a, b)
    for text, _, _ in shown_captions(app_duo, 0) + shown_captions(app_duo, 1):
        assert text == text.lower()
    assert_no_console_errors(app_duo)


def test_map005_12_s_windows_show_a_quarter_of_the_points_and_play_12_s(app_duo, collection):
    from extraction.contract import SEGMENT_SECONDS
    from tests.support.browser import point_pixel
    from tests.support.pointer import move_to

    Select(app_duo.find_element("#segment-length")).select_by_value("4")
    for panel in (0, 1):
        wait_until(lambda p=panel: len(trace_ids(app_duo, p)) == 7,  # 20 segments, 5 tracks
                   message=f"windows in panel {panel}")  # fmt: skip
    count = app_duo.find_element("#" + css_id({"panel": 0, "type": "panel-count"}))
    wait_until(lambda: count.text == "7 windows of 12 s", message="the count line")
    ids = trace_ids(app_duo, 0)
    index = next(i for i, s in enumerate(ids) if s // SEGMENT_ID_STRIDE == 2)  # Étude, 0-12 s
    move_to(app_duo.driver, *point_pixel(app_duo, 0, index))
    player = "document.getElementById('player')"
    wait_until(lambda: app_duo.driver.execute_script(f"return {player}.getAttribute('src')")
               == "audio/2", message="hover to play the window")  # fmt: skip
    stop = float(app_duo.driver.execute_script(f"return {player}.dataset.stopAt"))
    assert stop == pytest.approx(4 * SEGMENT_SECONDS, abs=1e-3)
    # Near the window's end, the player stops by itself.
    app_duo.driver.execute_script(f"{player}.currentTime = {stop - 0.4}; {player}.play()")
    wait_until(lambda: app_duo.driver.execute_script(f"return {player}.paused"), timeout=5,
               message="the window to end")  # fmt: skip
    assert app_duo.driver.execute_script(f"return {player}.currentTime") >= stop - 0.05
    assert_no_console_errors(app_duo)


def test_map006_a_selection_mirrored_on_a_coloured_map_keeps_its_colours(app_duo, collection):
    from tests.support.browser import box_select, layer_pixel, shown_selection

    Select(app_duo.find_element("#colour-by")).select_by_value("artist")
    for panel in (0, 1):
        wait_until(lambda p=panel: legend(app_duo, p), message=f"legend {panel}")
    box_select(app_duo, 0, (0, 0), (1, 1))  # everything
    mirrored = wait_until(lambda: shown_selection(app_duo, 1), message="mirrored selection")
    artist = {t.track: t.artist for t in collection.ok_tracks()}
    order = ["Alpha", "Beta", "Delta", "Gamma"]
    for name in ("Alpha", "Beta"):
        segment = next(s for s in mirrored if artist[s // SEGMENT_ID_STRIDE] == name)
        red, green, blue, alpha = layer_pixel(app_duo, 1, segment)
        hex_colour = PALETTE[order.index(name)]
        want = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
        # Drawn at the selected opacity over the veil: close to the category's colour.
        drawn = (red, green, blue)
        assert alpha > 230, name
        assert max(abs(a - b) for a, b in zip(drawn, want, strict=True)) < 40, (name, drawn)
    assert_no_console_errors(app_duo)


def test_map007_a_selection_shows_at_once_on_the_whole_map_and_can_get_its_own(app_duo):
    count = app_duo.find_element("#" + css_id({"panel": 0, "type": "panel-count"}))
    button = app_duo.find_element("#" + css_id({"panel": 0, "type": "panel-recompute"}))
    choose_option(app_duo, "#" + css_id({"panel": 0, "type": "panel-projection"}), "t-SNE")
    title = f"return {graph_js(0)}.layout.title.text"
    wait_until(lambda: app_duo.driver.execute_script(title).endswith("t-SNE")
               and count.text == "20 segments", timeout=60,
               message="the whole t-SNE map")  # fmt: skip
    assert not button.is_displayed()
    choose_option(app_duo, "#music-artists", "Alpha")
    wait_until(lambda: count.text == "8 segments · placed on the whole collection's map",
               message="the subset on the whole map")  # fmt: skip
    assert len(trace_ids(app_duo, 0)) == 8 and button.is_displayed()
    button.click()
    wait_until(lambda: count.text == "8 segments", timeout=60, message="a map of its own")
    wait_until(lambda: not button.is_displayed(), message="the button to go")
    assert_no_console_errors(app_duo)
