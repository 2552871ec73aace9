"""The app's data layer: collection, segment ids, tags, filters, stored projections, options."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from explore_dash.config import AppConfig
from explore_dash.data.collection import Collection, Space
from explore_dash.data.filters import highlight_mask, reduction_mask, tracks_matching, visible_mask
from explore_dash.data.options import model_name, option_labels
from explore_dash.data.tables import TRACK_FIELDS, DataError
from explore_dash.data.tags import (
    all_tags,
    genre_tags,
    load_model_labels,
    segment_tag_indices,
    top_tags,
    track_tags,
)
from explore_dash.formatting import format_time
from explore_dash.maps.projections import STORED_PROJECTIONS, project_stored
from extraction.contract import (
    SEGMENT_ID_STRIDE,
    SEGMENT_SECONDS,
    segment_id,
    segment_ids,
    segment_index,
    segment_offset,
    segment_track,
)
from tests.support.fake_collection import (
    ALL_SPACES,
    DEFAULT_TRACKS,
    EMBEDDING_DIMS,
    FakeCollection,
    write_fake_collection,
    write_segment_table,
    write_tracks_table,
)
from tests.support.paths import REPO

OK_IDS = [0, 1, 2, 5, 7]


@pytest.fixture()
def fake(tmp_path: Path) -> FakeCollection:
    return write_fake_collection(tmp_path)


@pytest.fixture()
def collection(fake: FakeCollection) -> Collection:
    return Collection.load(fake.data_dir)


@pytest.fixture(scope="module")
def labels() -> dict[str, list[str]]:
    return load_model_labels(REPO / "extraction" / "models")


def _tags(collection: Collection, labels: dict[str, list[str]]) -> dict[int, set[str]]:
    return track_tags(collection, labels)


# -- segment ids ----------------------------------------------------------------------------------


def test_data001_segment_id_scalar_vector_and_inverse_agree():
    tracks = np.array([0, 0, 7, 123456, 2**31 - 1], np.int32)
    indices = np.array([0, 3, 1, 1200, 65535])
    offsets = (indices * SEGMENT_SECONDS).astype(np.float32)
    ids = segment_ids(tracks, offsets)
    assert ids.dtype == np.int64
    assert ids.tolist() == [segment_id(t, o) for t, o in zip(tracks, offsets, strict=True)]
    np.testing.assert_array_equal(segment_track(ids), tracks)
    np.testing.assert_array_equal(segment_index(ids), indices)
    np.testing.assert_allclose(segment_offset(ids), offsets, atol=1e-3)
    assert segment_id(7, 2.992) == 7 * SEGMENT_ID_STRIDE + 1
    assert segment_track(7 * SEGMENT_ID_STRIDE + 1) == 7
    assert segment_index(7 * SEGMENT_ID_STRIDE + 1) == 1
    assert segment_offset(7 * SEGMENT_ID_STRIDE + 2) == pytest.approx(2 * SEGMENT_SECONDS)
    # Ids stay exact as JavaScript numbers (customdata goes through JSON).
    assert ids.max() < 2**53


def test_data002_segment_ids_are_equal_in_every_space(collection: Collection):
    reference = collection.space("musicnn-msd", "taggram").segment_ids
    assert len(reference) == sum(t.n_segments for t in DEFAULT_TRACKS if t.status == "ok")
    for model, layer in ALL_SPACES:
        space = collection.space(model, layer)
        np.testing.assert_array_equal(space.segment_ids, reference)
        np.testing.assert_array_equal(space.segment_ids, segment_ids(space.track, space.offset))


def test_data003_segment_ids_survive_a_reload(fake: FakeCollection):
    first = Collection.load(fake.data_dir).space("vgg-mtt", "embedding").segment_ids
    second = Collection.load(fake.data_dir).space("vgg-mtt", "embedding").segment_ids
    np.testing.assert_array_equal(first, second)


# -- loading --------------------------------------------------------------------------------------


def test_data004_collection_loads_ok_tracks_indexed_by_id(collection: Collection):
    tracks = collection.tracks
    assert tracks.index.tolist() == OK_IDS
    assert tracks.index.name == "track"
    assert list(tracks.columns) == ["artist", "album", "title", "genre", "duration", "path"]
    assert tracks.at[2, "title"] == "Étude"
    assert tracks.at[0, "path"] == "Alpha/First Album/01 Song A.wav"
    assert tracks.at[5, "genre"] == ""
    assert tracks.at[1, "duration"] == pytest.approx(3 * SEGMENT_SECONDS + 1)
    assert collection.version == 3


def test_data005_missing_tags_read_as_empty_strings(tmp_path: Path):
    write_tracks_table(tmp_path, [{"track": 4, "path": "x.wav", "artist": None, "genre": None}])
    tracks = Collection.load(tmp_path).tracks
    assert tracks.loc[4, ["artist", "album", "title", "genre"]].tolist() == ["", "", "", ""]
    assert np.isnan(tracks.at[4, "duration"])


def test_data006_space_arrays_match_the_table(fake: FakeCollection, collection: Collection):
    space = collection.space("musicnn-mtt", "embedding")
    n = len(space)
    assert (space.model, space.layer) == ("musicnn-mtt", "embedding")
    assert space.segment_ids.dtype == np.int64 and space.segment_ids.shape == (n,)
    assert space.track.dtype == np.int32 and space.offset.dtype == np.float32
    assert space.pca.shape == space.std_pca.shape == (n, 32)
    assert space.pca.dtype == space.std_pca.dtype == np.float32
    table = pq.read_table(collection.space_path("musicnn-mtt", "embedding"))
    np.testing.assert_array_equal(space.pca, np.array(table["pca"].to_pylist(), np.float32))
    np.testing.assert_array_equal(space.std_pca, np.array(table["std_pca"].to_pylist(), np.float32))
    assert space._vector is None  # not read until asked for
    np.testing.assert_array_equal(space.vector, np.array(table["vector"].to_pylist(), np.float32))
    assert space.vector.shape == (n, 200)


@pytest.mark.parametrize(("model", "layer"), ALL_SPACES)
def test_data007_vector_widths(collection: Collection, model: str, layer: str):
    width = 50 if layer == "taggram" else EMBEDDING_DIMS[model]
    assert collection.space(model, layer).vector.shape[1] == width


def test_data008_spaces_are_cached(collection: Collection):
    assert collection.space("vgg-msd", "taggram") is collection.space("vgg-msd", "taggram")


def test_data009_space_keeps_only_playable_tracks_sorted_by_id(tmp_path: Path):
    fake = write_fake_collection(tmp_path, spaces=())
    # A table that still holds the error track (e.g. mid-merge) and is not sorted.
    with_error = tuple(dataclasses.replace(t, status="ok", n_segments=t.n_segments or 2)
                       for t in fake.tracks)  # fmt: skip
    path = write_segment_table(fake.data_dir, "musicnn-msd", "taggram", with_error)
    table = pq.read_table(path)
    shuffled = table.take(np.random.default_rng(0).permutation(table.num_rows))
    pq.write_table(shuffled, path)
    space = Collection.load(fake.data_dir).space("musicnn-msd", "taggram")
    assert 3 not in space.track
    assert np.all(np.diff(space.segment_ids) > 0)
    # Vectors follow their rows through the sort.
    by_id = dict(zip(segment_ids(shuffled["track"].to_numpy(), shuffled["offset"].to_numpy()),
                     shuffled["vector"].to_pylist(), strict=True))  # fmt: skip
    for segment, vector in zip(space.segment_ids, space.vector, strict=True):
        np.testing.assert_array_equal(vector, np.array(by_id[segment], np.float32))


def test_data010_vector_of_a_table_rewritten_since_loading_is_an_error(tmp_path: Path):
    fake = write_fake_collection(tmp_path, spaces=(("musicnn-msd", "taggram"),))
    space = Collection.load(fake.data_dir).space("musicnn-msd", "taggram")
    write_segment_table(fake.data_dir, "musicnn-msd", "taggram", fake.tracks[:2])
    with pytest.raises(DataError, match="reload"):
        _ = space.vector


@pytest.mark.parametrize("create", [False, True])
def test_data011_empty_data_dir_is_an_empty_collection(tmp_path: Path, labels, create: bool):
    data_dir = tmp_path / "data"
    if create:
        data_dir.mkdir()
    collection = Collection.load(data_dir)
    assert collection.tracks.empty
    assert list(collection.tracks.columns) == list(TRACK_FIELDS)
    assert collection.version == 0
    assert collection.available_spaces() == []
    space = collection.space("musicnn-msd", "taggram")
    assert len(space) == 0 and space.pca.shape == (0, 32)
    assert space.vector.shape[0] == 0
    tags = track_tags(collection, labels)
    assert tags == {}
    assert tracks_matching(collection.tracks, tags, [], []).size == 0
    assert visible_mask(space, [], 1).shape == (0,)
    assert project_stored(space, "pca").shape == (0, 2)
    assert collection.changed_on_disk() is False


def test_data012_missing_spaces_are_empty(tmp_path: Path):
    written = (("musicnn-msd", "taggram"), ("vgg-mtt", "embedding"))
    fake = write_fake_collection(tmp_path, spaces=written)
    collection = Collection.load(fake.data_dir)
    assert collection.available_spaces() == sorted(written)
    assert len(collection.space("musicnn-msd", "embedding")) == 0
    assert len(collection.space("vgg-mtt", "embedding")) == 20


def test_data013_unreadable_tracks_table_is_a_data_error(tmp_path: Path):
    (tmp_path / "tracks.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read"):
        Collection.load(tmp_path)


def test_data014_version_without_state_file_is_zero(tmp_path: Path):
    fake = write_fake_collection(tmp_path, version=None)
    assert Collection.load(fake.data_dir).version == 0
    (fake.data_dir / "state.json").write_text("{broken", encoding="utf-8")
    assert Collection.load(fake.data_dir).version == 0


# -- tags -----------------------------------------------------------------------------------------


def test_data015_top_tags_by_mean_activation():
    labels = ["a", "b", "c", "d"]
    track = np.array([4, 4, 9, 4])
    taggram = np.array(
        [
            [0.9, 0.0, 0.5, 0.1],
            [0.0, 0.1, 0.5, 0.1],  # mean over track 4: a .3, b .33, c .4, d .1
            [0.1, 0.2, 0.3, 0.4],
            [0.0, 0.9, 0.2, 0.1],
        ]
    )
    assert top_tags(track, taggram, labels, k=2) == {4: ["c", "b"], 9: ["d", "c"]}
    assert top_tags(track, taggram, labels, k=10)[9] == ["d", "c", "b", "a"]
    # Ties break by label order.
    assert top_tags(np.array([1]), np.zeros((1, 4)), labels, k=2) == {1: ["a", "b"]}
    assert top_tags(np.zeros(0, int), np.zeros((0, 4)), labels) == {}
    with pytest.raises(ValueError, match="labels"):
        top_tags(track, taggram, labels[:3])


def test_data016_shipped_model_labels(labels: dict[str, list[str]]):
    assert set(labels) >= {"musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt"}
    assert all(len(labels[m]) == 50 for m in ("musicnn-msd", "musicnn-mtt"))
    assert labels["musicnn-msd"][0] == "rock"
    assert load_model_labels() == labels  # the default folder is the shipped one


def test_data017_model_labels_skip_files_without_labels(tmp_path: Path):
    (tmp_path / "mine.json").write_text(json.dumps({"name": "mine", "labels": ["x", "y"]}))
    (tmp_path / "other.json").write_text(json.dumps({"name": "other"}))
    (tmp_path / "broken.json").write_text("{")
    assert load_model_labels(tmp_path) == {"mine": ["x", "y"]}


@pytest.mark.parametrize(
    ("genre", "tags"),
    [
        ("Rock; Indie", {"rock", "indie"}),
        ("Classical/Piano", {"classical", "piano"}),
        ("Pop, Dance ,  ", {"pop", "dance"}),
        ("", set()),
        ("Hip-Hop", {"hip-hop"}),
    ],
)
def test_data018_genre_tags(genre: str, tags: set[str]):
    assert genre_tags(genre) == tags


def test_data019_track_tags_are_genres_and_auto_tags(collection: Collection, labels):
    tags = track_tags(collection, labels)
    assert set(tags) == set(OK_IDS)
    msd, mtt = labels["musicnn-msd"], labels["musicnn-mtt"]
    for t in DEFAULT_TRACKS:
        if t.status != "ok":
            continue
        expected = genre_tags(t.genre or "")
        expected |= {msd[i].lower() for i in t.boost} | {mtt[i].lower() for i in t.boost}
        assert tags[t.track] == expected
    assert "rock" in tags[0] and "indie" in tags[0]
    assert all(tag == tag.lower() for own in tags.values() for tag in own)
    assert all_tags(tags) == sorted(set().union(*tags.values()))


def test_data020_track_tags_without_taggrams_are_genres(tmp_path: Path, labels):
    fake = write_fake_collection(tmp_path, spaces=(("vgg-msd", "embedding"),))
    tags = track_tags(Collection.load(fake.data_dir), labels)
    assert tags[0] == {"rock", "indie"} and tags[5] == set()


# -- filters and highlights -----------------------------------------------------------------------


def test_data021_tracks_matching_is_a_union(collection: Collection, labels):
    tracks, tags = collection.tracks, _tags(collection, labels)
    assert tracks_matching(tracks, tags, [], []).tolist() == OK_IDS
    assert tracks_matching(tracks, tags, ["Alpha"], []).tolist() == [0, 1]
    assert tracks_matching(tracks, tags, [], ["Piano"]).tolist() == [2]
    assert tracks_matching(tracks, tags, ["Gamma"], ["piano", "dance"]).tolist() == [2, 5, 7]
    assert tracks_matching(tracks, tags, ["Alpha", "Beta"], ["rock"]).tolist() == [0, 1, 2]
    assert tracks_matching(tracks, tags, ["Nobody"], []).size == 0
    assert tracks_matching(tracks, tags, [], ["no such tag"]).size == 0


def test_data022_reduction_keeps_every_nth_segment_of_each_track(collection: Collection):
    space = collection.space("musicnn-msd", "taggram")
    mask = reduction_mask(space.segment_index, 2)
    for track in OK_IDS:
        kept = space.segment_index[(space.track == track) & mask]
        assert kept.tolist() == list(range(0, int((space.track == track).sum()), 2))
    # Not a global thinning: the first segment of every track stays.
    assert not np.array_equal(mask, np.arange(len(space)) % 2 == 0)
    assert all(mask[space.segment_index == 0])
    assert reduction_mask(space.segment_index, 1).all()
    np.testing.assert_array_equal(reduction_mask(space.offset, 3),
                                  reduction_mask(space.segment_index, 3))  # fmt: skip
    with pytest.raises(ValueError):
        reduction_mask(space.segment_index, 0)


def test_data023_visible_mask(collection: Collection):
    space = collection.space("vgg-msd", "embedding")
    mask = visible_mask(space, np.array([1, 2]), 3)
    assert set(space.track[mask].tolist()) == {1, 2}
    assert space.segment_index[mask].tolist() == [0, 0, 3, 6]
    assert visible_mask(space, OK_IDS, 1).all()
    assert not visible_mask(space, [], 1).any()


def test_data024_highlight_mask_is_a_union(collection: Collection, labels):
    space, tracks = collection.space("vgg-mtt", "taggram"), collection.tracks
    tags = _tags(collection, labels)

    def highlighted(**criteria) -> set[int]:
        return set(space.track[highlight_mask(space, tracks, tags, **criteria)].tolist())

    assert highlighted() == set()
    assert highlighted(artists=["Alpha"]) == {0, 1}
    assert highlighted(albums=["Greatest Hits"]) == {7}
    assert highlighted(track_ids=[5]) == {5}
    assert highlighted(tags=["PIANO"]) == {2}
    assert highlighted(artists=["Gamma"], albums=["Second"], track_ids=[7], tags=["indie"]) == {
        0, 2, 5, 7,
    }  # fmt: skip
    mask = highlight_mask(space, tracks, tags, track_ids=[1])
    assert mask.dtype == bool and mask.shape == (len(space),) and mask.sum() == 3


# -- projections and labels -----------------------------------------------------------------------


def test_data025_projections_use_the_stored_columns(collection: Collection):
    space = collection.space("musicnn-msd", "embedding")
    assert set(STORED_PROJECTIONS) == {"pca", "std_pca"}
    xy = project_stored(space, "pca")
    assert xy.shape == (len(space), 2) and xy.dtype == np.float32
    np.testing.assert_array_equal(xy, space.pca[:, :2])
    np.testing.assert_array_equal(project_stored(space, "std_pca"), space.std_pca[:, :2])
    rows = np.array([3, 0])
    np.testing.assert_array_equal(project_stored(space, "pca", rows), space.pca[rows, :2])
    mask = space.track == 2
    np.testing.assert_array_equal(project_stored(space, "std_pca", mask), space.std_pca[mask, :2])


def test_data026_unknown_projection_is_a_clear_error(collection: Collection):
    with pytest.raises(ValueError, match=r"unknown projection 'tsne'.*pca, std_pca"):
        project_stored(collection.space("musicnn-msd", "embedding"), "tsne")


def test_data027_option_labels():
    options = option_labels()
    assert options["architecture"] == [
        {"label": "MusiCNN", "value": "musicnn"},
        {"label": "VGG", "value": "vgg"},
    ]
    assert [o["label"] for o in options["dataset"]] == ["MSD", "MTT"]
    assert [o["value"] for o in options["layer"]] == ["taggram", "embedding"]
    assert [o["label"] for o in options["projection"]] == ["PCA", "STD-PCA", "t-SNE", "UMAP"]
    hidden = option_labels(anonymize=True)
    assert [o["label"] for o in hidden["architecture"]] == ["A1", "A2"]
    assert [o["label"] for o in hidden["dataset"]] == ["D1", "D2"]
    assert [o["label"] for o in hidden["layer"]] == ["L1", "L2"]
    assert [o["label"] for o in hidden["projection"]] == ["P1", "P2", "P3", "P4"]
    for group in options:
        assert [o["value"] for o in options[group]] == [o["value"] for o in hidden[group]]
    assert {model_name(a["value"], d["value"]) for a in options["architecture"]
            for d in options["dataset"]} == set(EMBEDDING_DIMS)  # fmt: skip


# -- hover text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (2.992, "0:03"), (59.99, "1:00"), (65, "1:05"), (3725, "1:02:05"),
     (0.5, "0:01"), (0.49, "0:00"), (74.5, "1:15"), (-1, "0:00"), (float("nan"), "0:00")],
)  # fmt: skip
def test_data028_format_time(seconds: float, text: str):
    assert format_time(seconds) == text


def test_data029_rows_of(collection: Collection):
    space = collection.space("musicnn-msd", "taggram")
    wanted = [space.segment_ids[4], 999 * SEGMENT_ID_STRIDE, space.segment_ids[0], -5]
    assert space.rows_of(wanted).tolist() == [4, -1, 0, -1]
    assert space.rows_of(np.array([], np.int64)).tolist() == []
    assert Space.empty("m", "l").rows_of([1, 2]).tolist() == [-1, -1]


# -- config and layering --------------------------------------------------------------------------


def test_data030_app_config():
    config = AppConfig(library="/music", data_dir="/data")  # type: ignore[arg-type]
    assert config.library == Path("/music") and config.data_dir == Path("/data")
    assert (config.host, config.port, config.anonymize, config.extract) == (
        "127.0.0.1", 8050, False, True,
    )  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="port"):
        AppConfig(Path("/m"), Path("/d"), port=70000)


def test_data031_importing_the_app_loads_only_the_contract_of_extraction():
    code = (
        "import sys, explore_dash.server.app, explore_dash.cli, explore_dash.listening.playlist\n"
        "from explore_dash import callbacks, layouts\n"
        # The halves meet in the data folder: its contract (and the CLI's stop handling) is
        # all of extraction the web process loads; no pipeline, no decoding, no networks.
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'extraction')\n"
        "assert set(loaded) <= {'extraction', 'extraction.contract', 'extraction.errors',"
        " 'extraction.signals'}, loaded\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('essentia', 'tensorflow', 'av')]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_data032_tables_written_by_the_fake_follow_the_contract(fake: FakeCollection):
    schema = pq.read_schema(fake.data_dir / "segments/model=vgg-msd/layer=embedding/part-0.parquet")
    assert schema.field("track").type == pa.int32()
    assert schema.field("offset").type == pa.float32()
    assert schema.field("vector").type == pa.list_(pa.float32(), 256)
    assert schema.field("pca").type == pa.list_(pa.float32(), 32)


def test_data033_segment_tag_indices_follow_the_taggram(
    collection: Collection, fake: FakeCollection
):
    space = collection.space("vgg-msd", "embedding")
    taggram = collection.space("vgg-msd", "taggram")
    indices = segment_tag_indices(space, taggram)
    assert indices.shape == (len(space), 3) and indices.dtype == np.uint8
    for track in fake.ok_tracks():
        rows = space.track == track.track
        assert (indices[rows] == np.array(track.boost, np.uint8)).all()
    missing = segment_tag_indices(space, Space.empty("vgg-msd", "taggram"))
    assert (missing == 255).all()
