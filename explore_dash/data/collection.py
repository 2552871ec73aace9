"""The loaded data folder: playable tracks, and segment spaces read on first use.

What the app holds: a :class:`Collection` (one version of the data folder) and the
:class:`Space` of each (model, layer). The tables are opened, one version at a time, by
:mod:`explore_dash.data.table_files` and read by :mod:`explore_dash.data.tables`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
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
from explore_dash.data.table_files import close_all, file_stamp, open_version
from explore_dash.data.tables import (
    BY_COLUMN,
    DataError,
    read_space_columns,
    read_tracks,
    read_vector_rows,
    release_decoded,
)
from extraction.contract import (
    CACHE_DIR,
    PCA_COMPONENTS,
    SEGMENT_ID_STRIDE,
    STATE_FILE,
    TRACKS_FILE,
    segment_path,
)

log = logging.getLogger(__name__)

#: How long a load waits for a merge it came upon halfway to finish (see Collection.load).
SETTLE_SECONDS = 10.0


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
        vectors = read_vector_rows(self.source, self.segment_ids)
        if self.files is None:
            return vectors
        mapped = self.files.save("vector", vectors)
        del vectors  # mapped now (or, if it could not be kept, still referenced by ``mapped``)
        release_decoded()
        return mapped

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


#: The columns of a space kept in its files (the vector too, once read; see :mod:`space_files`).
SPACE_COLUMNS = ("segment_ids", "track", "offset", "pca", "std_pca")


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
            columns = read_space_columns(pq.ParquetFile(handle), track_ids)
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"cannot read {path}: {error}; delete the data folder to start over"
        ) from error
    if files is not None:
        columns = {name: files.save(name, array, name in BY_COLUMN)
                   for name, array in columns.items()}  # fmt: skip
    return Space(model, layer, **columns, source=path, files=files)


def _kept_space(files: SpaceFiles, model: str, layer: str, path: Path) -> Space | None:
    """The space from its files, when every column is there and of one length."""
    ids = files.load("segment_ids")
    if ids is None:
        return None
    columns = {name: files.load(name, len(ids)) for name in SPACE_COLUMNS}
    if any(column is None for column in columns.values()):
        return None
    return Space(model, layer, **columns, source=path, files=files)


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
            weakref.finalize(self, close_all, list(self._tables.values()))

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
        opened = open_version(data_dir, wait_seconds)
        if not opened.settled and wait_seconds > 0:
            log.warning("%s: a merge seems to have stopped halfway; showing its tables as they "
                        "are (the next extraction finishes it)", data_dir)  # fmt: skip
        try:
            tracks = read_tracks(data_dir / TRACKS_FILE, opened.tracks)
        except BaseException:
            close_all(opened.spaces.values())
            raise
        finally:
            if opened.tracks is not None:
                opened.tracks.close()
        return cls(data_dir, tracks, opened.version, opened.state_stamp, opened.spaces,
                   opened.settled)  # fmt: skip

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
        return file_stamp(self.state_path) != self._state_stamp

    def mark_seen(self, other: Collection) -> None:
        """Remember ``other``'s look at ``state.json`` (same version: nothing to reload)."""
        self._state_stamp = other._state_stamp
