"""What the browser tests share: finding a panel's Plotly graph in the page, reading its points,
selection and pixels, waiting for the page, and acting on it as a user would (choosing an option,
dragging a box). ``duo`` is dash's ``dash_duo`` fixture, a page in a headless Chromium.

The pytest fixtures that start the app for these helpers are in tests/browser/conftest.py.
"""

from __future__ import annotations

import json
import time

from tests.support.pointer import drag
from tests.support.waiting import wait_until

# -- where a panel is in the page ----------------------------------------------------------
GRAPH = '{{"panel":{},"type":"panel-graph"}}'


def graph_js(panel: int) -> str:
    # Null (not an error) while the page has not drawn the panel yet.
    return f"document.getElementById('{GRAPH.format(panel)}')?.querySelector('.js-plotly-plot')"


# -- what a panel shows ---------------------------------------------------------------------
def trace_ids(duo, panel: int, trace: int = 0) -> list[int] | None:
    """Segment ids of a trace's points (its ``customdata``); None until the panel is drawn."""
    return duo.driver.execute_script(
        f"const gd = {graph_js(panel)};"
        f"return gd && gd._fullData && gd._fullData[{trace}] ?"
        f" Array.from(gd._fullData[{trace}].customdata || []) : null;"
    )


def selected_points(duo, panel: int) -> list[int] | None:
    """Indices of trace 0's points Plotly holds selected, or None when none is."""
    return duo.driver.execute_script(
        f"const s = {graph_js(panel)}._fullData[0].selectedpoints;return s ? Array.from(s) : null;"
    )


def shown_selection(duo, panel: int) -> list[int]:
    """Segment ids drawn on a panel's selection layer (assets/explore-selection.js)."""
    return duo.driver.execute_script(f"return window.exploreDash.selection.shown({panel})")


def layer_pixel(duo, panel: int, segment: int):
    """RGBA of the selection layer at segment's point, or None when the layer is hidden."""
    return duo.driver.execute_script(
        f"const gd = {graph_js(panel)}; const t = gd._fullData[0];"
        "const canvas = gd.parentElement.querySelector('.selection-layer');"
        "if (!canvas || canvas.hidden) { return null; }"
        f"const i = Array.from(t.customdata).indexOf({segment});"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
        "const ratio = canvas.width / xa._length;"
        "const px = Math.round(xa.l2p(t.x[i]) * ratio), py = Math.round(ya.l2p(t.y[i]) * ratio);"
        "return Array.from(canvas.getContext('2d').getImageData(px, py, 1, 1).data);"
    )


def point_pixel(duo, panel: int, index: int) -> tuple[float, float]:
    """Viewport pixel of point ``index`` of trace 0 (from Plotly's own axis mapping)."""
    return duo.driver.execute_script(
        f"const gd = {graph_js(panel)}; const t = gd._fullData[0];"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
        "const box = gd.getBoundingClientRect();"
        f"return [box.left + xa._offset + xa.l2p(t.x[{index}]),"
        f"        box.top + ya._offset + ya.l2p(t.y[{index}])];"
    )


def plot_box(duo, panel: int) -> list[float]:
    """[left, top, width, height] of a panel's plot area, in viewport pixels."""
    return duo.driver.execute_script(
        f"const gd = {graph_js(panel)}; const r = gd.getBoundingClientRect();"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
        "return [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length];"
    )


def inside(box, fraction) -> tuple[float, float]:
    """The pixel at ``fraction`` (x, y in 0..1) of a plot ``box``, kept 2 px inside its edges."""
    left, top, width, height = box
    return left + 2 + fraction[0] * (width - 4), top + 2 + fraction[1] * (height - 4)


def axis_ranges(duo, panel: int) -> list[list[float]]:
    """A panel's [x range, y range], as Plotly has them now (its zoom)."""
    return duo.driver.execute_script(
        f"const l = {graph_js(panel)}._fullLayout; return [l.xaxis.range, l.yaxis.range];"
    )


# -- waiting for the page -------------------------------------------------------------------
def wait_for_points(duo, panel: int, count: int | None = None, timeout: float = 15) -> list[int]:
    """A panel's segment ids once it shows ``count`` points (any number when None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ids = trace_ids(duo, panel)
        if ids and (count is None or len(ids) == count):
            return ids
        time.sleep(0.1)
    raise AssertionError(f"panel {panel} never showed {count or 'any'} points (last: {ids})")


#: Run in the page before acting: keeps every callback request's outputs (window.__updates)
#: and how many are still unanswered (window.__pending).
RECORD_REQUESTS = (
    "window.__updates = []; window.__pending = 0;"
    "const send = window.fetch;"
    "window.fetch = function (url, options) {"
    "  if (!String(url).includes('_dash-update-component') || !options || !options.body) {"
    "    return send.apply(this, arguments);"
    "  }"
    "  window.__updates.push(JSON.parse(options.body).outputs);"
    "  window.__pending += 1;"
    "  return send.apply(this, arguments).finally(() => { window.__pending -= 1; });"
    "};"
)


def wait_for_quiet_callbacks(duo, polls: int = 3) -> None:
    """Until every recorded callback request has been answered and no new one came for a while
    (``polls`` looks, 0.1 s apart), so a check that something was *not* updated can trust it."""
    seen: list[int] = []

    def quiet() -> bool:
        script = "return [window.__pending, window.__updates.length]"
        pending, sent = duo.driver.execute_script(script)
        seen.append(sent)
        return pending == 0 and len(seen) >= polls and len(set(seen[-polls:])) == 1

    wait_until(quiet, message="the page's callback requests to settle")


def updated_outputs(duo) -> list[dict]:
    """Every output the recorded callback requests asked for, ``{"id", "property"}`` each."""
    batches = duo.driver.execute_script("return window.__updates")
    return [o for batch in batches for o in (batch if isinstance(batch, list) else [batch])]


# -- acting as a user ------------------------------------------------------------------------
def css_id(component_id: dict) -> str:
    """A pattern-matching (dict) component id as a CSS id selector, without its ``#``."""
    text = json.dumps(component_id, separators=(",", ":"), sort_keys=True)
    return "".join("\\" + c if c in '{}":,' else c for c in text)


def choose_option(duo, component_id: str, label: str) -> None:
    """Open a dropdown and click its option ``label``."""
    from selenium.webdriver.common.by import By  # the browser tests' extra, only when used

    duo.find_element(component_id).click()
    options = duo.driver.find_elements(By.CSS_SELECTOR, "[role=option]")
    next(o for o in options if o.text == label).click()


# What a failed box_select reports: Plotly's events on the panel and the pointer's presses.
RECORD_EVENTS = """
const gd = {graph}, log = window.__boxSelectEvents = [], t0 = performance.now();
const note = (text) => log.push(Math.round(performance.now() - t0) + " ms " + text);
for (const name of ["plotly_selecting", "plotly_selected", "plotly_deselect", "plotly_relayout",
                    "plotly_afterplot", "plotly_react", "plotly_redraw"]) {{
  gd.on(name, (e) => note(name + (name === "plotly_relayout" ? " " + JSON.stringify(e) : "")
                            + " dragmode=" + gd._fullLayout.dragmode
                            + " selectedpoints=" + (gd._fullData[0].selectedpoints || []).length));
}}
for (const name of ["pointerdown", "pointerup", "mousedown", "mouseup"]) {{
  document.addEventListener(name, (e) => note(
    name + " at " + e.clientX + "," + e.clientY
    + " on " + e.target.tagName + "." + e.target.getAttribute("class")), true);
}}
"""


def box_select(duo, panel: int, corner_a, corner_b, attempts: int = 3) -> None:
    """A box drag with the select tool, repeated until Plotly shows a selection on the panel.

    The corners are fractions of the plot area, (0, 0) top left and (1, 1) bottom right, kept
    2 px inside it; the plot is found where it is at each attempt.

    Choosing the tool makes dcc.Graph re-plot the panel (it copies ``dragmode`` into its
    ``figure`` prop), and a figure still on its way from the server (a late first draw or a
    data-version redraw) brings the default pan back. On a loaded machine a drag that lands
    during either is lost, as a user's would be, and a user would pick the tool and drag again.
    """
    duo.driver.execute_script(RECORD_EVENTS.format(graph=graph_js(panel)))
    for attempt in range(attempts):
        duo.driver.execute_script(f"Plotly.relayout({graph_js(panel)}, {{dragmode: 'select'}})")
        wait_until(
            lambda: duo.driver.execute_script(
                f"return {graph_js(panel)}._fullLayout.dragmode === 'select'"
            ),
            message="the box tool",
        )
        time.sleep(0.2 if attempt == 0 else 1.0)
        box = plot_box(duo, panel)
        drag(duo.driver, inside(box, corner_a), inside(box, corner_b))
        try:
            wait_until(lambda: selected_points(duo, panel), 5, "the selection")
            return
        except AssertionError:
            pass  # the drag was lost: pick the tool and drag again
    events = duo.driver.execute_script("return window.__boxSelectEvents")
    raise AssertionError(
        f"no selection on panel {panel} after {attempts} box drags; what the page saw:\n"
        + "\n".join(events or [])
    )


# -- what every browser test ends with ------------------------------------------------------
def assert_no_console_errors(duo) -> None:
    """The page logged no error (the browser asking for a favicon aside)."""
    errors = [
        entry
        for entry in duo.get_logs() or []
        if entry.get("level") == "SEVERE" and "favicon" not in entry.get("message", "")
    ]
    assert errors == []
