"""Reading the data folder's tables with pyarrow: the playable tracks, and a segment table's rows.

Through the data folder's contract (:mod:`extraction.contract`) only, never through the
extraction's pipeline, which may pull in Essentia. What is read here becomes a
:class:`~explore_dash.data.collection.Space` or a collection's tracks there.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from extraction.contract import (
    STATUS_OK,
    ContractError,
    list_column_to_matrix,
    segment_ids,
)


class DataError(Exception):
    """The data folder exists but cannot be read (a damaged or foreign table)."""


TRACK_FIELDS = ("artist", "album", "title", "genre", "duration", "path")
_TEXT_FIELDS = ("artist", "album", "title", "genre", "path")
#: Matrices stored column by column: a 2-D map reads two of their 32 columns.
BY_COLUMN = ("pca", "std_pca")


def _empty_tracks() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series([], dtype=str) for name in _TEXT_FIELDS})
    frame["duration"] = pd.Series([], dtype=np.float64)
    frame.index = pd.Index([], dtype=np.int64, name="track")
    return frame[list(TRACK_FIELDS)]


def read_tracks(path: Path, opened: BinaryIO | None = None) -> pd.DataFrame:
    """The playable tracks of a ``tracks.parquet``: status ``ok`` and not missing from the
    library (``missing_since`` null), indexed by track id.

    ``opened``: the file, already open (the version :meth:`Collection.load` checked).

    Returns
    -------
    pd.DataFrame
        Index ``track`` (int64); columns artist, album, title, genre, path (str, missing tags
        as ``""``) and duration (float64 seconds, NaN when unknown). Empty when the file is absent.
    """
    if opened is None and not path.exists():
        return _empty_tracks()
    try:
        table = pq.read_table(opened if opened is not None else path)
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"cannot read {path}: {error}; delete the data folder to start over"
        ) from error
    names = set(table.column_names)
    if not {"track", "path"} <= names:
        raise DataError(f"{path} has no track/path columns: not an explore-dash tracks table")
    frame = table.to_pandas()
    if "status" in names:
        frame = frame[frame["status"] == STATUS_OK]
    if "missing_since" in names:  # kept for when the file returns; nothing to play or map now
        frame = frame[frame["missing_since"].isna()]
    result = pd.DataFrame(index=pd.Index(frame["track"].to_numpy(np.int64), name="track"))
    for name in _TEXT_FIELDS:
        column = frame[name] if name in names else pd.Series([""] * len(frame))
        result[name] = column.fillna("").astype(str).to_numpy(dtype=object)
    duration = frame["duration"] if "duration" in names else pd.Series([np.nan] * len(frame))
    result["duration"] = pd.to_numeric(duration, errors="coerce").to_numpy(np.float64)
    result = result[~result.index.duplicated(keep="last")].sort_index()
    return result[list(TRACK_FIELDS)]


def _matrix(column: pa.ChunkedArray) -> np.ndarray:
    """A list column as a float32 matrix; a malformed one is a :class:`DataError`."""
    try:
        return list_column_to_matrix(column)
    except ContractError as error:
        raise DataError(str(error)) from error


def read_space_columns(
    parquet: pq.ParquetFile, track_ids: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """A segment table's columns but its ``vector``, one row per segment, sorted by segment id.

    Parameters
    ----------
    parquet : pq.ParquetFile
        The table, open (one open file is one version, whatever replaces the name meanwhile).
    track_ids : np.ndarray, shape (k,), optional
        Keep only the segments of these tracks (the collection's playable tracks).

    Returns
    -------
    dict
        ``segment_ids`` (n,) int64, ``track`` (n,) int32, ``offset`` (n,) float32 seconds, and
        each of :data:`BY_COLUMN`, shape (n, 32) float32, Fortran-ordered.
    """
    table = parquet.read(columns=["track", "offset"])
    track = table.column("track").to_numpy().astype(np.int32)
    offset = table.column("offset").to_numpy().astype(np.float32)
    ids = segment_ids(track, offset)
    keep = np.ones(len(ids), bool) if track_ids is None else np.isin(track, track_ids)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(ids[rows], kind="stable")]
    # Duplicate ids would make selection ambiguous; the contract has none, keep the first.
    _, first = np.unique(ids[rows], return_index=True)
    rows = rows[first]
    columns = {"segment_ids": ids[rows], "track": track[rows], "offset": offset[rows]}
    for name in BY_COLUMN:
        columns[name] = read_rows(parquet, name, rows, by_column=True)
    return columns


def read_vector_rows(source: Path, wanted_ids: np.ndarray) -> np.ndarray:
    """The ``vector`` column of a segment table at the segments ``wanted_ids``, in that order.

    Raises
    ------
    DataError
        When the table cannot be read, or no longer holds every one of ``wanted_ids`` (it
        changed on disk since they were read: reload the collection).

    Returns
    -------
    np.ndarray, shape (len(wanted_ids), n_dims), float32
    """
    try:
        with open(source, "rb") as handle:  # one open file: one version of the table
            parquet = pq.ParquetFile(handle)
            table = parquet.read(columns=["track", "offset"])
            # Align by id rather than trusting row order: the file may have been rewritten.
            ids = segment_ids(table.column("track").to_numpy(),
                              table.column("offset").to_numpy())  # fmt: skip
            order = np.argsort(ids, kind="stable")
            positions = np.searchsorted(ids[order], wanted_ids)
            top = max(len(ids) - 1, 0)
            rows = order[np.minimum(positions, top)] if len(ids) else positions
            if len(wanted_ids) and (len(ids) == 0 or np.any(ids[rows] != wanted_ids)):
                raise DataError(f"{source} changed since it was loaded; reload the collection")
            return read_rows(parquet, "vector", rows)
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"cannot read {source}: {error}") from error


def read_rows(
    parquet: pq.ParquetFile, name: str, rows: np.ndarray, by_column: bool = False
) -> np.ndarray:
    """Rows ``rows`` (in that order) of the list column ``name``, as a float32 matrix.

    Read one row group at a time: a million rows' principal components or network outputs are
    decoded a group at a time, never whole beside their copy.

    Returns
    -------
    np.ndarray, shape (len(rows), n_dims), float32
        Fortran-ordered with ``by_column``, else C-ordered.
    """
    out = None
    start = 0
    order = np.argsort(rows, kind="stable")  # the output rows in table order
    in_table_order = rows[order]
    for group in range(parquet.num_row_groups):
        end = start + parquet.metadata.row_group(group).num_rows
        first, last = np.searchsorted(in_table_order, [start, end])
        wanted = order[first:last]
        if len(wanted):
            matrix = _matrix(parquet.read_row_group(group, columns=[name]).column(name))
            if out is None:
                out = np.empty((len(rows), matrix.shape[1]), np.float32,
                               order="F" if by_column else "C")  # fmt: skip
            out[wanted] = matrix[rows[wanted] - start]
        start = end
    if out is None:  # no rows wanted: the width from the schema
        width = parquet.schema_arrow.field(name).type
        dims = width.list_size if pa.types.is_fixed_size_list(width) else 0
        out = np.zeros((0, dims), np.float32, order="F" if by_column else "C")
    return out


def release_decoded() -> None:
    """Give the memory of decoded tables back to the system.

    Arrow's allocator keeps freed memory for reuse: after one million-row space was read, about
    630 MB stayed resident though nothing used it (benchmarks/million.py).
    """
    pa.default_memory_pool().release_unused()
