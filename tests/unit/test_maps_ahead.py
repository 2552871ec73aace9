"""The whole collection's maps computed ahead: into the cache, once, stopped and resumed."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import numpy as np
import pytest

from explore_dash.callbacks import map_jobs, panels
from explore_dash.data.snapshot import Snapshot
from explore_dash.data.space_files import SPACES_DIR
from explore_dash.maps.ahead import compute_pending, space_order
from explore_dash.maps.ahead_status import STATUS_FILE, AheadStatus, read_ahead_status
from explore_dash.maps.cache import store_map
from explore_dash.maps.locks import map_being_computed, map_lock
from explore_dash.maps.points import points_key, visible_points
from explore_dash.maps.settings import PanelSettings
from extraction.contract import PROGRESS_FILE, ExtractionStatus
from tests.support.fake_collection import make_collection, write_fake_collection
from tests.support.maps import NONE, TSNE, computations, run_ahead
from tests.support.waiting import wait_until


def whole_map_ready(snapshot, cache, settings) -> bool:
    return visible_points(snapshot, cache, settings, [], [], 1, subset=False).ready


def test_ahead001_every_spaces_whole_map_lands_in_the_cache_without_a_page(tmp_path):
    fake = write_fake_collection(tmp_path)
    cache = fake.data_dir / "cache"
    assert compute_pending(fake.data_dir, cache, lambda: False, ("tsne",))
    snapshot = Snapshot.load(fake.data_dir)
    spaces = snapshot.collection.available_spaces()
    for model, layer in spaces:
        architecture, dataset = model.split("-")
        assert whole_map_ready(snapshot, cache, PanelSettings(architecture, dataset, layer, "tsne"))
    assert computations(cache) == len(spaces)
    for model, layer in spaces:  # and every space's files, for the next start of the app
        assert list((cache / SPACES_DIR / f"{model}-{layer}").glob("*-top3-tags.npy"))
    status = json.loads((cache / STATUS_FILE).read_text())
    assert status["ready"] == status["total"] == len(spaces)
    # Done once: a second round computes nothing.
    assert compute_pending(fake.data_dir, cache, lambda: False, ("tsne",))
    assert computations(cache) == len(spaces)


def test_ahead009_a_users_model_named_without_a_dash_does_not_stop_the_maps_ahead(tmp_path):
    import shutil

    fake = write_fake_collection(tmp_path, spaces=(("musicnn-msd", "taggram"),))
    segments = fake.data_dir / "segments"
    # A model from --models-dir, named by its user: no panel offers it, and its name has no "-".
    shutil.copytree(segments / "model=musicnn-msd", segments / "model=mymodel")
    cache = fake.data_dir / "cache"
    assert ("mymodel", "taggram") in Snapshot.load(fake.data_dir).collection.available_spaces()
    assert compute_pending(fake.data_dir, cache, lambda: False, ("tsne",))  # ValueError before
    snapshot = Snapshot.load(fake.data_dir)
    assert whole_map_ready(snapshot, cache, PanelSettings("musicnn", "msd", "taggram", "tsne"))
    assert computations(cache) == 1  # the panels' model only
    status = json.loads((cache / STATUS_FILE).read_text())
    assert status["ready"] == status["total"] == 1


def test_ahead002_the_panels_first_spaces_come_first():
    available = [("musicnn-msd", "embedding"), ("musicnn-msd", "taggram"), ("vgg-mtt", "embedding")]
    assert space_order(list(reversed(available)))[:2] == available[:2]


def test_ahead003_a_panel_waits_for_a_map_being_computed_instead_of_computing_it(tmp_path):
    fake = write_fake_collection(tmp_path)
    cache = fake.data_dir / "cache"
    snapshot = Snapshot.load(fake.data_dir)
    _, _, job, _ = panels.draw_panel(snapshot, cache, TSNE, [], [], 1, NONE, new_tables=False,
                                     view=None, extraction_running=lambda: False)  # fmt: skip
    points = visible_points(snapshot, cache, TSNE, [], [], 1)
    key = points_key(snapshot, TSNE, points)
    computed = np.random.default_rng(0).normal(size=(len(points.rows), 2)).astype(np.float32)
    holding = threading.Event()

    def background() -> None:  # what explore_dash/maps/ahead.py does for this map
        with map_lock(cache, key, wait=True):
            holding.set()
            time.sleep(1.0)
            store_map(cache, key, points.segment_ids, computed)

    thread = threading.Thread(target=background)
    thread.start()
    holding.wait(5)
    assert map_being_computed(cache, key)
    progress = []
    figure, count, _ = map_jobs.compute_panel_map(snapshot, cache, job, NONE, progress.append)
    thread.join()
    assert count == "20 segments" and computations(cache) == 1  # computed once, not twice
    assert any("waiting" in label for _, _, label in progress)  # (bar, its text, the label)
    assert not map_being_computed(cache, key)


def test_ahead004_it_waits_for_the_analysis_stops_on_sigint_and_resumes(tmp_path):
    fake = make_collection(tmp_path, 6000)  # t-SNE of 6,000 points: seconds, time to interrupt
    data, cache = fake.data_dir, fake.data_dir / "cache"
    analysis = ExtractionStatus(phase="extracting", pid=os.getpid())  # "running": this process
    (data / PROGRESS_FILE).write_text(json.dumps(analysis.__dict__))
    process = run_ahead(data)
    try:
        waiting = wait_until(lambda: read_ahead_status(cache), 60, "the waiting status")
        assert waiting.waiting and "after the analysis" in AheadStatus(0, 0, 3, waiting=True).text()
        time.sleep(1.0)
        assert computations(cache) == 0  # nothing while the tables may still change
        (data / PROGRESS_FILE).write_text(json.dumps({**analysis.__dict__, "phase": "done"}))
        wait_until(lambda: (read_ahead_status(cache) or AheadStatus()).computing, 60,
                 "a map to start")  # fmt: skip
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0, process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert computations(cache) == 0  # stopped mid-map: nothing half-done was stored
    process = run_ahead(data)  # the next start resumes
    try:
        done = wait_until(lambda: (s := read_ahead_status(cache)) and s.total and s.ready == s.total
                        and s, 300, "every map")  # fmt: skip
        assert done.text() == "" and computations(cache) == done.total
    finally:
        process.terminate()
        process.wait(30)
    snapshot = Snapshot.load(data)
    assert whole_map_ready(snapshot, cache, TSNE)


@pytest.mark.parametrize("status, text", [
    (AheadStatus(3, 5, 16), "maps: 5 of 16 ready"),
    (AheadStatus(3, 16, 16), ""),
    (AheadStatus(), ""),
])  # fmt: skip
def test_ahead005_the_pages_quiet_line(status, text):
    assert status.text() == text


def test_ahead006_the_background_leaves_the_first_core_to_the_page():
    from explore_dash.maps.ahead import background_cores

    assert background_cores([0, 1]) == {1}
    assert background_cores([3]) == {3}  # one core: shared, at the lowest priority
    assert background_cores(range(8)) == set(range(1, 8))


def test_ahead008_the_process_starts_at_the_lowest_priority_on_its_cores(tmp_path):
    from explore_dash.maps.ahead import background_cores, start_maps_ahead

    fake = make_collection(tmp_path, 6000)
    process = start_maps_ahead(fake.data_dir)
    try:
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == 19
        assert os.sched_getaffinity(process.pid) == background_cores(os.sched_getaffinity(0))
    finally:
        process.terminate()
        process.wait(30)


def test_ahead007_a_new_analysis_stops_the_running_map_and_it_carries_on_after(tmp_path):
    fake = make_collection(tmp_path, 6000)
    data, cache = fake.data_dir, fake.data_dir / "cache"
    process = run_ahead(data)
    try:
        wait_until(lambda: (read_ahead_status(cache) or AheadStatus()).computing, 60,
                 "a map to start")  # fmt: skip
        analysis = ExtractionStatus(phase="extracting", pid=os.getpid())
        (data / PROGRESS_FILE).write_text(json.dumps(analysis.__dict__))  # a new analysis
        waiting = wait_until(lambda: (s := read_ahead_status(cache)) and s.waiting and s, 30,
                           "the map to stop for the analysis")  # fmt: skip
        assert waiting.computing == "" and computations(cache) == 0  # nothing half-done
        assert process.poll() is None  # it waits, it does not exit
        (data / PROGRESS_FILE).write_text(json.dumps({**analysis.__dict__, "phase": "done"}))
        done = wait_until(lambda: (s := read_ahead_status(cache)) and s.total and s.ready == s.total
                        and s, 300, "every map")  # fmt: skip
        assert computations(cache) == done.total
    finally:
        process.terminate()
        process.wait(30)
