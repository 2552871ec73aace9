"""Colour by artist, album, genre, auto-tag and position: palettes, codes, legends, Patches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explore_dash.callbacks import panels
from explore_dash.data.colouring import (
    NONE,
    OTHER,
    OTHER_COLOR,
    PALETTE,
    POSITION_STEPS,
    UNKNOWN_COLOR,
    Palette,
    category_marker,
    first_genre,
    legend,
    rank_categories,
)
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.points import visible_points
from explore_dash.maps.settings import PanelSettings
from extraction.contract import SEGMENT_SECONDS
from tests.support.fake_collection import FakeCollection, write_fake_collection
from tests.support.typed_arrays import decoded

LEFT = PanelSettings("musicnn", "msd", "embedding", "pca")
RIGHT = PanelSettings("vgg", "mtt", "taggram", "std_pca")


@pytest.fixture()
def fake(tmp_path: Path) -> FakeCollection:
    return write_fake_collection(tmp_path)


@pytest.fixture()
def snapshot(fake: FakeCollection) -> Snapshot:
    return Snapshot.load(fake.data_dir)


def colours_by_track(snapshot, settings, by) -> dict[int, set[str]]:
    """Track id -> the colours its points get in a panel of ``settings``."""
    points = visible_points(snapshot, Path("/nonexistent"), settings, [], [], 1)
    marker, _ = panels.point_colours(snapshot, points, by)
    codes = decoded(marker["color"])
    scale = marker["colorscale"]
    found: dict[int, set[str]] = {}
    for track, code in zip(points.space.track[points.rows], codes, strict=True):
        found.setdefault(int(track), set()).add(scale[2 * int(code)][1])
    return found


def test_colouring001_categories_are_ranked_by_segments_over_the_whole_collection(snapshot):
    # Alpha has 5 + 3 segments, Beta 7, Delta 4, Gamma 1.
    assert snapshot.palette("artist") == Palette("artist", ("Alpha", "Beta", "Delta", "Gamma"))
    assert snapshot.palette("album").categories == (
        "Alpha – First Album", "Beta – Second", "Delta – Greatest Hits", "Gamma – Live"
    )
    # First genre of each track; Gamma has none and is left out (drawn as "no genre tag").
    assert snapshot.palette("genre").categories == ("rock", "classical", "pop")
    assert snapshot.palette("artist") is snapshot.palette("artist")  # made once per version


def test_colouring002_a_category_has_one_colour_in_both_panels(snapshot):
    left = colours_by_track(snapshot, LEFT, "artist")
    right = colours_by_track(snapshot, RIGHT, "artist")
    assert left == right
    assert left[0] == left[1] == {PALETTE[0]}  # both Alpha tracks
    assert left[2] == {PALETTE[1]} and left[7] == {PALETTE[2]}
    genre = colours_by_track(snapshot, LEFT, "genre")
    assert genre[5] == {UNKNOWN_COLOR} and genre[0] == genre[1] == {PALETTE[0]}


def test_colouring003_the_legend_lists_the_panels_categories_then_the_unknown(snapshot):
    points = visible_points(snapshot, Path("/nonexistent"), LEFT, ["Beta", "Gamma"], [], 1)
    _, entries = panels.point_colours(snapshot, points, "genre")
    # Gamma has no genre: its own entry; no "other", as every genre of the collection has a colour.
    assert entries == [("classical", PALETTE[1]), ("no genre tag", UNKNOWN_COLOR)]
    html = panels.legend_children(entries)
    assert [child.title for child in html] == ["classical", "no genre tag"]


def test_colouring004_strongest_auto_tag_is_the_segments_own_top_tag(snapshot):
    points = visible_points(snapshot, Path("/nonexistent"), LEFT, [], [], 1)
    marker, entries = panels.point_colours(snapshot, points, "autotag")
    codes = decoded(marker["color"])
    palette = snapshot.palette("autotag")
    first = [points.labels[i] for i in points.tags[:, 0]]
    for code, label in zip(codes, first, strict=True):
        expected = palette.categories.index(label) if label in palette.categories else None
        if expected is None:
            expected = palette.unknown_code if label == "" else palette.other_code
        assert code == expected
    allowed = (*palette.categories, OTHER, palette.unknown_name)
    assert entries and all(name in allowed for name, _ in entries)


def test_colouring005_position_runs_from_start_to_end_of_each_track(snapshot):
    points = visible_points(snapshot, Path("/nonexistent"), LEFT, [], [], 1)
    marker, entries = panels.point_colours(snapshot, points, "position")
    where = decoded(marker["color"]) / POSITION_STEPS
    assert entries == [] and marker["showscale"] and marker["colorbar"]["ticktext"] == ["start",
                                                                                      "end"]
    for track in np.unique(points.space.track[points.rows]):
        mine = where[points.space.track[points.rows] == track]
        if len(mine) == 1:  # Gamma's one segment: its middle, in a track one second longer
            assert mine[0] == pytest.approx((SEGMENT_SECONDS / 2) / (SEGMENT_SECONDS + 1),
                                            abs=0.5 / POSITION_STEPS)  # fmt: skip
            continue
        assert np.all(np.diff(mine) > 0) and 0 < mine[0] < 0.5 < mine[-1] <= 1


def test_colouring006_recolouring_patches_the_markers_only(snapshot, tmp_path):
    patches, legends = panels.colour_panels(snapshot, tmp_path, "artist", [LEFT, RIGHT], [], [], 1)
    for patch in patches:
        operations = patch.to_plotly_json()["operations"]
        assert [op["location"] for op in operations] == [["data", 0, "marker"]]
        assert "x" not in operations[0]["params"]["value"]
    assert [child.title for child in legends[0]] == ["Alpha", "Beta", "Delta", "Gamma"]
    # Back to grey: no legend.
    patches, legends = panels.colour_panels(snapshot, tmp_path, NONE, [LEFT], [], [], 1)
    assert patches[0].to_plotly_json()["operations"][0]["params"]["value"]["color"] == "#8a97a8"
    assert legends == [[]]


@pytest.mark.parametrize("genre, first", [("Ambient; Drone", "ambient"), ("", ""),
                                          ("Rock/Pop", "rock"), (" , Jazz", "jazz")])  # fmt: skip
def test_colouring007_the_first_genre_of_a_genre_field(genre, first):
    assert first_genre(genre) == first


def test_colouring008_no_artist_is_its_own_entry_and_other_only_the_categories_past_the_palette():
    # Fewer categories than colours: every named one has its colour, so no "other" at all.
    labels = np.array(["Alpha", "", "Beta", "Alpha", ""], dtype=object)
    palette = rank_categories(labels, "artist")
    assert palette.categories == ("Alpha", "Beta")
    codes = palette.codes(labels)
    assert codes.tolist() == [0, palette.unknown_code, 1, 0, palette.unknown_code]
    assert legend(palette, codes) == [("Alpha", PALETTE[0]), ("Beta", PALETTE[1]),
                                      ("no artist", UNKNOWN_COLOR)]  # fmt: skip
    # More categories than colours: "other" gathers those past the palette, and only those.
    names = [f"artist {i:02}" for i in range(len(PALETTE) + 2)]
    many = np.array([name for i, name in enumerate(names) for _ in range(20 - i)] + [""] * 3,
                    dtype=object)  # fmt: skip
    palette = rank_categories(many, "artist")
    codes = palette.codes(many)
    entries = legend(palette, codes)
    assert [name for name, _ in entries] == [*names[: len(PALETTE)], OTHER, "no artist"]
    past = np.isin(many, names[len(PALETTE) :])
    assert set(codes[past].tolist()) == {palette.other_code}
    assert set(codes[many == ""].tolist()) == {palette.unknown_code}
    # Each code has its colour on the stepped scale: other and unknown differ.
    scale = category_marker(palette, codes, lambda a: a)["colorscale"]
    assert scale[2 * palette.other_code][1] == OTHER_COLOR
    assert scale[2 * palette.unknown_code][1] == UNKNOWN_COLOR
    assert Palette("genre", ()).unknown_name == "no genre tag"
