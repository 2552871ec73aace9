"""t-SNE / UMAP in the explorer: background jobs with progress, a disk cache, cancel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("selenium", reason="browser tests need the test extra (dash[testing])")

from explore_dash.config import AppConfig  # noqa: E402
from explore_dash.data.state import AppState  # noqa: E402
from explore_dash.maps.cache import cached_map, map_key  # noqa: E402
from explore_dash.maps.settings import PanelSettings  # noqa: E402
from explore_dash.server.app import create_app  # noqa: E402
from tests.support.browser import (  # noqa: E402
    assert_no_console_errors,
    choose_option,
    css_id,
    graph_js,
    wait_for_points,
)
from tests.support.fake_collection import big_collection, write_fake_collection  # noqa: E402
from tests.support.maps import computations, job_processes  # noqa: E402
from tests.support.waiting import wait_until  # noqa: E402

PROGRESS_BOX = {"panel": 1, "type": "panel-progress-box"}
COUNT = {"panel": 1, "type": "panel-count"}


def watch_progress(duo) -> None:
    """Record whether panel 1's progress box is ever shown (the job may be quick), and where
    panel 1's map was then."""
    duo.driver.execute_script(
        "window.__progressShown = false;"
        f"const box = document.getElementById('{css_id(PROGRESS_BOX).replace(chr(92), '')}');"
        f"const graph = {graph_js(1)};"
        "new MutationObserver(() => { if (box.style.display === 'flex') {"
        " window.__progressShown = true;"
        " window.__mapTopWhileRunning = graph.getBoundingClientRect().top; } })"
        ".observe(box, {attributes: true});"
    )


def map_top(duo) -> float:
    return duo.driver.execute_script(f"return {graph_js(1)}.getBoundingClientRect().top")


def count_text(duo) -> str:
    return duo.find_element("#" + css_id(COUNT)).text


def test_map001_umap_shows_progress_then_map_and_a_restart_uses_the_cache(dash_duo, tmp_path):
    fake = write_fake_collection(tmp_path)
    config = AppConfig(fake.library, fake.data_dir)
    dash_duo.start_server(create_app(config))
    before = wait_for_points(dash_duo, 1)
    top = map_top(dash_duo)
    watch_progress(dash_duo)
    choose_option(dash_duo, "#" + css_id({"panel": 1, "type": "panel-projection"}), "UMAP")
    wait_until(
        lambda: (
            "UMAP"
            in (
                dash_duo.driver.execute_script(f"return {graph_js(1)}._fullLayout.title.text") or ""
            )
        ),
        # A fresh data folder means a cold numba compile inside the job: ~30 s idle, far more
        # on a busy 2-core machine.
        timeout=400,
        message="UMAP map",
    )
    assert count_text(dash_duo) == "20 segments"
    assert dash_duo.driver.execute_script("return window.__progressShown")
    # The progress is drawn over the map's title line: the map did not move for it.
    assert dash_duo.driver.execute_script("return window.__mapTopWhileRunning") == top
    assert map_top(dash_duo) == top
    xs = dash_duo.driver.execute_script(f"return Array.from({graph_js(1)}._fullData[0].x)")
    assert len(xs) == 20 and sorted(wait_for_points(dash_duo, 1)) == sorted(before)
    assert computations(fake.data_dir / "cache") == 1
    assert_no_console_errors(dash_duo)

    # A fresh app on the same data folder draws the stored map without computing it again.
    restarted = AppState.load(config)
    settings = PanelSettings("musicnn", "msd", "taggram", "umap")
    snapshot = restarted.snapshot
    ids = snapshot.collection.space("musicnn-msd", "taggram").segment_ids
    key = map_key(settings.model, settings.layer, settings.projection, ids, snapshot.version)
    cached = cached_map(restarted.cache_dir, key, ids)
    assert cached is not None
    np.testing.assert_allclose(np.sort(cached[:, 0]), np.sort(np.asarray(xs, np.float32)))
    assert computations(fake.data_dir / "cache") == 1


def test_map002_a_different_music_selection_is_a_different_map(tmp_path):
    fake = write_fake_collection(tmp_path)
    snapshot = AppState.load(AppConfig(fake.library, fake.data_dir)).snapshot
    ids = snapshot.collection.space("vgg-mtt", "embedding").segment_ids

    def key(projection: str, segment_ids) -> str:
        return map_key("vgg-mtt", "embedding", projection, segment_ids, snapshot.version)

    assert key("tsne", ids) != key("tsne", ids[::2])
    assert key("tsne", ids) == key("tsne", ids[::-1])
    assert key("tsne", ids) != key("umap", ids)


def test_map003_cancel_stops_the_job(dash_duo, tmp_path):
    fake = big_collection(tmp_path)
    dash_duo.start_server(create_app(AppConfig(fake.library, fake.data_dir)))
    before = wait_for_points(dash_duo, 1)
    choose_option(dash_duo, "#" + css_id({"panel": 1, "type": "panel-projection"}), "t-SNE")
    box = "#" + css_id(PROGRESS_BOX)
    wait_until(
        lambda: dash_duo.find_element(box).value_of_css_property("display") == "flex",
        timeout=30,
        message="progress bar",
    )
    dash_duo.find_element("#panel-cancel-1").click()
    wait_until(
        lambda: dash_duo.find_element(box).value_of_css_property("display") == "none",
        message="progress bar to go away",
    )
    assert count_text(dash_duo) == "t-SNE cancelled:"
    wait_until(lambda: not job_processes(), timeout=30, message="the cancelled job to end")
    assert computations(fake.data_dir / "cache") == 0  # the job never finished
    assert sorted(wait_for_points(dash_duo, 1)) == sorted(before)  # the old map stays
    # The other panel and the controls still work.
    choose_option(dash_duo, "#" + css_id({"panel": 0, "type": "panel-layer"}), "Taggram")
    assert len(wait_for_points(dash_duo, 0)) == 6000


# -- what a map job says (issue 32, item 10) ------------------------------------------------------


def job_snapshot(tmp_path: Path):
    fake = write_fake_collection(tmp_path)
    return AppState.load(AppConfig(fake.library, fake.data_dir)).snapshot


def test_map004_after_cancel_the_panel_says_how_to_try_again(tmp_path):
    from dash import no_update

    from explore_dash.callbacks import map_jobs, panels
    from explore_dash.maps.settings import PLAIN_LOOK

    tsne = PanelSettings("musicnn", "msd", "embedding", "tsne")
    job = panels.map_job(tsne, [], [], 1, 1, PLAIN_LOOK)
    # A map of the whole selection: the old map stays, and "Try again" is shown beside the line.
    count, retry = map_jobs.say_cancelled(job)
    assert count == "t-SNE cancelled:" and retry == {"display": "inline"}
    # "Recompute for this selection" (shown beside the placed map) started it: that link again.
    count, retry = map_jobs.say_cancelled(map_jobs.recompute_job(tsne, ["Alpha"], [], 1, 1,
                                                             PLAIN_LOOK))  # fmt: skip
    assert count == "t-SNE cancelled: Recompute to try again" and retry is no_update
    for count in (map_jobs.say_cancelled(job)[0], map_jobs.say_cancelled(None)[0]):
        assert "choose a projection" not in count


def test_map005_windows_have_one_name_while_computing_and_when_done(tmp_path):
    from explore_dash.callbacks import map_jobs, panels

    snapshot = job_snapshot(tmp_path)
    cache = tmp_path / "cache"
    tsne = PanelSettings("musicnn", "msd", "embedding", "tsne")

    def draw(window: int):
        return panels.draw_panel(snapshot, cache, tsne, [], [], 1, ([], [], [], []),
                                 window=window, new_tables=False, view=None,
                                 extraction_running=lambda: False)  # fmt: skip

    for window, name in ((2, "windows of 6 s"), (1, "segments")):
        _, computing, job, _ = draw(window)
        progress = []
        _, done, _ = map_jobs.compute_panel_map(snapshot, cache, job, ([], [], [], []),
                                              progress.append)  # fmt: skip
        assert done.endswith(name)
        assert computing == f"computing t-SNE for {done}…"
        assert all(label.startswith(f"t-SNE for {done} · ") for _, _, label in progress)


def test_map006_the_progress_label_says_what_runs_from_the_start_and_the_bar_advances(tmp_path):
    from explore_dash.callbacks import map_jobs, panels

    snapshot = job_snapshot(tmp_path)
    cache = tmp_path / "cache"
    umap = PanelSettings("musicnn", "msd", "taggram", "umap")
    _, _, job, _ = panels.draw_panel(snapshot, cache, umap, [], [], 1, ([], [], [], []),
                                     new_tables=False, view=None,
                                     extraction_running=lambda: False)  # fmt: skip
    progress = []
    map_jobs.compute_panel_map(snapshot, cache, job, ([], [], [], []), progress.append)
    # The first report, before any work: what runs, on how many points, at what stage.
    assert progress[0] == (0, "", "UMAP for 20 segments · finding neighbours")
    values = [value for value, _, _ in progress]
    assert values == sorted(values) and values[-1] == 100 and len(set(values)) > 3
    assert all(text == f"{value} %" for value, text, _ in progress if value)
    assert progress[-1][2] == "UMAP for 20 segments · placing the points"


def test_map007_a_map_that_cannot_be_drawn_says_why_on_lines_that_wrap(tmp_path):
    from dash import html, no_update

    from explore_dash.callbacks import map_jobs, panels

    snapshot = job_snapshot(tmp_path)
    cache = tmp_path / "cache"
    tsne = PanelSettings("musicnn", "msd", "taggram", "tsne")
    _, _, job, _ = panels.draw_panel(snapshot, cache, tsne, ["Gamma"], [], 1, ([], [], [], []),
                                     new_tables=False, view=None,
                                     extraction_running=lambda: False)  # fmt: skip
    figure, note, _ = map_jobs.compute_panel_map(snapshot, cache, job, ([], [], [], []), print)
    assert figure is no_update
    # Its own class, which the stylesheet lets wrap: the count line is cut to one line, and the
    # advice comes at the error's end.
    assert isinstance(note, html.Span) and note.className == "panel-note-error"
    assert "needs at least" in note.children and note.children.endswith("handful of points")
