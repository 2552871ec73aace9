"""Longer segments: consecutive segments averaged into windows of 6, 12, 30 s or whole tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explore_dash.callbacks import map_jobs, panels
from explore_dash.data.snapshot import Snapshot
from explore_dash.data.windows import kept_windows, window_means, window_starts
from explore_dash.maps.points import points_key, visible_points
from explore_dash.maps.projections import project_stored, projection_input
from explore_dash.maps.settings import PanelSettings
from extraction.contract import SEGMENT_ID_STRIDE
from tests.support.fake_collection import write_fake_collection
from tests.support.maps import TSNE

PCA = PanelSettings("musicnn", "msd", "embedding", "pca")


@pytest.fixture()
def snapshot(tmp_path: Path) -> Snapshot:
    return Snapshot.load(write_fake_collection(tmp_path).data_dir)


def test_windows001_windows_start_at_every_nth_segment_of_each_track():
    track = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    index = np.array([0, 1, 2, 3, 4, 0, 1, 0])
    assert window_starts(track, index, 2).tolist() == [0, 2, 4, 5, 7]
    assert window_starts(track, index, 0).tolist() == [0, 5, 7]  # whole tracks
    starts = window_starts(track, index, 2)
    assert kept_windows(index, starts, 2, 2).tolist() == [True, False, True, True, True]
    means = window_means(np.arange(8, dtype=float)[:, None], starts)
    assert means[:, 0].tolist() == [0.5, 2.5, 4.0, 5.5, 7.0]


def test_windows002_12_s_windows_are_a_quarter_of_the_points_at_their_mean(snapshot):
    single = visible_points(snapshot, Path("/x"), PCA, [], [], 1)
    windows = visible_points(snapshot, Path("/x"), PCA, [], [], 1, 4)
    # Tracks of 5, 3, 7, 1 and 4 segments: 2 + 1 + 2 + 1 + 1 windows.
    assert len(single.rows) == 20 and len(windows.rows) == 7
    assert panels.point_count(windows) == "7 windows of 12 s"
    assert [int(s) % SEGMENT_ID_STRIDE % 4 for s in windows.segment_ids] == [0] * 7
    space = windows.space
    first = windows.members[windows.starts[0] : windows.starts[1]]
    assert len(first) == 4
    # The mean of the stored PCA columns: the mean vector on the stored axes (they are affine).
    np.testing.assert_allclose(windows.xy[0], project_stored(space, "pca", first).mean(axis=0),
                               rtol=1e-5)  # fmt: skip
    features = windows.features("tsne")
    np.testing.assert_allclose(features[0], projection_input(space, first, "tsne").mean(axis=0),
                               rtol=1e-5)  # fmt: skip


def test_windows003_whole_tracks_are_one_point_each(snapshot):
    tracks = visible_points(snapshot, Path("/x"), PCA, [], [], 1, 0)
    assert sorted(tracks.segment_ids // SEGMENT_ID_STRIDE) == [0, 1, 2, 5, 7]
    assert panels.point_count(tracks).startswith("5 tracks")


def test_windows004_a_windowed_map_is_cached_apart_from_thinned_segments(snapshot, tmp_path):
    # Every 4th segment and 12-s windows have the same ids: their maps must not be mixed up.
    thinned = visible_points(snapshot, tmp_path, TSNE, [], [], 4)
    windows = visible_points(snapshot, tmp_path, TSNE, [], [], 1, 4)
    assert thinned.segment_ids.tolist() == windows.segment_ids.tolist()
    assert points_key(snapshot, TSNE, thinned) != points_key(snapshot, TSNE, windows)


def test_windows005_the_background_job_maps_the_windows(snapshot, tmp_path):
    figure, count, job, _ = panels.draw_panel(
        snapshot, tmp_path, TSNE, [], [], 1, ([], [], [], []), window=2, new_tables=False,
        view=None, extraction_running=lambda: False,
    )  # fmt: skip
    assert job["window"] == 2
    figure, count, _ = map_jobs.compute_panel_map(snapshot, tmp_path, job, ([], [], [], []),
                                                lambda _: None)  # fmt: skip
    assert count == "12 windows of 6 s"  # 3 + 2 + 4 + 1 + 2
    assert len(figure["data"][0]["customdata"]["bdata"]) > 0
    again = visible_points(snapshot, tmp_path, TSNE, [], [], 1, 2)
    assert again.ready  # read back from the cache under the window's key
