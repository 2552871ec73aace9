"""Data folder: staging, idempotent merging, removal, changed files, atomic writes, the lock."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from extraction.contract import STATUS_ERROR, STATUS_OK
from extraction.errors import LibraryError
from extraction.library import LibraryFile
from extraction.merge import merge_staged, stage_results
from extraction.plan import plan_work
from extraction.store import (
    DataStore,
    SegmentBlock,
    atomic_write_parquet,
    read_segment_table,
    tracks_frame,
)
from extraction.task import TrackResult, TrackTask, track_row

SPACES = [("m1", "taggram"), ("m1", "embedding")]
DIMS = {"taggram": 4, "embedding": 6}


def fake_result(
    track: int,
    n_segments: int,
    *,
    size: int = 100,
    mtime: int = 1,
    seed: int = 0,
    status: str = STATUS_OK,
) -> TrackResult:
    task = TrackTask(LibraryFile(f"a/t{track}.ogg", size, mtime), track, {"title": f"t{track}"})
    if status != STATUS_OK:
        return TrackResult(track_row(task, STATUS_ERROR, "broken", None))
    rng = np.random.default_rng(seed * 1000 + track)
    segments = {
        (model, layer): SegmentBlock(
            np.full(n_segments, track, np.int32),
            (np.arange(n_segments) * 2.992).astype(np.float32),
            rng.normal(size=(n_segments, DIMS[layer])).astype(np.float32),
        )
        for model, layer in SPACES
    }
    return TrackResult(
        track_row(task, STATUS_OK, None, n_segments * 2.992), segments, n_segments * 2.992
    )


@pytest.fixture
def store(tmp_path: Path) -> DataStore:
    s = DataStore(tmp_path / "data")
    s.prepare()
    return s


def segment_counts(store: DataStore, space=SPACES[0]) -> dict[int, int]:
    block = store.read_segments(*space)
    tracks, counts = np.unique(block.track, return_counts=True)
    return dict(zip(tracks.tolist(), counts.tolist(), strict=True))


def test_store001_stage_and_merge_builds_documented_tables(store: DataStore):
    stage_results(store, [fake_result(0, 3), fake_result(1, 2)])
    stage_results(store, [fake_result(2, 1, status=STATUS_ERROR)])
    assert merge_staged(store)
    tracks = store.read_tracks()
    assert tracks["track"].tolist() == [0, 1, 2]
    assert tracks["status"].tolist() == [STATUS_OK, STATUS_OK, STATUS_ERROR]
    assert tracks.loc[2, "error"] == "broken"
    assert segment_counts(store) == {0: 3, 1: 2}
    assert list(store.staging_dir.iterdir()) == []
    # Read as one hive-partitioned table, as the app does.
    table = read_segment_table(store.root)
    assert set(table.column_names) == {
        "track",
        "offset",
        "vector",
        "pca",
        "std_pca",
        "model",
        "layer",
    }
    assert table.num_rows == 2 * 5
    frame = table.to_pandas()
    offsets = frame[(frame.track == 0) & (frame.layer == "taggram")]["offset"].tolist()
    assert offsets == pytest.approx([0, 2.992, 5.984])
    assert len(frame.iloc[0]["pca"]) >= 10


def test_store002_merge_is_idempotent_when_a_crash_left_staging_behind(store: DataStore):
    stage_results(store, [fake_result(0, 3), fake_result(1, 2)])
    merge_staged(store)
    first = store.read_segments(*SPACES[1])
    # Simulate a crash after the tables were written but before staging was cleared.
    stage_results(store, [fake_result(1, 2)])
    merge_staged(store)
    again = store.read_segments(*SPACES[1])
    np.testing.assert_array_equal(first.track, again.track)
    np.testing.assert_array_equal(first.vector, again.vector)


def test_store003_orphan_segment_file_without_tracks_file_is_ignored(store: DataStore):
    batch = store.stage(tracks_frame([]), {})  # only to create a sequence number
    batch.tracks_path.unlink()
    stage_results(store, [fake_result(0, 1)])
    assert len(store.staged_batches()) == 1
    merge_staged(store)
    assert list(store.staging_dir.iterdir()) == []


def test_store004_removed_tracks_disappear_and_changed_files_drop_stale_segments(store: DataStore):
    stage_results(store, [fake_result(0, 3), fake_result(1, 2), fake_result(2, 2)])
    merge_staged(store)
    # Track 2 removed from the library; track 1's file changed and only m1/taggram was redone.
    redo = fake_result(1, 4, size=999, mtime=2, seed=1)
    redo.segments = {SPACES[0]: redo.segments[SPACES[0]]}
    stage_results(store, [redo])
    merge_staged(store, removed={2})
    assert store.read_tracks()["track"].tolist() == [0, 1]
    assert segment_counts(store, SPACES[0]) == {0: 3, 1: 4}
    # The other layer's rows of track 1 came from the old file: gone, so a later run redoes them.
    assert segment_counts(store, SPACES[1]) == {0: 3}


def test_store005_pca_columns_are_refit_and_deterministic(store: DataStore, tmp_path: Path):
    other = DataStore(tmp_path / "other")
    other.prepare()
    for s in (store, other):
        stage_results(s, [fake_result(t, 5) for t in range(4)])
        merge_staged(s)
    a = ds.dataset(store.segment_path(*SPACES[1])).to_table().to_pandas()
    b = ds.dataset(other.segment_path(*SPACES[1])).to_table().to_pandas()
    np.testing.assert_array_equal(np.stack(a["pca"]), np.stack(b["pca"]))
    assert np.stack(a["pca"])[:, 0].std() > 0


def test_store006_plan_skips_unchanged_and_failed_files_and_redoes_changed_ones():
    previous = pd.DataFrame(
        {
            "track": [0, 1, 2, 3],
            "path": ["a.ogg", "b.ogg", "c.ogg", "gone.ogg"],
            "size": [10, 10, 10, 10],
            "mtime_ns": [1, 1, 1, 1],
            "status": [STATUS_OK, STATUS_OK, STATUS_ERROR, STATUS_OK],
        }
    )
    files = [
        LibraryFile("a.ogg", 10, 1),  # unchanged, done
        LibraryFile("b.ogg", 10, 5),  # touched
        LibraryFile("c.ogg", 10, 1),  # failed before, unchanged: not retried
        LibraryFile("new.ogg", 3, 1),
    ]
    done = {SPACES[0]: {0, 1, 3}, SPACES[1]: {0, 1, 3}}
    ids, todo, unchanged, next_id = plan_work(files, previous, done, SPACES, 4)
    assert ids == {"a.ogg": 0, "b.ogg": 1, "c.ogg": 2, "new.ogg": 4}
    assert [(f.path, t) for f, t in todo] == [("b.ogg", 1), ("new.ogg", 4)]
    assert unchanged == 2 and next_id == 5
    # A model added later: every ok track lacks it.
    more = [*SPACES, ("m2", "taggram")]
    _, todo, _, _ = plan_work(files, previous, done, more, 4)
    assert [f.path for f, _ in todo] == ["a.ogg", "b.ogg", "new.ogg"]
    _, todo, _, _ = plan_work(files, previous, done, SPACES, 4, force=True)
    assert len(todo) == 4


def test_store007_atomic_write_keeps_old_file_when_the_disk_is_full(store: DataStore, monkeypatch):
    stage_results(store, [fake_result(0, 2)])
    merge_staged(store)
    before = store.tracks_path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pyarrow.parquet.write_table", full)
    with pytest.raises(LibraryError, match="disk full"):
        store.write_tracks(store.read_tracks())
    assert store.tracks_path.read_bytes() == before
    assert not [p for p in store.root.iterdir() if p.name.startswith(".tmp-")]


def test_store008_second_writer_is_refused(store: DataStore):
    with (
        store.exclusive(),
        pytest.raises(LibraryError, match="already writing"),
        DataStore(store.root).exclusive(),
    ):
        pass
    with DataStore(store.root).exclusive():  # released: usable again
        pass


def test_store009_atomic_write_replaces_whole_file(tmp_path: Path):
    import pyarrow as pa

    path = tmp_path / "t.parquet"
    atomic_write_parquet(pa.table({"a": [1]}), path)
    atomic_write_parquet(pa.table({"a": [2, 3]}), path)
    assert ds.dataset(path).to_table().column("a").to_pylist() == [2, 3]


def test_store010_lock_holder_clears_what_a_killed_writer_left(store: DataStore):
    stage_results(store, [fake_result(0, 3)])
    merge_staged(store)
    leftovers = [
        store.root / ".tmp-0123456789abcdef0123456789abcdef-tracks.parquet",
        store.segments_dir / "model=m1" / "layer=taggram" / ".tmp-feed-part-0.parquet",
    ]
    for path in leftovers:
        path.write_bytes(b"half a table")
    with store.exclusive():
        assert not any(path.exists() for path in leftovers)
    assert store.read_tracks()["track"].tolist() == [0]  # the real tables untouched


def test_store011_a_half_written_staged_file_is_not_a_batch(store: DataStore):
    """A writer killed mid-write leaves a dot-named temporary beside the finished batches."""
    store.prepare()
    (store.staging_dir / ".tmp-0123abcd-00000001.tracks.parquet").write_bytes(b"partial")
    (store.staging_dir / "00000002.tracks.parquet").write_bytes(b"x")
    assert [batch.sequence for batch in store.staged_batches()] == [2]
