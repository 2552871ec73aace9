"""The explorer in a real headless Chromium (dash_duo + system chromedriver).

Interactions are real pointer events where Plotly allows it: the mouse is moved onto a point's
pixel to hover, and dragged to box-select.
"""

from __future__ import annotations

import time

import flask
import pytest

# Without chromium and chromedriver, tests/conftest.py stops the run before any test starts.
pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from explore_dash.config import AppConfig  # noqa: E402
from explore_dash.data.colouring import NONE  # noqa: E402
from explore_dash.maps.figures import BASE_COLOR  # noqa: E402
from explore_dash.server.app import create_app  # noqa: E402
from extraction.contract import SEGMENT_ID_STRIDE, SEGMENT_SECONDS  # noqa: E402
from tests.support.browser import (  # noqa: E402
    RECORD_REQUESTS,
    assert_no_console_errors,
    box_select,
    choose_option,
    css_id,
    graph_js,
    layer_pixel,
    plot_box,
    point_pixel,
    selected_points,
    shown_selection,
    trace_ids,
    updated_outputs,
    wait_for_points,
    wait_for_quiet_callbacks,
)
from tests.support.pointer import double_click, move_to  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def assert_layer_covers_the_plot_area(duo, panel: int) -> None:
    """The layer sits exactly over the panel's plot area, and the pointer goes through it."""
    placement = duo.driver.execute_script(
        f"const gd = {graph_js(panel)};"
        "const canvas = gd.parentElement.querySelector('.selection-layer');"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
        "const box = gd.getBoundingClientRect(), layer = canvas.getBoundingClientRect();"
        "const x = layer.left + layer.width / 2, y = layer.top + layer.height / 2;"
        "const hit = document.elementFromPoint(x, y);"
        "return {layer: [layer.left, layer.top, layer.width, layer.height],"
        " plot: [box.left + xa._offset, box.top + ya._offset, xa._length, ya._length],"
        " hitsLayer: hit === canvas, hitsGraph: gd.contains(hit)};"
    )
    assert placement["layer"] == pytest.approx(placement["plot"], abs=1.0)
    assert not placement["hitsLayer"] and placement["hitsGraph"]


def assert_layer_draws_selected_points(duo, panel: int, chosen: set[int]) -> None:
    """Selected points are drawn opaque on the layer; the others only see the veil."""
    assert_layer_covers_the_plot_area(duo, panel)
    ids = trace_ids(duo, panel)
    selected = next(i for i in ids if i in chosen)
    unselected = next((i for i in ids if i not in chosen), None)
    assert layer_pixel(duo, panel, selected)[3] > 230
    if unselected is not None:
        assert layer_pixel(duo, panel, unselected)[3] < 230


def expected_ids(collection) -> list[int]:
    return sorted(
        t.track * SEGMENT_ID_STRIDE + i for t in collection.ok_tracks() for i in range(t.n_segments)
    )


def test_panel001_both_panels_render_every_segment(app_duo, collection):
    want = expected_ids(collection)
    for panel in (0, 1):
        assert sorted(wait_for_points(app_duo, panel, len(want))) == want
    count = app_duo.find_element("#" + css_id({"panel": 0, "type": "panel-count"}))
    assert count.text == f"{len(want)} segments"
    assert_no_console_errors(app_duo)


def test_panel003_webgl_at_screen_resolution_without_multisampling(app_duo):
    # Both make every redraw of 100k points cheaper in software WebGL (assets/explore-core.js).
    for panel in (0, 1):
        ratio, layout_width, attributes = app_duo.driver.execute_script(
            f"const gd = {graph_js(panel)};"
            "const canvases = Array.from(gd.querySelectorAll('canvas.gl-canvas'));"
            "return [gd._context.plotGlPixelRatio, gd._fullLayout.width,"
            " canvases.map(c => { const gl = c.getContext('webgl') || c.getContext('webgl2');"
            " return gl ? [c.width, gl.getContextAttributes().antialias] : null; })"
            " .filter(Boolean)];"
        )
        screen = app_duo.driver.execute_script("return Math.round(window.devicePixelRatio)")
        assert ratio == max(1, screen)
        assert attributes, "no WebGL canvas"
        for width, antialias in attributes:
            assert antialias is False
            assert width == round(layout_width * ratio)
    assert_no_console_errors(app_duo)


def test_panel004_nothing_moves_when_the_lazily_loaded_controls_arrive(app_duo):
    """Dash 4 loads the dropdown and slider code after the first render; their room is kept
    from the start (and the scrollbar's), so the maps are not pushed down under the pointer."""
    def drawn_controls():
        return app_duo.driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'.dash-dropdown-wrapper, .dash-slider-container')).map(c => ({"
            " slot: c.parentElement.className,"
            " reserved: parseFloat(getComputedStyle(c.parentElement).minHeight) || 0,"
            " height: c.getBoundingClientRect().height}))"
        )

    # 4 dropdowns per panel, 2 music and 4 highlight multi-selects, the reduction slider, the
    # path's start and end and the variety's 2 multi-selects (the points can be drawn before the
    # controls' code has arrived).
    controls = wait_until(
        lambda: found if len(found := drawn_controls()) == 2 * 4 + 2 + 4 + 1 + 2 + 2 else None,
        30,
        "every control drawn",
    )
    for control in controls:
        assert control["slot"] in ("slot-dropdown", "slot-slider"), control
        assert control["height"] <= control["reserved"] + 0.5, control
    gutter = app_duo.driver.execute_script(
        "return getComputedStyle(document.documentElement).scrollbarGutter"
    )
    assert gutter == "stable"


# Per panel dropdown: the room its value has, and the width of its longest option's name in
# the value's font.
OPTION_ROOM = """
const labels = arguments[0];
return Array.from(document.querySelectorAll('.card-header .dash-dropdown')).map(button => {
  const grid = button.querySelector('.dash-dropdown-grid-container');
  const icon = button.querySelector('.dash-dropdown-trigger-icon');
  const style = getComputedStyle(grid);
  const room = grid.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
    - parseFloat(style.columnGap) - icon.getBoundingClientRect().width;
  const context = document.createElement('canvas').getContext('2d');
  context.font = getComputedStyle(button.querySelector('.dash-dropdown-value')).font;
  const kind = JSON.parse(button.id).type;
  const widest = Math.max(...labels[kind].map(label => context.measureText(label).width));
  return {kind: kind, room: room, widest: widest};
});
"""


def test_panel005_every_option_name_fits_its_dropdown_on_laptop_and_desktop_screens(app_duo):
    from explore_dash.data.options import option_labels

    labels = {
        f"panel-{group}": [option["label"] for option in options]
        for group, options in option_labels().items()
    }
    try:
        for width in (1024, 1280, 1366, 1400, 1440, 1600, 1920):
            app_duo.driver.set_window_size(width, 900)

            def cut_short():
                rooms = app_duo.driver.execute_script(OPTION_ROOM, labels)
                assert len(rooms) == 8
                return [r for r in rooms if r["widest"] > r["room"]]

            try:
                wait_until(lambda: not cut_short(), 5, "every option name to fit")
            except AssertionError:
                raise AssertionError(f"cut short at {width} px: {cut_short()}") from None
    finally:
        app_duo.driver.set_window_size(1600, 1000)


def test_panel006_each_panel_fits_the_window_with_a_map_of_at_least_360_px(app_duo):
    """From 1200 px wide the listening row under the maps fits the window too, where that
    leaves each map more than 360 px (tests/browser/test_layout_browser.py: 1600 x 1000)."""
    try:
        for width, height in ((1920, 1080), (1600, 1000), (1366, 768), (1024, 768)):
            app_duo.driver.set_window_size(width, height)

            def fits():
                return app_duo.driver.execute_script(
                    "const row = document.querySelector('.listening-row').getBoundingClientRect();"
                    "return Array.from(document.querySelectorAll('.panel-body')).every(body => {"
                    " const card = body.closest('.card').getBoundingClientRect();"
                    " const graph = body.querySelector('.js-plotly-plot').getBoundingClientRect();"
                    " const drawn = body.querySelector('.main-svg').getBoundingClientRect();"
                    " const rowFits = innerWidth < 1200 || graph.height < 361"
                    "  || (row.top >= card.bottom && row.bottom <= innerHeight);"
                    " return card.bottom <= innerHeight && graph.height >= 360 && rowFits"
                    "  && Math.abs(graph.height - drawn.height) < 2; })"
                )

            wait_until(fits, 10, f"both panels in a {width} x {height} window")
    finally:
        app_duo.driver.set_window_size(1600, 1000)


def test_panel002_dropdown_changes_only_that_panel(app_duo):
    before_right = app_duo.driver.execute_script(f"return Array.from({graph_js(1)}._fullData[0].x)")
    before_left = app_duo.driver.execute_script(f"return {graph_js(0)}._fullData[0].x[0]")
    app_duo.driver.execute_script(RECORD_REQUESTS)
    choose_option(app_duo, "#" + css_id({"panel": 0, "type": "panel-layer"}), "Taggram")
    wait_until(
        lambda: (
            app_duo.driver.execute_script(f"return {graph_js(0)}._fullData[0].x[0]") != before_left
        ),
        message="left panel to redraw",
    )
    wait_for_quiet_callbacks(app_duo)
    outputs = updated_outputs(app_duo)
    assert {"id": {"panel": 0, "type": "panel-graph"}, "property": "figure"} in outputs
    assert not [o for o in outputs if isinstance(o.get("id"), dict) and o["id"].get("panel") == 1]
    after_right = app_duo.driver.execute_script(f"return Array.from({graph_js(1)}._fullData[0].x)")
    assert after_right == before_right
    assert_no_console_errors(app_duo)


def test_listen001_hover_plays_the_segment_from_its_offset(app_duo, collection):
    ids = trace_ids(app_duo, 0)
    index = max(range(len(ids)), key=lambda i: ids[i] % SEGMENT_ID_STRIDE)  # a late segment
    segment = ids[index]
    track, number = divmod(segment, SEGMENT_ID_STRIDE)
    x, y = point_pixel(app_duo, 0, index)
    move_to(app_duo.driver, x, y)
    audio = wait_until(
        lambda: app_duo.driver.execute_script(
            "const a = document.getElementById('player');"
            "return a.getAttribute('src') ? [a.getAttribute('src'), a.dataset.offset,"
            " a.currentTime] : null;"
        ),
        message="audio source",
    )
    assert audio[0] == f"audio/{track}"
    assert float(audio[1]) == pytest.approx(number * SEGMENT_SECONDS, abs=1e-3)
    wait_until(
        lambda: (
            abs(
                app_duo.driver.execute_script(
                    "return document.getElementById('player').currentTime"
                )
                - number * SEGMENT_SECONDS
            )
            < 0.5
        ),
        message="player to seek to the segment",
    )
    name = collection.by_id(track)
    assert app_duo.find_element("#now-playing").text.startswith(f"{name.artist} – {name.title}")
    # Linked hover: the same segment is labelled in both panels, with the same text.
    for panel in (0, 1):
        wait_until(
            lambda p=panel: (
                app_duo.driver.execute_script(f"return {graph_js(p)}.dataset.labelledSegment")
                == str(segment)
            ),
            message=f"label in panel {panel}",
        )
    labels = app_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.segment-label'))"
        ".filter(e => !e.hidden).map(e => e.innerText)"
    )
    assert len(labels) == 2 and labels[0] == labels[1]
    assert labels[0].startswith(f"{name.artist} – {name.title} @ ")
    assert_no_console_errors(app_duo)


def test_select001_box_selection_selects_same_segments_in_other_panel(app_duo):
    # The left half of the left panel.
    box_select(app_duo, 0, (0, 0), (0.5, 1))
    selected_left = wait_until(lambda: selected_points(app_duo, 0), message="left selection")
    ids_left = trace_ids(app_duo, 0)
    chosen = {ids_left[i] for i in selected_left}
    xs = app_duo.driver.execute_script(f"return Array.from({graph_js(0)}._fullData[0].x)")
    mid = app_duo.driver.execute_script(
        f"const xa = {graph_js(0)}._fullLayout.xaxis; return xa.p2l(xa._length / 2)"
    )
    assert chosen == {ids_left[i] for i, x in enumerate(xs) if x < mid}
    # The other panel shows the same segments on its selection layer, not by restyling its points.
    mirrored = wait_until(lambda: shown_selection(app_duo, 1), message="mirrored selection")
    assert set(mirrored) == chosen and len(mirrored) == len(chosen)
    assert selected_points(app_duo, 1) is None
    assert shown_selection(app_duo, 0) == []  # Plotly shows it where it was made
    assert_layer_draws_selected_points(app_duo, 1, chosen)
    # The playlist lists the selected segments' tracks.
    tracks = {segment // SEGMENT_ID_STRIDE for segment in chosen}
    wait_until(
        lambda: (
            len(app_duo.driver.find_elements(By.CSS_SELECTOR, ".playlist-entry")) == len(tracks)
        ),
        message="playlist entries",
    )
    shown = {
        int(e.get_attribute("data-track"))
        for e in app_duo.driver.find_elements(By.CSS_SELECTOR, ".playlist-entry")
    }
    assert shown == tracks
    assert_no_console_errors(app_duo)


def test_select002_a_new_selection_in_the_other_panel_replaces_it_and_clearing_clears_both(app_duo):
    box_select(app_duo, 0, (0, 0), (0.5, 1))
    wait_until(lambda: shown_selection(app_duo, 1), message="first selection mirrored")
    # Now the right half of the right panel.
    box_select(app_duo, 1, (0.5, 0), (1, 1))
    selected_right = wait_until(lambda: selected_points(app_duo, 1), message="right selection")
    ids_right = trace_ids(app_duo, 1)
    chosen = {ids_right[i] for i in selected_right}
    wait_until(lambda: set(shown_selection(app_duo, 0)) == chosen, message="new selection on left")
    # The left panel's own earlier selection is gone: only the layer shows the new one.
    wait_until(lambda: selected_points(app_duo, 0) is None, message="old selection cleared")
    assert len(shown_selection(app_duo, 0)) == len(chosen)
    assert shown_selection(app_duo, 1) == []
    assert_layer_draws_selected_points(app_duo, 0, chosen)
    # Double-clicking the panel where it was made (off the selection's outline, which a click
    # would pick up for editing) clears it everywhere; the playlist is kept (issue 32, item 3).
    playlist = wait_until(lambda: [e.get_attribute("data-track") for e in app_duo.driver
                                   .find_elements(By.CSS_SELECTOR, ".playlist-entry")],
                          message="the selection's playlist")  # fmt: skip
    left, top, width, height = plot_box(app_duo, 1)
    double_click(app_duo.driver, left + width / 4, top + height / 2)
    wait_until(lambda: layer_pixel(app_duo, 0, ids_right[0]) is None, message="layer hidden")
    assert shown_selection(app_duo, 0) == shown_selection(app_duo, 1) == []
    assert playlist == [e.get_attribute("data-track")
                        for e in app_duo.driver.find_elements(By.CSS_SELECTOR, ".playlist-entry")]
    assert_no_console_errors(app_duo)


def test_select003_selected_highlighted_segments_stay_red_on_the_layer(app_duo, collection):
    # Grey points, not the artists' colours the maps start with (test_layout_browser.py).
    Select(app_duo.find_element("#colour-by")).select_by_value(NONE)
    wait_until(lambda: app_duo.driver.execute_script(
        f"return {graph_js(1)}._fullData[0].marker.color === '{BASE_COLOR}'"),
        message="grey points")  # fmt: skip
    choose_option(app_duo, "#highlight-artists", "Alpha")
    wait_until(lambda: trace_ids(app_duo, 1, trace=1), message="highlight overlay")
    box_select(app_duo, 0, (0, 0), (1, 1))
    shown = wait_until(lambda: shown_selection(app_duo, 1), message="mirrored selection")
    assert sorted(shown) == sorted(trace_ids(app_duo, 1))
    red = trace_ids(app_duo, 1, trace=1)[0]
    grey = next(i for i in trace_ids(app_duo, 1) if i not in set(trace_ids(app_duo, 1, trace=1)))
    r, g, b, a = layer_pixel(app_duo, 1, red)
    assert r > 180 and g < 120 and a > 230
    r, g, b, a = layer_pixel(app_duo, 1, grey)
    assert abs(r - 138) < 25 and abs(b - 168) < 25 and a > 230
    assert_no_console_errors(app_duo)


def test_highlight001_colours_the_chosen_artist_in_both_panels(app_duo, collection):
    choose_option(app_duo, "#highlight-artists", "Alpha")
    alpha = {t.track for t in collection.ok_tracks() if t.artist == "Alpha"}
    want = sorted(
        t.track * SEGMENT_ID_STRIDE + i
        for t in collection.ok_tracks()
        if t.track in alpha
        for i in range(t.n_segments)
    )
    for panel in (0, 1):
        got = wait_until(
            lambda p=panel: sorted(trace_ids(app_duo, p, trace=1) or []) or None,
            message="highlight overlay",
        )
        assert got == want
    assert_no_console_errors(app_duo)


def test_playlist001_export_writes_the_selected_tracks(app_duo, collection, tmp_path):
    box_select(app_duo, 1, (0, 0), (1, 1))
    wait_until(
        lambda: app_duo.driver.find_elements(By.CSS_SELECTOR, ".playlist-entry"), message="playlist"
    )
    button = app_duo.find_element("#playlist-export")
    app_duo.driver.execute_script("arguments[0].click()", button)
    saved = wait_until(
        lambda: (
            list((collection.data_dir / "playlists").glob("[!.]*.m3u8"))
            if (collection.data_dir / "playlists").exists()
            else None
        ),
        message="saved playlist",
    )
    text = saved[0].read_text(encoding="utf-8")
    assert text.startswith("#EXTM3U\n")
    listed = [line for line in text.splitlines() if line and not line.startswith("#")]
    # Absolute: the copy lives in the data folder, not at the library's root.
    library = collection.library.resolve()
    assert sorted(listed) == sorted(str(library / t.path) for t in collection.ok_tracks())
    assert "saved" in app_duo.find_element("#playlist-message").text.lower()
    assert_no_console_errors(app_duo)


def test_listen002_the_page_writes_times_as_the_server_does(app_duo):
    from explore_dash.formatting import format_time

    seconds = [0, 0.99, 59.9, 60, 61, 599, 3599.5, 3600, 3725, 36000 + 61, 100 * 3600 + 5,
               74.5, 74.49, 0.5, 0.49, 2.99, -0.2]  # fmt: skip
    shown = app_duo.driver.execute_script(
        f"return {seconds!r}.map((s) => window.exploreDash.formatTime(s))"
    )
    assert shown == [format_time(s) for s in seconds]
    assert shown[seconds.index(3725)] == "1:02:05"  # hours on both sides, not "62:05"
    # Rounded half up on both sides, never cut: 74.5 s is 1:15 in the player as in the playlist,
    # a 0.5-s file is not "0:00" and a moment at 2.99 s is "@ 0:03".
    assert [shown[seconds.index(s)] for s in (74.5, 74.49, 0.5, 0.49, 2.99, 59.9, 3599.5)] == [
        "1:15", "1:14", "0:01", "0:00", "0:03", "1:00", "1:00:00"
    ]  # fmt: skip
    # A track's second segment starts at 2.992 s: "@ 0:03", as the server's chain rows say.
    title = app_duo.driver.execute_script("return window.exploreDash.segmentTitle({}, 1)")
    assert title == f"track 0 @ {format_time(SEGMENT_SECONDS)}" == "track 0 @ 0:03"
    assert_no_console_errors(app_duo)


def test_panel007_the_browser_code_reads_its_settings_from_python(app_duo):
    from explore_dash.layouts.client import client_settings

    in_page = app_duo.driver.execute_script("return window.exploreDashSettings")
    assert in_page == client_settings()
    functions = app_duo.driver.execute_script(
        "return Object.keys(window.dash_clientside.explore).sort()"
    )
    assert functions == sorted(
        ["collectSelection", "controlFlow", "flyTo", "itemLength", "keepView", "labelHover",
         "listen", "playChain", "playWhole", "resetZoom", "setUpPanel",
         "showRecompute", "hideRetry", "wholeText",
         "markPlayer", "clickToSeek"]  # fmt: skip (assets/explore-player.js: MPD on the maps)
    )
    assert_no_console_errors(app_duo)


def test_panel008_no_modebar_button_sends_the_map_off_the_machine(app_duo):
    # A private library (or an --anonymize study) must never be offered to Plotly Cloud.
    titles = app_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.modebar-btn'))"
        ".map(b => (b.getAttribute('data-title') || '') + ' ' + (b.getAttribute('href') || ''))"
    )
    assert len(titles) >= 2 * 6, titles  # zoom, pan, box, lasso, zoom in/out, reset: both maps
    words = ("share", "cloud", "upload", "studio", "http")
    leaving = [title for title in titles if any(word in title.lower() for word in words)]
    assert leaving == []
    assert app_duo.driver.execute_script(
        "return document.querySelectorAll('.js-plotly-plot a[href^=\"http\"]').length"
    ) == 0  # no "Edit chart" link either
    assert_no_console_errors(app_duo)


def test_listen003_of_two_hovers_40_ms_apart_on_one_track_the_second_plays(dash_duo, collection):
    # A hover that loads a track seeks once its metadata is in; a second hover of the same track
    # meanwhile must not be overtaken by that seek (the player ran at 0:51 labelled "@ 0:00").
    # The audio answers after 0.3 s, as a large file over a slow disk or network would.
    app = create_app(AppConfig(collection.library, collection.data_dir))

    @app.server.before_request
    def slow_audio():
        if flask.request.path.startswith("/audio/"):
            time.sleep(0.3)

    dash_duo.start_server(app)
    app_duo = dash_duo
    ids = wait_for_points(app_duo, 0)
    by_track: dict[int, list[int]] = {}
    for index, segment in enumerate(ids):
        by_track.setdefault(segment // SEGMENT_ID_STRIDE, []).append(index)
    # Tracks with a late segment, taken in turn so that every try loads a file.
    tracks = [t for t, rows in by_track.items() if len(rows) > 2][:2]
    assert len(tracks) == 2
    for attempt in range(20):
        rows = sorted(by_track[tracks[attempt % 2]], key=lambda i: ids[i] % SEGMENT_ID_STRIDE)
        late, first = rows[-1], rows[0]
        assert ids[first] % SEGMENT_ID_STRIDE == 0
        move_to(app_duo.driver, *point_pixel(app_duo, 0, late))
        time.sleep(0.04)
        move_to(app_duo.driver, *point_pixel(app_duo, 0, first))
        wait_until(
            lambda: app_duo.driver.execute_script(
                "const a = document.getElementById('player');"
                "return a.readyState >= 1 && a.dataset.offset === '0.000' && !a.seeking;"
            ),
            message=f"player loaded, try {attempt}",
        )
        time.sleep(0.3)  # a late seek, if any, lands now
        position = app_duo.driver.execute_script(
            "return document.getElementById('player').currentTime"
        )
        assert position < SEGMENT_SECONDS, (attempt, position)
        move_to(app_duo.driver, 2, 2)  # off the map before the next try
    assert_no_console_errors(app_duo)
