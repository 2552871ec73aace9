"""The app's view of a data folder: tracks and segment spaces loaded once, and pure transforms.

Reads the storage contract of docs/architecture.md directly with pyarrow (never through
``extraction``, which may pull in Essentia). Everything below :class:`Collection` is a pure
function of arrays and frames, so callbacks stay a few lines long and tests need no server.
"""

from __future__ import annotations

import html
import importlib.util
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

# -- segment ids ----------------------------------------------------------------------------------

#: Length of one segment: 187 mel frames × hop 256 / 16 kHz.
SEGMENT_SECONDS = 2.992
#: Segment ids are ``track * SEGMENT_ID_STRIDE + segment index``. 2**16 segments is 54 hours per
#: track; the largest id (int32 track) stays below 2**53, so ids survive a trip through JSON and
#: JavaScript numbers in ``customdata``.
SEGMENT_ID_STRIDE = 65536
PCA_COMPONENTS = 32
MODELS = ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt")
LAYERS = ("taggram", "embedding")


def segment_id(track: int, offset: float) -> int:
    """Id of the segment of ``track`` starting at ``offset`` seconds; the same in every space."""
    return int(track) * SEGMENT_ID_STRIDE + round(float(offset) / SEGMENT_SECONDS)


def segment_ids(track: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Vectorized :func:`segment_id`.

    Parameters
    ----------
    track : np.ndarray, shape (n,), integer
    offset : np.ndarray, shape (n,), float
        Segment start in seconds.

    Returns
    -------
    np.ndarray, shape (n,), int64
    """
    index = np.rint(np.asarray(offset, dtype=np.float64) / SEGMENT_SECONDS).astype(np.int64)
    return np.asarray(track, dtype=np.int64) * SEGMENT_ID_STRIDE + index


def segment_track(ids: np.ndarray | int) -> np.ndarray | int:
    """Track id of segment id(s); an int for an int, an int64 array for an array."""
    if np.ndim(ids) == 0:
        return int(ids) // SEGMENT_ID_STRIDE
    return np.asarray(ids, dtype=np.int64) // SEGMENT_ID_STRIDE


def segment_index(ids: np.ndarray | int) -> np.ndarray | int:
    """Position of segment id(s) within their track (0 for the first segment)."""
    if np.ndim(ids) == 0:
        return int(ids) % SEGMENT_ID_STRIDE
    return np.asarray(ids, dtype=np.int64) % SEGMENT_ID_STRIDE


def segment_offset(ids: np.ndarray | int) -> np.ndarray | float:
    """Start in seconds of segment id(s); a float for an int, a float64 array for an array."""
    if np.ndim(ids) == 0:
        return (int(ids) % SEGMENT_ID_STRIDE) * SEGMENT_SECONDS
    return (np.asarray(ids, dtype=np.int64) % SEGMENT_ID_STRIDE) * SEGMENT_SECONDS


# -- loading --------------------------------------------------------------------------------------


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
        frame = frame[frame["status"] == "ok"]
    result = pd.DataFrame(index=pd.Index(frame["track"].to_numpy(np.int64), name="track"))
    for name in _TEXT_FIELDS:
        column = frame[name] if name in names else pd.Series([""] * len(frame))
        result[name] = column.fillna("").astype(str).to_numpy(dtype=object)
    duration = frame["duration"] if "duration" in names else pd.Series([np.nan] * len(frame))
    result["duration"] = pd.to_numeric(duration, errors="coerce").to_numpy(np.float64)
    result = result[~result.index.duplicated(keep="last")].sort_index()
    return result[list(TRACK_FIELDS)]


def read_version(state_path: Path) -> int:
    """``version`` of a ``state.json``; 0 when the file is absent, unreadable or has none."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        return int(state.get("version", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _list_matrix(column: pa.ChunkedArray) -> np.ndarray:
    """A fixed-size list column as a float32 matrix, shape (n_rows, list_size)."""
    if not pa.types.is_fixed_size_list(column.type) and not pa.types.is_list(column.type):
        raise DataError(f"expected a list column, got {column.type}")
    n_rows = len(column)
    array = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    flat = array.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
    else:
        width = len(flat) // n_rows if n_rows else 0
    if len(flat) != n_rows * width:
        raise DataError("list column rows have different lengths")
    return flat.reshape(n_rows, width)


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
            table = pq.read_table(self.source, columns=["track", "offset", "vector"])
        except (OSError, pa.ArrowException) as error:
            raise DataError(f"cannot read {self.source}: {error}") from error
        vectors = _list_matrix(table.column("vector"))
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


def read_space(path: Path, model: str, layer: str, track_ids: np.ndarray | None = None) -> Space:
    """One segment table as a :class:`Space`, without its ``vector`` column.

    Parameters
    ----------
    track_ids : np.ndarray, shape (k,), optional
        Keep only the segments of these tracks (the collection's playable tracks).
    """
    try:
        table = pq.read_table(path, columns=["track", "offset", "pca", "std_pca"])
    except (OSError, pa.ArrowException) as error:
        raise DataError(
            f"cannot read {path}: {error}; delete the data folder to start over"
        ) from error
    track = table.column("track").to_numpy().astype(np.int32)
    offset = table.column("offset").to_numpy().astype(np.float32)
    pca = _list_matrix(table.column("pca"))
    std_pca = _list_matrix(table.column("std_pca"))
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
        return self.data_dir / "state.json"

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
        stamp = _stamp(data_dir / "state.json")
        version = read_version(data_dir / "state.json")
        tracks = read_tracks(data_dir / "tracks.parquet")
        return cls(data_dir, tracks, version, stamp)

    def space_path(self, model: str, layer: str) -> Path:
        return self.data_dir / "segments" / f"model={model}" / f"layer={layer}" / "part-0.parquet"

    def available_spaces(self) -> list[tuple[str, str]]:
        """The (model, layer) pairs that have a segment table, sorted."""
        found = []
        for path in (self.data_dir / "segments").glob("model=*/layer=*/part-0.parquet"):
            found.append(
                (
                    path.parent.parent.name.removeprefix("model="),
                    path.parent.name.removeprefix("layer="),
                )
            )
        return sorted(found)

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

    def reload_if_changed(self) -> bool:
        """Reload when ``state.json``'s version changed; a stat call when nothing did.

        Returns
        -------
        bool
            Whether the tracks were reloaded (and the cached spaces dropped).
        """
        stamp = _stamp(self.state_path)
        if stamp == self._state_stamp:
            return False
        with self._lock:
            version = read_version(self.state_path)
            self._state_stamp = stamp
            if version == self.version:
                return False
            tracks = read_tracks(self.data_dir / "tracks.parquet")
            self.tracks, self.version, self._spaces = tracks, version, {}
            log.info("data folder %s changed: reloaded version %d", self.data_dir, version)
            return True


# -- auto-tags ------------------------------------------------------------------------------------

#: (model, layer) whose taggram gives a track's auto-tags, per label set.
AUTO_TAG_SPACES = {"msd": ("musicnn-msd", "taggram"), "mtt": ("musicnn-mtt", "taggram")}


def default_models_dir() -> Path:
    """The shipped model metadata folder (``extraction/models``), found without importing it."""
    spec = importlib.util.find_spec("extraction")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "models"
    return Path(__file__).resolve().parent.parent / "extraction" / "models"


@lru_cache(maxsize=8)
def _labels_in(models_dir: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for path in sorted(models_dir.glob("*.json")):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("skipping model metadata %s: %s", path, error)
            continue
        labels = meta.get("labels") if isinstance(meta, dict) else None
        if isinstance(labels, list) and all(isinstance(label, str) for label in labels):
            found.append((str(meta.get("name") or path.stem), tuple(labels)))
    return tuple(found)


def load_model_labels(models_dir: Path | None = None) -> dict[str, list[str]]:
    """The taggram labels of every model described in ``models_dir``, by model name.

    Reads the ``labels`` field of each ``*.json``; a file without one is skipped.
    """
    directory = Path(models_dir) if models_dir is not None else default_models_dir()
    return {name: list(labels) for name, labels in _labels_in(directory.resolve())}


def top_tags(
    track: np.ndarray, taggram: np.ndarray, labels: Sequence[str], k: int = 3
) -> dict[int, list[str]]:
    """Each track's ``k`` labels with the highest mean activation over its segments.

    Parameters
    ----------
    track : np.ndarray, shape (n,), int
    taggram : np.ndarray, shape (n, n_labels), float
    labels : sequence of str, length n_labels

    Returns
    -------
    dict
        Track id → labels, strongest first.
    """
    taggram = np.asarray(taggram, dtype=np.float64)
    if taggram.ndim != 2 or taggram.shape[1] != len(labels):
        raise ValueError(f"taggram of shape {taggram.shape} does not match {len(labels)} labels")
    if len(track) == 0:
        return {}
    unique, inverse = np.unique(np.asarray(track), return_inverse=True)
    sums = np.zeros((len(unique), taggram.shape[1]), np.float64)
    np.add.at(sums, inverse, taggram)
    means = sums / np.bincount(inverse, minlength=len(unique))[:, None]
    best = _top_columns(means, k)
    return {int(t): [labels[j] for j in row] for t, row in zip(unique, best, strict=True)}


def _top_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, largest first, shape (n, min(k, d))."""
    k = max(0, min(k, scores.shape[1]))
    if k == 0:
        return np.zeros((len(scores), 0), np.int64)
    # A stable sort on the negated scores breaks ties by label order, so results are repeatable.
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def segment_top_tags(taggram: np.ndarray, labels: Sequence[str], k: int = 3) -> list[str]:
    """Each segment's ``k`` strongest labels, joined with ", " (for hover labels).

    Parameters
    ----------
    taggram : np.ndarray, shape (n, n_labels), float
    """
    taggram = np.asarray(taggram)
    if taggram.ndim != 2 or taggram.shape[1] != len(labels):
        raise ValueError(f"taggram of shape {taggram.shape} does not match {len(labels)} labels")
    return [", ".join(labels[j] for j in row) for row in _top_columns(taggram, k)]


def aligned_segment_tags(
    space: Space, taggram_space: Space, labels: Sequence[str], k: int = 3
) -> list[str]:
    """:func:`segment_top_tags` of ``taggram_space`` for each row of ``space`` ("" where absent).

    Lets an embedding map show the tags of the same segments from its model's taggram.
    """
    rows = taggram_space.rows_of(space.segment_ids)
    found = rows >= 0
    tags = [""] * len(space)
    if found.any():
        texts = segment_top_tags(taggram_space.vector[rows[found]], labels, k)
        for position, text in zip(np.flatnonzero(found), texts, strict=True):
            tags[position] = text
    return tags


def segment_tag_indices(space: Space, taggram_space: Space, k: int = 3) -> np.ndarray:
    """Label indices of each row's ``k`` strongest tags, read from its model's taggram.

    A compact form of :func:`aligned_segment_tags` for the browser, which holds the label list
    once and draws hover labels itself.

    Returns
    -------
    np.ndarray, shape (len(space), k), uint8
        255 where the segment is missing from ``taggram_space``.
    """
    out = np.full((len(space), k), 255, np.uint8)
    rows = taggram_space.rows_of(space.segment_ids)
    found = rows >= 0
    if found.any():
        top = _top_columns(taggram_space.vector[rows[found]], k)
        out[found, : top.shape[1]] = top
    return out


_GENRE_SEPARATORS = re.compile(r"[,;/]")


def genre_tags(genre: str) -> set[str]:
    """A genre tag split on ``,``, ``;`` and ``/`` into lowercase tags."""
    return {part.strip().lower() for part in _GENRE_SEPARATORS.split(genre or "") if part.strip()}


def track_tags(
    collection: Collection,
    model_labels: Mapping[str, Sequence[str]] | None = None,
    k: int = 3,
) -> dict[int, set[str]]:
    """Every playable track's tags: its genres and its top ``k`` MSD and MTT auto-tags, lowercase.

    Parameters
    ----------
    model_labels : mapping, optional
        Labels by model name; the shipped model metadata when omitted.

    Returns
    -------
    dict
        Track id → tags; every track of ``collection.tracks`` is a key.
    """
    if model_labels is None:
        model_labels = load_model_labels()
    tracks = collection.tracks
    tags = {int(t): genre_tags(g) for t, g in zip(tracks.index, tracks["genre"], strict=True)}
    for model, layer in AUTO_TAG_SPACES.values():
        labels = model_labels.get(model)
        space = collection.space(model, layer)
        if labels is None or len(space) == 0:
            continue
        for track, labels_of_track in top_tags(space.track, space.vector, labels, k).items():
            if track in tags:
                tags[track].update(label.lower() for label in labels_of_track)
    return tags


def all_tags(tags_by_track: Mapping[int, set[str]]) -> list[str]:
    """Every tag used by some track, sorted (for a dropdown)."""
    return sorted(set().union(*tags_by_track.values())) if tags_by_track else []


# -- filters and highlights -----------------------------------------------------------------------


def _tracks_with_tags(track_tags_: Mapping[int, set[str]], tags: Iterable[str]) -> set[int]:
    wanted = {tag.lower() for tag in tags}
    if not wanted:
        return set()
    return {track for track, own in track_tags_.items() if own & wanted}


def tracks_matching(
    tracks: pd.DataFrame,
    track_tags: Mapping[int, set[str]],
    artists: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> np.ndarray:
    """Ids of the tracks by any of ``artists`` or with any of ``tags``; all when both are empty.

    Returns
    -------
    np.ndarray, shape (k,), int64, sorted
    """
    ids = tracks.index.to_numpy(np.int64)
    if not artists and not tags:
        return np.sort(ids)
    chosen = tracks["artist"].isin(list(artists)).to_numpy()
    tagged = np.isin(ids, np.fromiter(_tracks_with_tags(track_tags, tags), np.int64))
    return np.sort(ids[chosen | tagged])


def reduction_mask(segments: np.ndarray, every_n: int) -> np.ndarray:
    """Keep every ``every_n``-th segment of each track, starting with its first.

    Parameters
    ----------
    segments : np.ndarray, shape (n,)
        Segment index within its track (integers), or segment start in seconds (floats).
    every_n : int
        1 keeps everything.

    Returns
    -------
    np.ndarray, shape (n,), bool
    """
    if every_n < 1:
        raise ValueError(f"every_n must be at least 1, got {every_n}")
    segments = np.asarray(segments)
    if np.issubdtype(segments.dtype, np.floating):
        segments = np.rint(segments / SEGMENT_SECONDS).astype(np.int64)
    return (segments % every_n) == 0


def visible_mask(
    space: Space, track_ids: np.ndarray | Sequence[int], every_n: int = 1
) -> np.ndarray:
    """Rows of ``space`` to plot: segments of ``track_ids``, thinned to every ``every_n``-th.

    Returns
    -------
    np.ndarray, shape (len(space),), bool
    """
    return np.isin(space.track, np.asarray(track_ids, np.int64)) & reduction_mask(
        space.segment_index, every_n
    )


def highlight_mask(
    space: Space,
    tracks: pd.DataFrame,
    track_tags: Mapping[int, set[str]],
    artists: Sequence[str] = (),
    albums: Sequence[str] = (),
    track_ids: Sequence[int] = (),
    tags: Sequence[str] = (),
) -> np.ndarray:
    """Rows of ``space`` whose track matches any of the criteria (a union); none when all are empty.

    ``albums`` are album names as tagged, so two artists' albums of the same name both match.

    Returns
    -------
    np.ndarray, shape (len(space),), bool
    """
    chosen: set[int] = {int(t) for t in track_ids}
    if artists:
        chosen.update(tracks.index[tracks["artist"].isin(list(artists))].tolist())
    if albums:
        chosen.update(tracks.index[tracks["album"].isin(list(albums))].tolist())
    chosen |= _tracks_with_tags(track_tags, tags)
    return np.isin(space.track, np.fromiter(chosen, np.int64, len(chosen)))


# -- projections ----------------------------------------------------------------------------------


def project_pca(space: Space, rows: np.ndarray | None = None) -> np.ndarray:
    """The first two stored principal components, shape (n, 2), float32."""
    coordinates = space.pca if rows is None else space.pca[rows]
    return np.ascontiguousarray(coordinates[:, :2], dtype=np.float32)


def project_std_pca(space: Space, rows: np.ndarray | None = None) -> np.ndarray:
    """The first two stored standardized principal components, shape (n, 2), float32."""
    coordinates = space.std_pca if rows is None else space.std_pca[rows]
    return np.ascontiguousarray(coordinates[:, :2], dtype=np.float32)


#: Projection name → function(space, rows=None) -> (n, 2) float32.
PROJECTIONS: dict[str, Callable[..., np.ndarray]] = {
    "pca": project_pca,
    "std_pca": project_std_pca,
}


def project(space: Space, name: str, rows: np.ndarray | None = None) -> np.ndarray:
    """2-D coordinates of ``space`` (or of its ``rows``, a mask or indices) by projection ``name``.

    Returns
    -------
    np.ndarray, shape (n, 2), float32

    Raises
    ------
    ValueError
        For a projection not in :data:`PROJECTIONS`.
    """
    try:
        function = PROJECTIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown projection {name!r}; choose one of: {', '.join(PROJECTIONS)}"
        ) from None
    return function(space, rows)


# -- option labels --------------------------------------------------------------------------------

ARCHITECTURES = {"musicnn": "MusiCNN", "vgg": "VGG"}
DATASETS = {"msd": "MSD", "mtt": "MTT"}
LAYER_LABELS = {"taggram": "Taggram", "embedding": "Embedding"}
#: In a fixed order so each projection keeps its anonymous code as more are implemented.
PROJECTION_LABELS = {"pca": "PCA", "std_pca": "STD-PCA", "tsne": "t-SNE", "umap": "UMAP"}
_CODE_PREFIXES = {"architecture": "A", "dataset": "D", "layer": "L", "projection": "P"}


def model_name(architecture: str, dataset: str) -> str:
    """The model of an (architecture, dataset) choice, e.g. ``musicnn-msd``."""
    return f"{architecture}-{dataset}"


def option_labels(anonymize: bool = False) -> dict[str, list[dict[str, str]]]:
    """Dropdown/radio options (``{"label", "value"}``) for architecture, dataset, layer, projection.

    With ``anonymize`` the labels are neutral codes (A1/A2, D1/D2, L1/L2, P1...) so a listener
    compares maps without knowing which network made them; values never change. PCA and
    STD-PCA come from the stored columns; t-SNE and UMAP are computed on demand.
    """
    groups = {
        "architecture": ARCHITECTURES,
        "dataset": DATASETS,
        "layer": LAYER_LABELS,
        "projection": PROJECTION_LABELS,
    }
    options: dict[str, list[dict[str, str]]] = {}
    for group, labels in groups.items():
        entries = []
        for number, (value, label) in enumerate(labels.items(), start=1):
            shown = f"{_CODE_PREFIXES[group]}{number}" if anonymize else label
            entries.append({"label": shown, "value": value})
        options[group] = entries
    return options


# -- hover text -----------------------------------------------------------------------------------


def format_time(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on), rounded down to the second."""
    total = max(0, int(seconds)) if np.isfinite(seconds) else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def hover_texts(
    space: Space,
    tracks: pd.DataFrame,
    mask: np.ndarray | None = None,
    segment_tags: Sequence[str] | None = None,
) -> list[str]:
    """Hover label of each selected row: ``artist – title @ m:ss``, then its tags on a second line.

    Text is HTML-escaped (Plotly renders entities and a few tags in hover labels); lines are
    joined with ``<br>``.

    Parameters
    ----------
    mask : np.ndarray, shape (len(space),), bool, optional
        Rows to label; all when omitted. Labels come in row order.
    segment_tags : sequence of str, length len(space), optional
        Per-row tags, e.g. from :func:`aligned_segment_tags`; empty strings are left out.
    """
    rows = np.arange(len(space)) if mask is None else np.flatnonzero(mask)
    if segment_tags is not None and len(segment_tags) != len(space):
        raise ValueError(f"{len(segment_tags)} segment tags for a space of {len(space)} rows")
    names: dict[int, str] = {}
    texts = []
    for row in rows:
        track = int(space.track[row])
        name = names.get(track)
        if name is None:
            if track in tracks.index:
                artist, title = tracks.at[track, "artist"], tracks.at[track, "title"]
            else:
                artist, title = "", f"track {track}"
            name = html.escape(" – ".join(part for part in (artist, title) if part), quote=False)
            names[track] = name
        text = f"{name} @ {format_time(float(space.offset[row]))}"
        if segment_tags is not None and segment_tags[row]:
            text += "<br>" + html.escape(segment_tags[row], quote=False)
        texts.append(text)
    return texts
