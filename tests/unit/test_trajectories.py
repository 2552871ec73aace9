"""A highlighted track's segments joined in time order, with its start and end marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explore_dash.callbacks import panels
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.figures import TRAJECTORY_END, TRAJECTORY_START, trajectory_paths
from explore_dash.maps.points import visible_points
from explore_dash.maps.settings import MapLook, PanelSettings
from extraction.contract import SEGMENT_ID_STRIDE
from tests.support.fake_collection import write_fake_collection
from tests.support.typed_arrays import decoded

PCA = PanelSettings("musicnn", "msd", "embedding", "pca")
NO_HIGHLIGHT = ([], [], [], [])


@pytest.fixture()
def snapshot(tmp_path: Path) -> Snapshot:
    return Snapshot.load(write_fake_collection(tmp_path).data_dir)


def figure_of(snapshot, highlight, trajectories=True) -> dict:
    points = visible_points(snapshot, Path("/nonexistent"), PCA, [], [], 1)
    look = MapLook(trajectories=trajectories)
    return panels.draw(snapshot, PCA, points, highlight, False, look)[0], points


def test_trajectories001_a_highlighted_track_is_joined_in_time_order(snapshot):
    figure, points = figure_of(snapshot, ([], [], [2], []))  # Beta – Étude: 7 segments
    line, ends = figure["data"][2], figure["data"][3]
    x, y = decoded(line["x"]), decoded(line["y"])
    mine = np.flatnonzero(points.space.track[points.rows] == 2)
    order = mine[np.argsort(points.space.offset[points.rows][mine])]
    np.testing.assert_array_equal(np.c_[x, y], points.xy[order])
    assert list(decoded(ends["customdata"])) == [2 * SEGMENT_ID_STRIDE, 2 * SEGMENT_ID_STRIDE + 6]
    assert ends["marker"]["symbol"] == [TRAJECTORY_START, TRAJECTORY_END]
    assert line["hoverinfo"] == ends["hoverinfo"] == "skip"  # hovering still plays segments


def test_trajectories002_two_tracks_are_two_lines(snapshot):
    figure, _ = figure_of(snapshot, (["Alpha"], [], [], []))  # tracks of 5 and 3 segments
    x = decoded(figure["data"][2]["x"])
    assert len(x) == 5 + 1 + 3 and np.isnan(x[5]) and not np.isnan(np.delete(x, 5)).any()
    assert len(decoded(figure["data"][3]["x"])) == 4


def test_trajectories003_off_or_nothing_highlighted_draws_none(snapshot):
    for highlight, on in ((([], [], [2], []), False), (NO_HIGHLIGHT, True)):
        figure, _ = figure_of(snapshot, highlight, on)
        assert len(decoded(figure["data"][2]["x"])) == len(decoded(figure["data"][3]["x"])) == 0


def test_trajectories004_a_highlight_change_patches_the_lines_not_the_points(snapshot, tmp_path):
    patches = panels.recolour(snapshot, tmp_path, ([], [], [7], []), [PCA], [], [], 1,
                              trajectories=True)  # fmt: skip
    locations = {tuple(op["location"][:2]) for op in patches[0].to_plotly_json()["operations"]}
    assert locations == {("data", 1), ("data", 2), ("data", 3)}


def test_trajectories005_at_most_twelve_tracks(snapshot):
    points = visible_points(snapshot, Path("/nonexistent"), PCA, [], [], 1)
    every = np.arange(len(points.rows))
    assert len(trajectory_paths(points, every, limit=2)) == 2
    assert len(trajectory_paths(points, every)) == 5  # all the fake collection has
