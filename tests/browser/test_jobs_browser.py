"""A panel's t-SNE/UMAP job in a real headless Chromium: what it says while it runs, after a
cancel, and the count line's room beside Reset zoom."""

from __future__ import annotations

import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from explore_dash.config import AppConfig  # noqa: E402
from explore_dash.server.app import create_app  # noqa: E402
from tests.support.browser import (  # noqa: E402
    assert_no_console_errors,
    choose_option,
    css_id,
    graph_js,
    wait_for_points,
)
from tests.support.fake_collection import big_collection, write_fake_collection  # noqa: E402
from tests.support.maps import job_processes  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402


def selector(kind: str, panel: int) -> str:
    return "#" + css_id({"panel": panel, "type": kind})


def shown(duo, kind: str, panel: int) -> bool:
    return duo.find_element(selector(kind, panel)).value_of_css_property("display") != "none"


def test_jobs001_a_running_job_says_what_it_computes_and_cancel_says_how_to_try_again(
    dash_duo, tmp_path
):
    fake = big_collection(tmp_path)
    dash_duo.start_server(create_app(AppConfig(fake.library, fake.data_dir)))
    wait_for_points(dash_duo, 1)
    count = dash_duo.find_element(selector("panel-count", 1))
    label = dash_duo.find_element(selector("panel-progress-text", 1))
    for attempt in range(2):
        if attempt == 0:
            choose_option(dash_duo, selector("panel-projection", 1), "t-SNE")
        else:
            dash_duo.find_element(selector("panel-retry", 1)).click()
        wait_until(lambda: shown(dash_duo, "panel-progress-box", 1), timeout=30,
                   message="the progress box")  # fmt: skip
        # While it runs: what runs, on how many points, and its stage, beside the bar.
        # From the start ("starting…" until the job's first report), then its own words.
        assert wait_until(lambda: label.text, timeout=30, message="a label") in (
            "starting…", "t-SNE for 6,000 segments · finding neighbours")
        wait_until(lambda: label.text.startswith("t-SNE for 6,000 segments · "), timeout=30,
                   message="the job's label")  # fmt: skip
        assert shown(dash_duo, "panel-progress-box", 1)
        assert count.text == "computing t-SNE for 6,000 segments…"
        dash_duo.find_element("#panel-cancel-1").click()
        wait_until(lambda: not shown(dash_duo, "panel-progress-box", 1),
                   message="the progress box to go")  # fmt: skip
        # The projection menu still says t-SNE: the line says it was cancelled and how to
        # try again, with the link beside it.
        wait_until(lambda: count.text == "t-SNE cancelled:", message="the cancelled line")
        assert shown(dash_duo, "panel-retry", 1)
        assert "choose a projection" not in count.text
        wait_until(lambda: not job_processes(), timeout=30, message="the cancelled job to end")
    assert_no_console_errors(dash_duo)


def test_jobs002_the_placed_maps_note_is_one_line_beside_reset_zoom_at_1000_px(dash_duo, tmp_path):
    fake = write_fake_collection(tmp_path)
    dash_duo.start_server(create_app(AppConfig(fake.library, fake.data_dir)))
    dash_duo.driver.set_window_size(1000, 800)
    wait_for_points(dash_duo, 0)
    count = dash_duo.find_element(selector("panel-count", 0))
    choose_option(dash_duo, selector("panel-projection", 0), "t-SNE")
    title = f"return {graph_js(0)}.layout.title.text"
    wait_until(lambda: dash_duo.driver.execute_script(title).endswith("t-SNE")
               and count.text == "20 segments", timeout=60,
               message="the whole t-SNE map")  # fmt: skip
    choose_option(dash_duo, "#music-artists", "Alpha")
    note = "8 segments · placed on the whole collection's map"
    wait_until(lambda: count.text == note, message="the subset on the whole map")
    assert shown(dash_duo, "panel-recompute", 0)
    boxes = dash_duo.driver.execute_script(
        "const box = e => { const r = e.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };"
        "const count = arguments[0], footer = count.closest('.card-footer');"
        "const reset = footer.querySelector('button[id*=panel-reset]');"
        "return {count: box(count), footer: box(footer), reset: box(reset),"
        " line: parseFloat(getComputedStyle(count).lineHeight),"
        " cut: count.scrollWidth > count.clientWidth};",
        count,
    )
    footer, reset, line = boxes["footer"], boxes["reset"], boxes["line"]
    # Reset zoom inside the footer, on the note's line; the note one line high.
    assert footer["left"] <= reset["left"] and reset["right"] <= footer["right"] + 0.5
    assert footer["top"] <= reset["top"] and reset["bottom"] <= footer["bottom"] + 0.5
    assert boxes["count"]["bottom"] - boxes["count"]["top"] < 1.5 * line
    assert abs((reset["top"] + reset["bottom"]) / 2
               - (boxes["count"]["top"] + boxes["count"]["bottom"]) / 2) < line  # fmt: skip
    # Cut short or not, the whole note is in its title.
    wait_until(lambda: count.get_attribute("title") == note, message="the note's title")
    assert_no_console_errors(dash_duo)
