"""Hovering the maps in a real headless Chromium: inside a selection, and when labels go."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from extraction.contract import SEGMENT_ID_STRIDE, SEGMENT_SECONDS  # noqa: E402
from tests.support.browser import (  # noqa: E402
    assert_no_console_errors,
    box_select,
    graph_js,
    plot_box,
    point_pixel,
    selected_points,
    shown_selection,
    trace_ids,
)
from tests.support.pointer import double_click, move_to, press  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def lasso_select(duo, panel: int, corners, steps: int = 6) -> None:
    """A lasso drawn through ``corners`` (fractions of the plot area) back to the first."""
    duo.driver.execute_script(f"Plotly.relayout({graph_js(panel)}, {{dragmode: 'lasso'}})")
    wait_until(
        lambda: duo.driver.execute_script(
            f"return {graph_js(panel)}._fullLayout.dragmode === 'lasso'"
        ),
        message="the lasso tool",
    )
    left, top, width, height = plot_box(duo, panel)
    pixels = [(left + 2 + x * (width - 4), top + 2 + y * (height - 4)) for x, y in corners]
    move_to(duo.driver, *pixels[0])
    press(duo.driver, True)
    for (x0, y0), (x1, y1) in zip(pixels, pixels[1:] + pixels[:1], strict=True):
        for step in range(1, steps + 1):
            move_to(duo.driver, x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps)
    press(duo.driver, False)
    wait_until(lambda: selected_points(duo, panel), message="the lasso selection")


def labelled(duo, panel: int) -> str:
    """The segment id labelled in a panel ("" when none), with its label shown."""
    return duo.driver.execute_script(
        f"const gd = {graph_js(panel)};"
        "const label = gd.parentElement.querySelector('.segment-label');"
        "return label && !label.hidden ? gd.dataset.labelledSegment : '';"
    )


def player(duo) -> list:
    return duo.driver.execute_script(
        "const a = document.getElementById('player');"
        "return [a.getAttribute('src'), a.dataset.offset];"
    )


def inner_point(duo, panel: int, indices, box) -> int:
    """Of the points ``indices``, one at least 10 px inside ``box`` (left, top, right, bottom),
    and at least 6 px from any other point, so the pointer on it hovers it alone."""
    pixels = {i: point_pixel(duo, panel, i) for i in range(len(trace_ids(duo, panel)))}
    left, top, right, bottom = box
    for i in indices:
        x, y = pixels[i]
        if not (left + 10 < x < right - 10 and top + 10 < y < bottom - 10):
            continue
        if all(abs(x - ox) + abs(y - oy) > 6 for j, (ox, oy) in pixels.items() if j != i):
            return i
    raise AssertionError("no point well inside the selection")


def hover_plays_and_labels(duo, panel: int, index: int) -> None:
    """Moving onto point ``index`` of ``panel`` plays its segment and labels it in both panels."""
    segment = trace_ids(duo, panel)[index]
    x, y = point_pixel(duo, panel, index)
    # What takes the pointer there: the plot's drag layer, not the selection's outline.
    hit = duo.driver.execute_script(
        "const e = document.elementFromPoint(arguments[0], arguments[1]);"
        "return e.tagName + '.' + (e.getAttribute('class') || '');",
        x,
        y,
    )
    move_to(duo.driver, 2, 2)
    move_to(duo.driver, x, y)
    track, number = divmod(segment, SEGMENT_ID_STRIDE)
    wait_until(
        lambda: player(duo) == [f"audio/{track}", f"{number * SEGMENT_SECONDS:.3f}"],
        message=f"the hovered segment to play (pointer on {hit})",
    )
    for shown in (0, 1):
        wait_until(lambda p=shown: labelled(duo, p) == str(segment), message=f"label in {shown}")


def test_hover001_inside_a_box_selection_hover_plays_and_labels(app_duo):
    box_select(app_duo, 0, (0, 0), (0.6, 1))
    wait_until(lambda: shown_selection(app_duo, 1), message="mirrored selection")
    left, top, width, height = plot_box(app_duo, 0)
    box = (left, top, left + 0.6 * width, top + height)
    index = inner_point(app_duo, 0, selected_points(app_duo, 0), box)
    hover_plays_and_labels(app_duo, 0, index)
    # And in the panel that mirrors it.
    segment = trace_ids(app_duo, 0)[index]
    mirrored = shown_selection(app_duo, 1)
    other = trace_ids(app_duo, 1)
    candidates = [other.index(s) for s in mirrored if s != segment]
    left, top, width, height = plot_box(app_duo, 1)
    hover_plays_and_labels(
        app_duo, 1, inner_point(app_duo, 1, candidates, (left, top, left + width, top + height))
    )
    # A double-click inside the selection still clears it, in both panels.
    left, top, width, height = plot_box(app_duo, 0)
    double_click(app_duo.driver, left + 0.3 * width, top + height / 2)
    wait_until(lambda: selected_points(app_duo, 0) is None and not shown_selection(app_duo, 1),
               message="the selection cleared")  # fmt: skip
    assert_no_console_errors(app_duo)


def test_hover002_inside_a_lasso_selection_hover_plays_and_labels(app_duo):
    lasso_select(app_duo, 0, [(0, 0), (0.7, 0), (0.7, 1), (0, 1)])
    wait_until(lambda: shown_selection(app_duo, 1), message="mirrored selection")
    left, top, width, height = plot_box(app_duo, 0)
    box = (left, top, left + 0.7 * width, top + height)
    index = inner_point(app_duo, 0, selected_points(app_duo, 0), box)
    hover_plays_and_labels(app_duo, 0, index)
    assert_no_console_errors(app_duo)


def shown_labels(duo) -> list[str]:
    """The segment ids labelled in panels 0 and 1 ("" where none is shown)."""
    return [labelled(duo, panel) for panel in (0, 1)]


def choose_segment_length(duo, value: str) -> None:
    """Pick a window length without moving the pointer (a click would leave the map)."""
    duo.driver.execute_script(
        "const menu = document.getElementById('segment-length');"
        "const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;"
        "set.call(menu, arguments[0]); menu.dispatchEvent(new Event('change', {bubbles: true}));",
        value,
    )


def test_hover003_labels_go_after_the_pointer_leaves_the_maps(app_duo):
    hover_plays_and_labels(app_duo, 0, 0)
    segment = str(trace_ids(app_duo, 0)[0])
    # Onto a point of the other panel: both labels name that point.
    other = trace_ids(app_duo, 1)
    index = next(i for i, s in enumerate(other) if str(s) != segment)
    move_to(app_duo.driver, *point_pixel(app_duo, 1, index))
    wait_until(lambda: shown_labels(app_duo) == [str(other[index])] * 2, message="moved labels")
    move_to(app_duo.driver, 2, 2)  # off the maps
    wait_until(lambda: shown_labels(app_duo) == ["", ""], message="the labels to go")
    assert_no_console_errors(app_duo)


def test_hover004_a_label_goes_when_its_panel_gets_another_map(app_duo):
    choose_segment_length(app_duo, "4")
    wait_until(lambda: len(trace_ids(app_duo, 0)) == 7, message="12-s windows")  # 20 segments
    ids = trace_ids(app_duo, 0)
    index = next(i for i, s in enumerate(ids) if s % SEGMENT_ID_STRIDE == 0)
    move_to(app_duo.driver, *point_pixel(app_duo, 0, index))
    wait_until(lambda: labelled(app_duo, 0) == str(ids[index]), message="the window's label")
    # The pointer stays on the map; the map becomes one of 3-s segments, which holds the
    # labelled id too (a window is named by its first segment).
    choose_segment_length(app_duo, "1")
    wait_until(lambda: len(trace_ids(app_duo, 0)) == 20, message="3-s segments")
    assert ids[index] in trace_ids(app_duo, 0)
    # The window's labels go. On maps as short as the listening row under them leaves (360 px
    # here), a point of the new map can lie under the still pointer and Plotly hovers it anew:
    # a label may then name that point, as any hover does, never the old map's window.
    wait_until(lambda: app_duo.driver.execute_script(FRESH_LABELS), message="the labels to go")
    assert_no_console_errors(app_duo)


#: Whether each panel's shown label (if any) names the point Plotly hovers now on panel 0.
FRESH_LABELS = f"""
const gd0 = {graph_js(0)};
const hover = gd0._hoverdata && gd0._hoverdata[0];
const now = hover ? String(gd0._fullData[0].customdata[hover.pointNumber]) : null;
return [0, 1].every(panel => {{
  const gd = panel === 0 ? gd0 : {graph_js(1)};
  const label = gd.parentElement.querySelector('.segment-label');
  return !label || label.hidden || gd.dataset.labelledSegment === now;
}});
"""


def test_hover005_while_a_radio_plays_the_labels_name_what_plays(app_duo):
    def click(selector):
        app_duo.driver.execute_script("arguments[0].click()", app_duo.find_element(selector))

    def playing_point():
        state = app_duo.driver.execute_script("return window.exploreDash.flow.state()")
        chain = app_duo.driver.execute_script("return window.exploreDash.flow.shown(0)")
        return str(chain[state["position"]]) if state["mode"] == "chain" else None

    hover_plays_and_labels(app_duo, 0, 0)
    move_to(app_duo.driver, 2, 2)
    click("#radio-start")
    wait_until(lambda: playing_point(), message="the radio to play")
    wait_until(lambda: shown_labels(app_duo) == [playing_point()] * 2, message="what plays")
    # Hovering another track's point picks the next seed; the labels still name what plays.
    now = playing_point()
    ids = trace_ids(app_duo, 0)
    index = next(i for i, s in enumerate(ids)
                 if s // SEGMENT_ID_STRIDE != int(now) // SEGMENT_ID_STRIDE)  # fmt: skip
    move_to(app_duo.driver, *point_pixel(app_duo, 0, index))
    wait_until(lambda: app_duo.driver.execute_script(
        f"return {graph_js(0)}.parentElement.querySelector('.segment-label') !== null"
    ), message="the label element")  # fmt: skip
    assert shown_labels(app_duo) == [now] * 2
    click("#flow-skip")
    wait_until(lambda: playing_point() != now, message="the next item")
    wait_until(lambda: shown_labels(app_duo) == [playing_point()] * 2, message="the next label")
    assert_no_console_errors(app_duo)


def test_hover006_labels_sit_under_the_legend_and_the_chain(app_duo):
    order = app_duo.driver.execute_script(
        "const z = (c) => { const e = document.createElement('div'); e.className = c;"
        " document.body.appendChild(e); const v = Number(getComputedStyle(e).zIndex);"
        " e.remove(); return v; };"
        "return [z('selection-layer'), z('segment-label'), z('chain-layer'), z('panel-legend')];"
    )
    selection, label, chain, legend = order
    assert selection < label < chain and label <= legend  # the legend comes later in the page
    assert_no_console_errors(app_duo)


def test_hover007_after_a_seek_in_the_player_the_labels_name_where_it_went(app_duo):
    """The labels named the moment an item started from, though the player's own scrubber
    had moved it on (the player line said one moment, the label another)."""

    def playing_point():
        state = app_duo.driver.execute_script("return window.exploreDash.flow.state()")
        chain = app_duo.driver.execute_script("return window.exploreDash.flow.shown(0)")
        return str(chain[state["position"]]) if state["mode"] == "chain" else None

    hover_plays_and_labels(app_duo, 0, 0)
    move_to(app_duo.driver, 2, 2)
    app_duo.driver.execute_script("arguments[0].click()", app_duo.find_element("#radio-start"))
    wait_until(lambda: playing_point(), message="the radio to play")
    wait_until(lambda: shown_labels(app_duo) == [playing_point()] * 2, message="what plays")
    now = int(playing_point())
    track, index = divmod(now, SEGMENT_ID_STRIDE)
    shown = set(trace_ids(app_duo, 0))
    # Another segment of the same track that the map shows, as the scrubber would reach it.
    other = next(track * SEGMENT_ID_STRIDE + i for i in (index + 1, index - 1, index + 2)
                 if i >= 0 and track * SEGMENT_ID_STRIDE + i in shown)  # fmt: skip
    seconds = (other - track * SEGMENT_ID_STRIDE) * SEGMENT_SECONDS + 0.5
    app_duo.driver.execute_script(f"document.getElementById('player').currentTime = {seconds}")
    wait_until(lambda: shown_labels(app_duo) == [str(other)] * 2, message="the label of the seek")
    assert_no_console_errors(app_duo)
