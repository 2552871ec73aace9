"""Reading the data folder's tables (data/tables.py) and opening one version of them
(data/table_files.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from explore_dash.data.table_files import (
    TableFile,
    close_all,
    file_stamp,
    open_version,
    opened_version,
)
from explore_dash.data.tables import DataError, read_space_columns, read_vector_rows
from extraction.contract import segment_ids, segment_path, with_version
from tests.support.fake_collection import ALL_SPACES, FakeCollection, write_fake_collection


@pytest.fixture()
def fake(tmp_path: Path) -> FakeCollection:
    return write_fake_collection(tmp_path)


def test_tables001_one_version_opens_every_table_and_sees_a_merge_halfway(fake: FakeCollection):
    opened = open_version(fake.data_dir, 0)
    assert opened.settled and opened.version == 3
    assert sorted(opened.spaces) == sorted(ALL_SPACES) and opened.tracks is not None
    assert opened.state_stamp == file_stamp(fake.data_dir / "state.json")
    close_all([*opened.spaces.values(), opened.tracks])
    # A merge to version 4 wrote one table, not state.json yet.
    path = segment_path(fake.data_dir, *ALL_SPACES[0])
    pq.write_table(with_version(pq.read_table(path), 4), path)
    started = time.monotonic()
    halfway = open_version(fake.data_dir, 0.3)
    assert time.monotonic() - started >= 0.3  # it waited for state.json, then gave what is there
    assert not halfway.settled and halfway.version == 3
    assert opened_version(halfway.spaces[ALL_SPACES[0]]) == 4
    close_all([*halfway.spaces.values(), halfway.tracks])


def test_tables002_a_table_file_reads_from_a_position_of_its_own(fake: FakeCollection):
    path = fake.data_dir / "tracks.parquet"
    with TableFile(path) as table:
        first = table.read(4)
        # A forked job shares the descriptor's offset: moving it must not move this reader.
        os.lseek(table.fileno(), 0, os.SEEK_END)
        assert first + table.read(4) == path.read_bytes()[:8]
        assert table.seek(-2, os.SEEK_END) == path.stat().st_size - 2


def test_tables003_a_file_stamp_changes_with_the_file(tmp_path: Path):
    path = tmp_path / "state.json"
    assert file_stamp(path) is None
    path.write_text("{}")
    before = file_stamp(path)
    path.with_suffix(".tmp").write_text('{"version": 1}')
    path.with_suffix(".tmp").replace(path)  # as a merge writes it
    assert file_stamp(path) not in (None, before)


def test_tables004_rows_come_in_the_order_asked_by_segment_id(fake: FakeCollection):
    path = segment_path(fake.data_dir, "vgg-mtt", "embedding")
    table = pq.read_table(path)
    ids = segment_ids(table["track"].to_numpy(), table["offset"].to_numpy())
    vectors = np.array(table["vector"].to_pylist(), np.float32)
    wanted = ids[::-3]
    rows = [int(np.flatnonzero(ids == segment)[0]) for segment in wanted]
    np.testing.assert_array_equal(read_vector_rows(path, wanted), vectors[rows])
    with pytest.raises(DataError, match="reload"):
        read_vector_rows(path, np.array([ids.max() + 1]))


def test_tables005_space_columns_keep_the_tracks_asked_sorted_by_id(fake: FakeCollection):
    path = segment_path(fake.data_dir, "vgg-mtt", "taggram")
    columns = read_space_columns(pq.ParquetFile(path), np.array([5, 0]))
    assert set(columns["track"].tolist()) == {0, 5}
    assert np.all(np.diff(columns["segment_ids"]) > 0)
    assert columns["pca"].flags.f_contiguous and columns["pca"].shape[1] == 32
    assert len(columns["offset"]) == len(columns["std_pca"]) == len(columns["segment_ids"])
