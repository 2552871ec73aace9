"""Extraction that the app can watch: early merges, a spread order, steady PCA axes, a status file,
and SIGINT/SIGTERM that leave consistent tables.

The networks are replaced by a fake extractor (deterministic vectors per track), so these tests
exercise the run's bookkeeping quickly; tests/system/test_pipeline.py runs the real networks.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from extraction import pipeline
from extraction.contract import STATUS_ERROR, STATUS_OK, read_status
from extraction.library import LibraryFile
from extraction.merge import MergeSchedule, merge_staged, stage_results
from extraction.pca import matching_signs, pca_columns
from extraction.pipeline import run_extraction
from extraction.plan import quick_start_order, spread_order
from extraction.registry import load_registry, resolve_models
from extraction.status import MAX_LISTED_FAILURES, StatusFile, estimate_eta
from extraction.store import DataStore, SegmentBlock
from extraction.task import TrackResult, TrackTask, track_row
from tests.support.paths import REPO, SLOW_EXTRACTOR
from tests.support.slow_extractor import slow_fake_extract_tracks
from tests.support.synth import write_audio
from tests.support.tables import assert_consistent

SPACE = ("m1", "embedding")


# -- order ----------------------------------------------------------------------------------------


def test_progressive001_spread_order_takes_one_track_per_folder_in_turn():
    paths = ["A/x/1.ogg", "A/x/2.ogg", "A/x/3.ogg", "B/1.ogg", "C/y/1.ogg", "C/y/2.ogg", "top.ogg"]
    todo = [(LibraryFile(p, 1, 1), i) for i, p in enumerate(paths)]
    ordered = [file.path for file, _ in spread_order(todo)]
    assert ordered == [
        "top.ogg",  # the library root is a folder too ("." sorts first)
        "A/x/1.ogg",
        "B/1.ogg",
        "C/y/1.ogg",
        "A/x/2.ogg",
        "C/y/2.ogg",
        "A/x/3.ogg",
    ]
    assert sorted(spread_order(todo), key=lambda item: item[1]) == todo  # nothing lost
    assert spread_order([]) == []


def test_progressive001b_short_tracks_first_until_a_first_map_worth_of_audio():
    def task(track, duration):
        tags = {} if duration is None else {"duration": duration}
        return TrackTask(LibraryFile(f"{track}.ogg", 1, 1), track, tags)

    tasks = [task(0, 300.0), task(1, None), task(2, 40.0), task(3, 90.0), task(4, 20.0)]
    # 20 + 40 + 90 = 150 s of audio first, shortest first; then the others in their order.
    assert [t.track for t in quick_start_order(tasks, seconds=120)] == [4, 2, 3, 0, 1]
    assert [t.track for t in quick_start_order(tasks, seconds=0)] == [0, 1, 2, 3, 4]
    assert [t.track for t in quick_start_order([task(0, None), task(1, None)])] == [0, 1]
    assert quick_start_order([]) == []


# -- merge schedule -------------------------------------------------------------------------------


def test_progressive002_merge_schedule_first_at_once_then_spaced():
    schedule = MergeSchedule(every_seconds=3600, first_seconds=300)
    assert not schedule.due(audio_done=120)  # too little for a first picture
    assert schedule.due(audio_done=310)  # the first map as soon as there is enough
    with schedule.timed():
        pass
    assert not schedule.due()
    assert not MergeSchedule(None).due()  # merge only at the end
    slow = MergeSchedule(every_seconds=0)
    slow.last_end, slow.last_cost = time.monotonic(), 100.0
    assert not slow.due()  # a 100-s merge is not repeated within 400 s
    slow.last_cost = 0.0
    assert slow.due()


# -- steady PCA axes ------------------------------------------------------------------------------


def test_progressive003_matching_signs_flips_only_disagreeing_axes():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(50, 3))
    coordinates = reference * np.array([1.0, -1.0, 1.0]) + rng.normal(scale=0.1, size=(50, 3))
    assert matching_signs(coordinates, reference).tolist() == [1.0, -1.0, 1.0]


def _line_result(track: int, direction: tuple[float, float], n: int = 40) -> TrackResult:
    """Segments spread along ``direction`` in 2-D (plus a little noise)."""
    rng = np.random.default_rng(track)
    along = rng.normal(size=(n, 1)) * np.asarray(direction)
    vectors = (along + rng.normal(scale=0.01, size=(n, 2))).astype(np.float32)
    task = TrackTask(LibraryFile(f"t{track}.ogg", 1, 1), track, {})
    block = SegmentBlock(
        np.full(n, track, np.int32), (np.arange(n) * 2.992).astype(np.float32), vectors
    )
    return TrackResult(track_row(task, STATUS_OK, None, n * 2.992), {SPACE: block}, n * 2.992)


def _first_axis_of(store: DataStore, track: int) -> np.ndarray:
    track_ids, _, pca, _ = store.read_projection_columns(*SPACE)
    return pca[track_ids == track, 0]


def test_progressive004_refit_keeps_the_orientation_the_user_has_seen(tmp_path: Path):
    # The main axis turns from (1, -0.8) to about (0.8, -1) as tracks arrive: the loading
    # convention alone (largest loading positive) would mirror the map at this point.
    store = DataStore(tmp_path / "data")
    store.prepare()
    stage_results(store, [_line_result(0, (1.0, -0.8))])
    merge_staged(store)
    before = _first_axis_of(store, 0)

    grown = [_line_result(t, (0.8, -1.0)) for t in range(1, 4)]
    stage_results(store, grown)
    merge_staged(store)
    after = _first_axis_of(store, 0)
    assert np.corrcoef(before, after)[0, 1] > 0.9

    # Check that the test can fail: a fresh fit of the same rows is mirrored.
    block = store.read_segments(*SPACE)
    fresh, _ = pca_columns(block.vector)
    assert np.corrcoef(fresh[block.track == 0, 0], before)[0, 1] < -0.9


# -- status file ----------------------------------------------------------------------------------


def _result(track: int, ok: bool = True, duration: float = 60.0) -> TrackResult:
    task = TrackTask(LibraryFile(f"f/{track}.ogg", 1, 1), track, {})
    if ok:
        return TrackResult(track_row(task, STATUS_OK, None, duration), {}, duration)
    return TrackResult(track_row(task, STATUS_ERROR, "not audio: bad header", None))


def test_progressive005_status_file_reports_counts_audio_eta_and_failures(tmp_path: Path):
    status = StatusFile(tmp_path, min_interval=0.0)
    assert read_status(tmp_path).phase == "scanning"
    status.start(total_audio_seconds=300.0, total_tracks=4)
    status.advance(_result(0))
    status.advance(_result(1, ok=False))
    seen = read_status(tmp_path)
    assert seen.phase == "extracting" and seen.running
    assert (seen.tracks_total, seen.tracks_done, seen.tracks_failed) == (4, 2, 1)
    assert seen.audio_done_seconds == 60.0 and seen.audio_total_seconds == 300.0
    assert seen.failures == [["f/1.ogg", "not audio: bad header"]]
    assert seen.eta_seconds is not None and seen.eta_seconds > 0
    status.finish("interrupted")
    assert read_status(tmp_path).phase == "interrupted"
    assert not read_status(tmp_path).running


def test_progressive006_eta_and_failure_list_bounds(tmp_path: Path):
    assert estimate_eta(0.0, 100.0, 5.0) is None
    assert estimate_eta(25.0, 100.0, 10.0) == pytest.approx(30.0)
    assert estimate_eta(100.0, 100.0, 10.0) == 0.0
    status = StatusFile(tmp_path, min_interval=3600)
    status.start(1.0, MAX_LISTED_FAILURES + 5)
    for track in range(MAX_LISTED_FAILURES + 5):
        status.advance(_result(track, ok=False))
    status.close()
    failures = read_status(tmp_path).failures
    assert len(failures) == MAX_LISTED_FAILURES
    assert failures[-1][0] == f"f/{MAX_LISTED_FAILURES + 4}.ogg"  # the most recent are kept


def test_progressive007_unreadable_status_is_none(tmp_path: Path):
    assert read_status(tmp_path) is None
    (tmp_path / "progress.json").write_text("{not json")
    assert read_status(tmp_path) is None


# -- whole runs with a fake extractor -------------------------------------------------------------


def _library(root: Path, n: int = 12) -> Path:
    for i in range(n):
        write_audio(root / f"folder{i % 3}" / f"t{i}.wav", 0.2, signal="tone")
    return root


def _fake_cli(library: Path, data: Path, seconds: float) -> list[str]:
    return [
        sys.executable,
        str(SLOW_EXTRACTOR),
        "--seconds-per-track",
        str(seconds),
        "--library",
        str(library),
        "--data",
        str(data),
        "--models",
        "vgg-mtt",
        "--quiet",
    ]


def test_progressive008_tables_grow_while_the_run_goes_on(tmp_path: Path, monkeypatch):
    library = _library(tmp_path / "lib", n=6)
    store = DataStore(tmp_path / "data")
    store.prepare()
    seen_versions = []
    fake = slow_fake_extract_tracks(0.0)

    def watching(*args, **kwargs):
        for result in fake(*args, **kwargs):
            seen_versions.append((store.read_state().get("version", 0), len(store.read_tracks())))
            yield result

    monkeypatch.setattr(pipeline, "extract_tracks", watching)
    monkeypatch.setattr(pipeline, "FIRST_MAP_SECONDS", 0.0)  # tracks of a fraction of a second
    specs = resolve_models(["vgg-mtt"], load_registry())
    with store.exclusive():
        summary = run_extraction(library, store, specs, merge_every_seconds=0.0)
    assert summary.ok == 6
    assert "pending_ids" not in store.read_state()  # a finished run leaves none behind
    counts = [tracks for _, tracks in seen_versions]
    # The first track is in the tables before the second is handed over (the first map), and
    # the tables only grow; later merges are spaced by their own cost.
    assert counts[:2] == [0, 1]
    assert counts == sorted(counts)
    assert len(store.read_tracks()) == 6
    assert_consistent(store.root)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_progressive009_sigint_and_sigterm_leave_consistent_tables(tmp_path: Path, signum):
    library = _library(tmp_path / "lib")
    data, reference = tmp_path / "data", tmp_path / "reference"
    done = subprocess.run(_fake_cli(library, reference, 0.0), cwd=REPO, capture_output=True)
    assert done.returncode == 0, done.stderr

    process = subprocess.Popen(_fake_cli(library, data, 0.4), cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (data / "tracks.parquet").exists():  # the first merge: the map exists
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"finished tracks are saved" in stderr
    assert_consistent(data)
    interrupted_tracks = len(DataStore(data).read_tracks())
    assert 1 <= interrupted_tracks < 12
    assert read_status(data).phase == "interrupted"

    resumed = subprocess.run(_fake_cli(library, data, 0.0), cwd=REPO, capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"ok: {12 - interrupted_tracks} ".encode() in resumed.stdout  # nothing redone
    assert read_status(data).phase == "done"
    assert_consistent(data)
    got, want = DataStore(data), DataStore(reference)
    assert got.read_tracks()[["track", "path"]].equals(want.read_tracks()[["track", "path"]])
    for space in want.segment_spaces():
        mine, theirs = got.read_segments(*space), want.read_segments(*space)
        np.testing.assert_array_equal(mine.track, theirs.track)
        np.testing.assert_array_equal(mine.vector, theirs.vector)


def test_progressive010_status_records_a_second_run_refused_without_overwriting(tmp_path: Path):
    library = _library(tmp_path / "lib", n=3)
    data = tmp_path / "data"
    store = DataStore(data)
    store.prepare()
    (data / "progress.json").write_text(json.dumps({"phase": "extracting", "tracks_done": 7}))
    with store.exclusive():  # a run in progress holds the lock
        refused = subprocess.run(_fake_cli(library, data, 0.0), cwd=REPO, capture_output=True)
    assert refused.returncode == 2
    assert b"already writing" in refused.stderr
    assert read_status(data).tracks_done == 7  # the running extraction's status is untouched


def test_progressive011_each_merge_marks_its_tables_with_the_version_it_makes(
    tmp_path: Path, monkeypatch
):
    import pyarrow.parquet as pq

    from extraction.contract import read_version, table_version

    library = _library(tmp_path / "lib", n=4)
    store = DataStore(tmp_path / "data")
    store.prepare()
    monkeypatch.setattr(pipeline, "extract_tracks", slow_fake_extract_tracks(0.0))
    monkeypatch.setattr(pipeline, "FIRST_MAP_SECONDS", 0.0)
    specs = resolve_models(["vgg-mtt"], load_registry())
    with store.exclusive():
        run_extraction(library, store, specs, merge_every_seconds=0.0)
    version = read_version(store.root)
    assert version >= 2  # the first map's merge, then the rest
    tables = [store.tracks_path] + [store.segment_path(*s) for s in store.segment_spaces()]
    assert {table_version(pq.read_schema(path)) for path in tables} == {version}
