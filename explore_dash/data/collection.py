"""The loaded data folder: playable tracks, and segment spaces read on first use.

Reads the tables with pyarrow through the data folder's contract (:mod:`extraction.contract`),
never through the extraction's pipeline, which may pull in Essentia.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from explore_dash.data.space_files import SpaceFiles, space_key
from extraction.contract import (
    CACHE_DIR,
    PCA_COMPONENTS,
    SEGMENT_ID_STRIDE,
    STATE_FILE,
    STATUS_OK,
    TRACKS_FILE,
    ContractError,
    list_column_to_matrix,
    read_version,
    segment_ids,
    segment_path,
    segment_spaces,
    table_version,
)

log = logging.getLogger(__name__)


class DataError(Exception):
    """The data folder exists but cannot be read (a damaged or foreign table)."""


TRACK_FIELDS = ("artist", "album", "title", "genre", "duration", "path")
#: How long a load waits for a merge it came upon halfway to finish (see Collection.load).
SETTLE_SECONDS = 10.0
_TEXT_FIELDS = ("artist", "album", "title", "genre", "path")


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


@dataclass(eq=False)
class Space:
    """The segments of one (model, layer) table, as arrays aligned row by row.

    Rows are sorted by segment id (so by track, then time) and restricted to the collection's
    playable tracks.

    Attributes
    ----------
    model, layer : str
    segment_ids : np.ndarray, shape (n,), int64
    track : np.ndarray, shape (n,), int32
    offset : np.ndarray, shape (n,), float32
        Segment start in seconds.
    pca, std_pca : np.ndarray, shape (n, 32), float32
    """

    model: str
    layer: str
    segment_ids: np.ndarray
    track: np.ndarray
    offset: np.ndarray
    pca: np.ndarray
    std_pca: np.ndarray
    source: Path | None = None
    files: SpaceFiles | None = field(default=None, repr=False)
    _vector: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, model: str, layer: str) -> Space:
        return cls(
            model,
            layer,
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.float32),
            np.zeros((0, PCA_COMPONENTS), np.float32),
            np.zeros((0, PCA_COMPONENTS), np.float32),
            _vector=np.zeros((0, 0), np.float32),
        )

    def __len__(self) -> int:
        return len(self.segment_ids)

    @property
    def segment_index(self) -> np.ndarray:
        """Position of each segment in its track, shape (n,), int64."""
        return self.segment_ids % SEGMENT_ID_STRIDE

    @property
    def vector(self) -> np.ndarray:
        """The network output, shape (n, n_dims), float32; read from disk on first use.

        Raises
        ------
        DataError
            When the table changed on disk since the space was loaded (reload the collection).
        """
        if self._vector is None:
            self._vector = self._read_vector()
        return self._vector

    def _read_vector(self) -> np.ndarray:
        if self.source is None:
            return np.zeros((len(self), 0), np.float32)
        kept = self.files.load("vector", len(self)) if self.files is not None else None
        if kept is not None:
            return kept
        vectors = self._read_vector_from_table()
        if self.files is None:
            return vectors
        mapped = self.files.save("vector", vectors)
        del vectors  # mapped now (or, if it could not be kept, still referenced by ``mapped``)
        release_decoded()
        return mapped

    def _read_vector_from_table(self) -> np.ndarray:
        try:
            with open(self.source, "rb") as handle:  # one open file: one version of the table
                parquet = pq.ParquetFile(handle)
                table = parquet.read(columns=["track", "offset"])
                # Align by id rather than trusting row order: the file may have been rewritten.
                ids = segment_ids(table.column("track").to_numpy(),
                                  table.column("offset").to_numpy())  # fmt: skip
                order = np.argsort(ids, kind="stable")
                positions = np.searchsorted(ids[order], self.segment_ids)
                top = max(len(ids) - 1, 0)
                rows = order[np.minimum(positions, top)] if len(ids) else positions
                if len(self) and (len(ids) == 0 or np.any(ids[rows] != self.segment_ids)):
                    raise DataError(
                        f"{self.source} changed since it was loaded; reload the collection"
                    )
                return read_rows(parquet, "vector", rows)
        except (OSError, pa.ArrowException) as error:
            raise DataError(f"cannot read {self.source}: {error}") from error

    def rows_of(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Row of each segment id in this space, -1 for ids it does not hold.

        Parameters
        ----------
        ids : array-like, shape (m,), int

        Returns
        -------
        np.ndarray, shape (m,), int64
        """
        ids = np.asarray(list(ids) if not isinstance(ids, np.ndarray) else ids, dtype=np.int64)
        if len(self) == 0:
            return np.full(len(ids), -1, np.int64)
        positions = np.searchsorted(self.segment_ids, ids)
        clipped = np.minimum(positions, len(self) - 1)
        return np.where(self.segment_ids[clipped] == ids, clipped, -1).astype(np.int64)


def release_decoded() -> None:
    """Give the memory of decoded tables back to the system.

    Arrow's allocator keeps freed memory for reuse: after one million-row space was read, about
    630 MB stayed resident though nothing used it (benchmarks/million.py).
    """
    pa.default_memory_pool().release_unused()


#: The columns of a space kept in its files (the vector too, once read; see :mod:`space_files`).
SPACE_COLUMNS = ("segment_ids", "track", "offset", "pca", "std_pca")
#: Matrices stored column by column: a 2-D map reads two of their 32 columns.
BY_COLUMN = ("pca", "std_pca")


def read_space(
    path: Path,
    model: str,
    layer: str,
    track_ids: np.ndarray | None = None,
    cache_dir: Path | None = None,
    version: int | None = None,
    opened: BinaryIO | None = None,
) -> Space:
    """One segment table as a :class:`Space`, without its ``vector`` column.

    Parameters
    ----------
    opened : binary file, optional
        ``path``, already open (the version :meth:`Collection.load` checked); left open.
    track_ids : np.ndarray, shape (k,), optional
        Keep only the segments of these tracks (the collection's playable tracks).
    cache_dir : Path, optional
        Keep the arrays in memory-mapped files there, for this table and ``version`` (which
        decides ``track_ids``), and map them instead of reading the table when they exist.
    """
    try:
        with contextlib.nullcontext(opened) if opened is not None else open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            files = None
            if cache_dir is not None and version is not None:
                stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
                files = SpaceFiles(cache_dir, model, layer, space_key(version, stamp))
                kept = _kept_space(files, model, layer, path)
                if kept is not None:
                    return kept
            # One open file is one version, whatever replaces the name meanwhile.
            parquet = pq.ParquetFile(handle)
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
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"cannot read {path}: {error}; delete the data folder to start over"
        ) from error
    if files is not None:
        columns = {name: files.save(name, array, name in BY_COLUMN)
                   for name, array in columns.items()}  # fmt: skip
    return Space(model, layer, **columns, source=path, files=files)


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


def _kept_space(files: SpaceFiles, model: str, layer: str, path: Path) -> Space | None:
    """The space from its files, when every column is there and of one length."""
    ids = files.load("segment_ids")
    if ids is None:
        return None
    columns = {name: files.load(name, len(ids)) for name in SPACE_COLUMNS}
    if any(column is None for column in columns.values()):
        return None
    return Space(model, layer, **columns, source=path, files=files)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class Collection:
    """One data folder, loaded once: the playable tracks, and segment spaces read on first use.

    One version of the tables: every table is opened when the collection is loaded (and its
    version checked against state.json's), and spaces are read later from those open files,
    whatever a merge writes meanwhile. Safe to share between the server's threads: spaces are
    cached under a lock (spaces already handed out stay valid).
    """

    def __init__(
        self,
        data_dir: Path,
        tracks: pd.DataFrame,
        version: int,
        state_stamp: tuple[int, int, int] | None = None,
        tables: dict[tuple[str, str], BinaryIO] | None = None,
        settled: bool = True,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.tracks = tracks
        self.version = version
        #: False when a merge was halfway when this was loaded (see :meth:`load`).
        self.settled = settled
        self._spaces: dict[tuple[str, str], Space] = {}
        self._lock = threading.RLock()
        # What state.json looked like when ``version`` was read; a different one means "check".
        self._state_stamp = state_stamp
        # The open segment tables of this version, read when a space is first asked for.
        self._tables = tables or {}
        if self._tables:
            weakref.finalize(self, _close_all, list(self._tables.values()))

    @classmethod
    def load(cls, data_dir: Path, wait_seconds: float = SETTLE_SECONDS) -> Collection:
        """Read a data folder's current version: its tracks now, its spaces when first asked.

        A merge writes the tables, then state.json. Loaded meanwhile, tables newer than
        state.json's version would mix with older ones: the load waits (up to ``wait_seconds``)
        for state.json, and then gives what it has, with ``settled`` False (0: at once, for a
        caller that keeps what it has and looks again later).

        Raises
        ------
        DataError
            When ``tracks.parquet`` exists but cannot be read.
        """
        data_dir = Path(data_dir)
        deadline = time.monotonic() + wait_seconds
        while True:
            # Stamp, then version, then tables: a merge landing meanwhile is seen by the next
            # check, or by the tables' own versions.
            stamp = _stamp(data_dir / STATE_FILE)
            version = read_version(data_dir)
            tracks_file = _open_table(data_dir / TRACKS_FILE)
            opened = {space: _open_table(segment_path(data_dir, *space))
                      for space in segment_spaces(data_dir)}  # fmt: skip
            spaces = {space: table for space, table in opened.items() if table is not None}
            everything = [*spaces.values(), *([tracks_file] if tracks_file else [])]
            settled = all(v is None or v <= version for v in map(_opened_version, everything))
            if settled or time.monotonic() >= deadline:
                break
            _close_all(everything)
            time.sleep(0.05)
        if not settled and wait_seconds > 0:
            log.warning("%s: a merge seems to have stopped halfway; showing its tables as they "
                        "are (the next extraction finishes it)", data_dir)  # fmt: skip
        try:
            tracks = read_tracks(data_dir / TRACKS_FILE, tracks_file)
        except BaseException:
            _close_all(spaces.values())
            raise
        finally:
            if tracks_file is not None:
                tracks_file.close()
        return cls(data_dir, tracks, version, stamp, spaces, settled)

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def space_path(self, model: str, layer: str) -> Path:
        return segment_path(self.data_dir, model, layer)

    def largest_space(self) -> int:
        """Rows of the largest segment table, from the files' footers (no table is read)."""
        sizes = []
        for model, layer in self.available_spaces():
            try:
                sizes.append(pq.ParquetFile(self.space_path(model, layer)).metadata.num_rows)
            except (OSError, pa.ArrowException):
                continue  # being replaced: the next look counts it
        return max(sizes, default=0)

    def available_spaces(self) -> list[tuple[str, str]]:
        """The (model, layer) pairs that have a segment table (in this version), sorted."""
        return sorted(self._tables)

    def space(self, model: str, layer: str) -> Space:
        """The segments of one (model, layer), read on first use; empty when there is no table."""
        key = (model, layer)
        with self._lock:
            cached = self._spaces.get(key)
            if cached is not None:
                return cached
            path = self.space_path(model, layer)
            opened = self._tables.get(key)
            if opened is not None:
                space = read_space(path, model, layer, self.tracks.index.to_numpy(),
                                   self.data_dir / CACHE_DIR, self.version, opened)  # fmt: skip
                release_decoded()
            else:
                space = Space.empty(model, layer)
            self._spaces[key] = space
            return space

    def changed_on_disk(self) -> bool:
        """Whether ``state.json`` looks different from when this collection was read (a stat)."""
        return _stamp(self.state_path) != self._state_stamp

    def mark_seen(self, other: Collection) -> None:
        """Remember ``other``'s look at ``state.json`` (same version: nothing to reload)."""
        self._state_stamp = other._state_stamp


def _open_table(path: Path) -> TableFile | None:
    """``path``, opened; None when it is not there (removed meanwhile: not in this version)."""
    try:
        return TableFile(path)
    except FileNotFoundError:
        return None


class TableFile(io.RawIOBase):
    """A table opened once, read at positions (``os.pread``) from a position of its own.

    The background jobs are forked from the server: an ordinary file object there would share
    its offset with the server's, and a read in one process would move the other's.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.name = str(path)
        self._fd = os.open(path, os.O_RDONLY)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position,
                io.SEEK_END: os.fstat(self._fd).st_size}[whence]  # fmt: skip
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _opened_version(handle: BinaryIO) -> int | None:
    """The version an open table was written for (footer metadata); None if unmarked/unreadable."""
    try:
        version = table_version(pq.ParquetFile(handle).schema_arrow)
    except (OSError, pa.ArrowException):
        return None  # a damaged table is reported when it is read
    handle.seek(0)
    return version


def _close_all(handles: Iterable[BinaryIO]) -> None:
    for handle in handles:
        handle.close()
