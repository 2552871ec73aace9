"""A space's arrays kept in memory-mapped files: read from the tables once, right after a merge."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from explore_dash.data.collection import Collection
from explore_dash.data.space_files import SPACES_DIR
from tests.support.fake_collection import (
    DEFAULT_TRACKS,
    write_fake_collection,
    write_segment_table,
    write_state,
)

SPACE = ("musicnn-msd", "embedding")


def no_table_reads(monkeypatch) -> None:
    """Any read of a segment table fails (the tracks table may still be read)."""
    read_table = pq.read_table

    def refuse(source, *args, **kwargs):
        if "segments" in str(getattr(source, "name", source)):
            raise AssertionError("read the table again")
        return read_table(source, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", refuse)


def test_files001_the_second_read_maps_the_files(tmp_path, monkeypatch):
    fake = write_fake_collection(tmp_path)
    first = Collection.load(fake.data_dir).space(*SPACE)
    first_vector = np.array(first.vector)
    no_table_reads(monkeypatch)
    again = Collection.load(fake.data_dir).space(*SPACE)  # a new start of the app
    for name in ("segment_ids", "track", "offset", "pca", "std_pca"):
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))
        assert isinstance(getattr(again, name), np.memmap)
    np.testing.assert_array_equal(again.vector, first_vector)
    assert isinstance(again.vector, np.memmap)
    # Column by column: a 2-D map's two columns are two runs of the file, not every row's page.
    assert again.pca.flags.f_contiguous and again.pca[:, :2].flags.f_contiguous


def test_files002_a_merge_is_read_from_the_new_table_and_the_old_files_go(tmp_path):
    fake = write_fake_collection(tmp_path)
    before = Collection.load(fake.data_dir).space(*SPACE)
    folder = fake.data_dir / "cache" / SPACES_DIR / "-".join(SPACE)
    old_files = set(folder.glob("*.npy"))
    assert old_files
    fewer = tuple(t for t in DEFAULT_TRACKS if t.track != 0)
    write_segment_table(fake.data_dir, *SPACE, fewer, seed=5)
    write_state(fake.data_dir, 4, 8)
    after = Collection.load(fake.data_dir).space(*SPACE)
    assert 0 not in set(after.track) and 0 in set(before.track)
    assert len(after) == len(before) - 5  # track 0 had 5 segments
    assert not old_files & set(folder.glob("*.npy"))
    np.testing.assert_array_equal(before.track[:3], [0, 0, 0])  # still mapped, still valid


def test_files003_a_damaged_file_is_read_again_from_the_table(tmp_path):
    fake = write_fake_collection(tmp_path)
    expected = np.array(Collection.load(fake.data_dir).space(*SPACE).pca)
    folder = fake.data_dir / "cache" / SPACES_DIR / "-".join(SPACE)
    next(folder.glob("*-pca.npy")).write_bytes(b"not an array")
    again = Collection.load(fake.data_dir).space(*SPACE)
    np.testing.assert_array_equal(again.pca, expected)


def test_files004_a_read_only_cache_still_serves_from_the_tables(tmp_path):
    fake = write_fake_collection(tmp_path)
    cache = fake.data_dir / "cache"
    cache.mkdir(exist_ok=True)
    (cache / SPACES_DIR).write_text("a file where the folder would go")
    space = Collection.load(fake.data_dir).space(*SPACE)
    assert len(space) == 20 and space.vector.shape == (20, 200)
    assert not isinstance(space.pca, np.memmap)


@pytest.mark.parametrize("layer", ["taggram", "embedding"])
def test_files005_the_files_are_the_tables_rows(tmp_path, layer):
    fake = write_fake_collection(tmp_path)
    space = Collection.load(fake.data_dir).space("vgg-mtt", layer)
    table = pq.read_table(fake.data_dir / "segments" / "model=vgg-mtt" / f"layer={layer}"
                          / "part-0.parquet")  # fmt: skip
    vectors = np.stack(table.column("vector").to_numpy(zero_copy_only=False))
    tracks = table.column("track").to_numpy()
    np.testing.assert_allclose(space.vector, vectors[np.isin(tracks, space.track)], rtol=0)
