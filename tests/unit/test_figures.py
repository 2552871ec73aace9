"""Panel figures and the thin helpers behind the callbacks."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from explore_dash.callbacks.playlist_edits import move
from explore_dash.data.collection import Collection
from explore_dash.data.colouring import NONE
from explore_dash.maps.figures import (
    HIGHLIGHT_COLOR,
    highlight_rows,
    id_array,
    panel_figure,
    panel_points,
    typed_array,
)
from explore_dash.maps.settings import DEFAULT_PANELS, PLAIN_LOOK, MapLook, PanelSettings
from extraction.contract import SEGMENT_ID_STRIDE
from tests.support.fake_collection import write_fake_collection


def decode(spec: dict) -> np.ndarray:
    dtype = {"f4": "<f4", "f8": "<f8", "i4": "<i4", "u1": "u1"}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)


@pytest.fixture
def collection(tmp_path: Path) -> Collection:
    return Collection.load(write_fake_collection(tmp_path).data_dir)


def test_figures001_typed_arrays_round_trip_exactly():
    values = np.array([1.5, -2.25, 3e7], np.float32)
    np.testing.assert_array_equal(decode(typed_array(values)), values)
    ids = np.array([0, 5 * SEGMENT_ID_STRIDE + 3, 2**40 + 7], np.int64)
    np.testing.assert_array_equal(decode(id_array(ids)).astype(np.int64), ids)


def test_figures002_panel_points_follow_selection_and_reduction(collection: Collection):
    settings = PanelSettings("vgg", "mtt", "embedding", "std_pca")
    everything = panel_points(collection, settings, collection.tracks.index.to_numpy(), 1)
    assert len(everything.segment_ids) == 5 + 3 + 7 + 1 + 4
    only_two = panel_points(collection, settings, np.array([2]), 2)
    assert (only_two.segment_ids // SEGMENT_ID_STRIDE == 2).all()
    assert (only_two.segment_ids % SEGMENT_ID_STRIDE).tolist() == [0, 2, 4, 6]
    space = collection.space("vgg-mtt", "embedding")
    np.testing.assert_array_equal(only_two.xy, space.std_pca[only_two.rows, :2])


def test_figures003_panel_figure_has_base_and_highlight_traces(collection: Collection):
    settings = PanelSettings("musicnn", "msd", "taggram", "pca")
    points = panel_points(collection, settings, collection.tracks.index.to_numpy(), 1)
    red = highlight_rows(points, collection.tracks, {}, {"artists": ["Alpha"]})
    figure = panel_figure(points, red, title="t", uirevision="u")
    base, overlay, *_trajectories = figure["data"]
    assert base["type"] == overlay["type"] == "scattergl"
    assert base["hoverinfo"] == "none"  # labels are drawn by the browser
    np.testing.assert_array_equal(decode(base["customdata"]), points.segment_ids)
    # The linked selection is drawn by the browser over the panel, never restyled into it.
    assert "selectedpoints" not in base and "selectedpoints" not in overlay
    alpha = set(collection.tracks.index[collection.tracks.artist == "Alpha"])
    overlay_ids = decode(overlay["customdata"]).astype(np.int64)
    assert set(overlay_ids // SEGMENT_ID_STRIDE) == alpha
    assert overlay["marker"]["color"] == HIGHLIGHT_COLOR
    assert figure["layout"]["uirevision"] == "u"


def test_figures004_no_highlight_gives_an_empty_overlay(collection: Collection):
    settings = PanelSettings("musicnn", "msd", "taggram", "pca")
    points = panel_points(collection, settings, collection.tracks.index.to_numpy(), 1)
    empty = {"artists": [], "albums": None, "tracks": [], "tags": []}
    assert len(highlight_rows(points, collection.tracks, {}, empty)) == 0


def test_figures005_move_up_and_down_within_the_list():
    assert move([1, 2, 3], 3, -1) == [1, 3, 2]
    assert move([1, 2, 3], 1, -1) == [1, 2, 3]  # the first cannot go up
    assert move([1, 2, 3], 1, 1) == [2, 1, 3]
    assert move([1, 2, 3], 3, 1) == [1, 2, 3]  # nor the last down
    assert move([1, 2, 3], 9, -1) == [1, 2, 3]


def test_figures006_points_carry_their_top_tag_indices_for_hover_labels(collection: Collection):
    settings = PanelSettings("musicnn", "msd", "embedding", "pca")
    space = collection.space("musicnn-msd", "embedding")
    tag_indices = np.arange(len(space) * 3, dtype=np.int64).reshape(-1, 3).astype(np.uint8)
    labels = [f"label{i}" for i in range(50)]
    points = panel_points(collection, settings, np.array([2]), 3, tag_indices, labels)
    figure = panel_figure(points, np.array([1]), title="", uirevision="")
    base, overlay, *_trajectories = figure["data"]
    assert base["meta"]["labels"] == labels
    np.testing.assert_array_equal(decode(base["meta"]["tags"]), tag_indices[points.rows].ravel())
    np.testing.assert_array_equal(
        decode(overlay["meta"]["tags"]), tag_indices[points.rows[1]].ravel()
    )


def test_figures007_the_plain_look_colours_by_nothing_and_survives_a_job():
    assert PLAIN_LOOK.colour_by == NONE and not PLAIN_LOOK.trajectories and not PLAIN_LOOK.captions
    look = MapLook("genre", True, False)
    assert MapLook(*look.as_job()) == look  # a map job carries its look as a list
    assert [s.projection for s in DEFAULT_PANELS] == ["pca", "pca"]  # drawn at once, no job
