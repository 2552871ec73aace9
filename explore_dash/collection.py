"""The loaded data folder: playable tracks, and segment spaces read on first use.

Reads the tables with pyarrow through the data folder's contract (:mod:`extraction.contract`),
never through the extraction's pipeline, which may pull in Essentia.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from extraction.contract import (
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
)

log = logging.getLogger(__name__)


class DataError(Exception):
    """The data folder exists but cannot be read (a damaged or foreign table)."""


TRACK_FIELDS = ("artist", "album", "title", "genre", "duration", "path")
_TEXT_FIELDS = ("artist", "album", "title", "genre", "path")


def _empty_tracks() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series([], dtype=str) for name in _TEXT_FIELDS})
    frame["duration"] = pd.Series([], dtype=np.float64)
    frame.index = pd.Index([], dtype=np.int64, name="track")
    return frame[list(TRACK_FIELDS)]


def read_tracks(path: Path) -> pd.DataFrame:
    """The playable tracks of a ``tracks.parquet``: status ``ok`` only, indexed by track id.

    Returns
    -------
    pd.DataFrame
        Index ``track`` (int64); columns artist, album, title, genre, path (str, missing tags
        as ``""``) and duration (float64 seconds, NaN when unknown). Empty when the file is absent.
    """
    if not path.exists():
        return _empty_tracks()
    try:
        table = pq.read_table(path)
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
        try:
            table = read_parquet_once(self.source, ["track", "offset", "vector"])
        except (OSError, pa.ArrowException) as error:
            raise DataError(f"cannot read {self.source}: {error}") from error
        vectors = _matrix(table.column("vector"))
        # Align by id rather than trusting row order: the file may have been rewritten.
        ids = segment_ids(table.column("track").to_numpy(), table.column("offset").to_numpy())
        order = np.argsort(ids, kind="stable")
        positions = np.searchsorted(ids[order], self.segment_ids)
        rows = order[np.minimum(positions, max(len(ids) - 1, 0))] if len(ids) else positions
        if len(self) and (len(ids) == 0 or np.any(ids[rows] != self.segment_ids)):
            raise DataError(f"{self.source} changed since it was loaded; reload the collection")
        return np.ascontiguousarray(vectors[rows])

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


def read_parquet_once(path: Path, columns: list[str]) -> pa.Table:
    """``columns`` of the parquet file at ``path``, read through one open file.

    A merge replaces a table with ``os.replace`` while the app may be reading it. Given a path,
    pyarrow opens the file more than once (footer, then pages) and could read the footer of one
    version and the pages of the next ("Page was smaller than expected", seen under load); one
    open file is one version, whatever replaces the name meanwhile.
    """
    with open(path, "rb") as handle:
        return pq.read_table(handle, columns=columns)


def read_space(path: Path, model: str, layer: str, track_ids: np.ndarray | None = None) -> Space:
    """One segment table as a :class:`Space`, without its ``vector`` column.

    Parameters
    ----------
    track_ids : np.ndarray, shape (k,), optional
        Keep only the segments of these tracks (the collection's playable tracks).
    """
    try:
        table = read_parquet_once(path, ["track", "offset", "pca", "std_pca"])
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"cannot read {path}: {error}; delete the data folder to start over"
        ) from error
    track = table.column("track").to_numpy().astype(np.int32)
    offset = table.column("offset").to_numpy().astype(np.float32)
    pca = _matrix(table.column("pca"))
    std_pca = _matrix(table.column("std_pca"))
    ids = segment_ids(track, offset)
    keep = np.ones(len(ids), bool) if track_ids is None else np.isin(track, track_ids)
    rows = np.flatnonzero(keep)
    rows = rows[np.argsort(ids[rows], kind="stable")]
    # Duplicate ids would make selection ambiguous; the contract has none, keep the first.
    _, first = np.unique(ids[rows], return_index=True)
    rows = rows[first]
    return Space(
        model,
        layer,
        ids[rows],
        track[rows],
        offset[rows],
        np.ascontiguousarray(pca[rows]),
        np.ascontiguousarray(std_pca[rows]),
        source=path,
    )


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class Collection:
    """One data folder, loaded once: the playable tracks, and segment spaces read on first use.

    Safe to share between the server's threads: spaces are cached under a lock, and a reload
    swaps the tracks and clears the cache at once (spaces already handed out stay valid).
    """

    def __init__(
        self,
        data_dir: Path,
        tracks: pd.DataFrame,
        version: int,
        state_stamp: tuple[int, int, int] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.tracks = tracks
        self.version = version
        self._spaces: dict[tuple[str, str], Space] = {}
        self._lock = threading.RLock()
        # What state.json looked like when ``version`` was read; a different one means "check".
        self._state_stamp = state_stamp

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    @classmethod
    def load(cls, data_dir: Path) -> Collection:
        """Read a data folder's tracks table and version; a folder with no tables is empty.

        Raises
        ------
        DataError
            When ``tracks.parquet`` exists but cannot be read.
        """
        data_dir = Path(data_dir)
        # Stamp, then version, then tables: a merge landing meanwhile is seen by the next check.
        stamp = _stamp(data_dir / STATE_FILE)
        version = read_version(data_dir)
        tracks = read_tracks(data_dir / TRACKS_FILE)
        return cls(data_dir, tracks, version, stamp)

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
        """The (model, layer) pairs that have a segment table, sorted."""
        return segment_spaces(self.data_dir)

    def space(self, model: str, layer: str) -> Space:
        """The segments of one (model, layer), read on first use; empty when there is no table."""
        key = (model, layer)
        with self._lock:
            cached = self._spaces.get(key)
            if cached is not None:
                return cached
            path = self.space_path(model, layer)
            if path.exists():
                space = read_space(path, model, layer, self.tracks.index.to_numpy())
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
