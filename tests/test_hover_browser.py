"""Hovering the maps in a real headless Chromium: inside a selection, and when labels go."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from extraction.contract import SEGMENT_ID_STRIDE, SEGMENT_SECONDS  # noqa: E402
from tests.pointer import move_to, press  # noqa: E402
from tests.test_browser import (  # noqa: E402, F401  (fixtures)
    app_duo,
    assert_no_console_errors,
    box_select,
    collection,
    graph_js,
    plot_box,
    point_pixel,
    selected_points,
    shown_selection,
    trace_ids,
    wait_until,
)


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


def test_hover001_inside_a_box_selection_hover_plays_and_labels(app_duo):  # noqa: F811
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
    assert_no_console_errors(app_duo)


def test_hover002_inside_a_lasso_selection_hover_plays_and_labels(app_duo):  # noqa: F811
    lasso_select(app_duo, 0, [(0, 0), (0.7, 0), (0.7, 1), (0, 1)])
    wait_until(lambda: shown_selection(app_duo, 1), message="mirrored selection")
    left, top, width, height = plot_box(app_duo, 0)
    box = (left, top, left + 0.7 * width, top + height)
    index = inner_point(app_duo, 0, selected_points(app_duo, 0), box)
    hover_plays_and_labels(app_duo, 0, index)
    assert_no_console_errors(app_duo)
