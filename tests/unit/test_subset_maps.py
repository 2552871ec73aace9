"""A subset of the collection placed at once on the whole collection's cached map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dash import no_update

from explore_dash.callbacks import map_jobs, panels
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.points import visible_points
from explore_dash.maps.settings import PLAIN_LOOK, PanelSettings
from tests.support.fake_collection import write_fake_collection
from tests.support.maps import NONE, TSNE, computations


@pytest.fixture()
def snapshot(tmp_path: Path) -> Snapshot:
    return Snapshot.load(write_fake_collection(tmp_path).data_dir)


def draw(snapshot, cache, **music):
    return panels.draw_panel(
        snapshot, cache, TSNE, music.get("artists", []), [], 1, NONE,
        new_tables=False, view=None, extraction_running=lambda: False,
    )  # fmt: skip


def whole_map(snapshot, cache) -> dict:
    _, _, job, _ = draw(snapshot, cache)
    figure, _, _ = map_jobs.compute_panel_map(snapshot, cache, job, NONE, lambda _: None)
    return figure


def test_subset001_a_selection_is_placed_at_once_where_the_whole_map_has_it(snapshot, tmp_path):
    cache = tmp_path / "cache"
    assert draw(snapshot, cache, artists=["Alpha"])[2] is not no_update  # nothing cached: a job
    whole_map(snapshot, cache)
    whole = visible_points(snapshot, cache, TSNE, [], [], 1)
    figure, count, job, _ = draw(snapshot, cache, artists=["Alpha"])
    assert job is no_update and figure["layout"]["meta"] == {"subset": True}
    assert count == "8 segments · placed on the whole collection's map"
    alpha = visible_points(snapshot, cache, TSNE, ["Alpha"], [], 1)
    where = {int(s): tuple(xy) for s, xy in zip(whole.segment_ids, whole.xy, strict=True)}
    np.testing.assert_array_equal(alpha.xy, [where[int(s)] for s in alpha.segment_ids])
    assert computations(cache) == 1  # the whole map only


def test_subset002_recompute_makes_a_map_of_the_selection_alone(snapshot, tmp_path):
    cache = tmp_path / "cache"
    whole_map(snapshot, cache)
    job = map_jobs.recompute_job(TSNE, ["Alpha"], [], 1, 1, PLAIN_LOOK)
    assert job["fresh"] is True
    figure, count, _ = map_jobs.compute_panel_map(snapshot, cache, job, NONE, lambda _: None)
    assert count == "8 segments" and "meta" not in figure["layout"]
    assert computations(cache) == 2
    # From now on the selection's own map is shown, not the subset.
    figure, count, job, _ = draw(snapshot, cache, artists=["Alpha"])
    assert job is no_update and count == "8 segments"


def test_subset003_stored_projections_have_nothing_to_recompute():
    pca = PanelSettings("musicnn", "msd", "embedding", "pca")
    assert map_jobs.recompute_job(pca, [], [], 1, 1, PLAIN_LOOK) is no_update
