"""Nearest segments and tracks in a space's full-dimensional vectors (not the 2-D map).

Exact search: one query is a matrix-vector product over every segment, about 3 ms at 100,000
segments of 256 dimensions, and building the index is reading the vectors. pynndescent (which
umap-learn brings) took far longer to build than the whole radio needs to answer at that size,
and an approximate answer gains nothing there (``benchmarks/radio.py`` measures both). The
vectors of each table version are kept as a ``.npy`` file under ``cache/neighbours``, so a
restarted app does not decode the parquet list column again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from explore_dash.data.collection import Space

log = logging.getLogger(__name__)



@dataclass(frozen=True, eq=False)
class SpaceIndex:
    """One space's segments, ready for nearest-neighbour queries.

    Attributes
    ----------
    segment_ids : np.ndarray, shape (n,), int64
        Sorted, as the space's rows.
    track : np.ndarray, shape (n,), int32
    offset : np.ndarray, shape (n,), float32
    vectors : np.ndarray, shape (n, d), float32
    track_ids : np.ndarray, shape (k,), int64
        The tracks of the space, sorted.
    track_code : np.ndarray, shape (n,), int64
        Position of each row's track in ``track_ids``.
    centroids : np.ndarray, shape (k, d), float32
        Mean vector of each track's segments.
    """

    segment_ids: np.ndarray
    track: np.ndarray
    offset: np.ndarray
    vectors: np.ndarray
    track_ids: np.ndarray
    track_code: np.ndarray
    centroids: np.ndarray
    _squared_norms: np.ndarray
    _centroid_squared_norms: np.ndarray

    @classmethod
    def build(cls, space: Space, vectors: np.ndarray) -> SpaceIndex:
        """An index of ``space`` whose row ``i`` has vector ``vectors[i]`` (n, d)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) != len(space):
            raise ValueError(f"{len(vectors)} vectors for {len(space)} segments")
        track_ids, track_code = np.unique(space.track.astype(np.int64), return_inverse=True)
        counts = np.bincount(track_code, minlength=len(track_ids)).astype(np.float64)
        sums = np.zeros((len(track_ids), vectors.shape[1]), np.float64)
        np.add.at(sums, track_code, vectors)
        centroids = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        return cls(
            segment_ids=space.segment_ids,
            track=space.track,
            offset=space.offset,
            vectors=vectors,
            track_ids=track_ids,
            track_code=track_code.astype(np.int64),
            centroids=centroids,
            _squared_norms=np.einsum("ij,ij->i", vectors, vectors),
            _centroid_squared_norms=np.einsum("ij,ij->i", centroids, centroids),
        )

    def __len__(self) -> int:
        return len(self.segment_ids)

    def row_of(self, segment_id: int) -> int:
        """Row of ``segment_id``, -1 when the space does not hold it."""
        position = int(np.searchsorted(self.segment_ids, segment_id))
        if position < len(self) and self.segment_ids[position] == segment_id:
            return position
        return -1

    def distances(self, query: np.ndarray) -> np.ndarray:
        """Squared Euclidean distance from ``query`` (d,) to every segment, shape (n,)."""
        query = np.asarray(query, np.float32)
        return self._squared_norms - 2 * (self.vectors @ query) + float(query @ query)

    def nearest_row(self, query: np.ndarray, allowed_tracks: np.ndarray) -> int:
        """The row nearest ``query`` among segments of tracks where ``allowed_tracks`` (k,) is
        True (indexed like ``track_ids``); -1 when none is allowed."""
        allowed = allowed_tracks[self.track_code]
        if not allowed.any():
            return -1
        distances = self.distances(query)
        distances[~allowed] = np.inf
        return int(np.argmin(distances))

    def nearest_track(self, query: np.ndarray, allowed_tracks: np.ndarray) -> int:
        """Position in ``track_ids`` of the track whose centroid is nearest ``query``, among
        the allowed ones; -1 when none is."""
        if not allowed_tracks.any():
            return -1
        query = np.asarray(query, np.float32)
        distances = (
            self._centroid_squared_norms - 2 * (self.centroids @ query) + float(query @ query)
        )
        distances[~allowed_tracks] = np.inf
        return int(np.argmin(distances))

    def rows_of_track(self, code: int) -> np.ndarray:
        """Rows of the track at position ``code`` of ``track_ids`` (rows are sorted by track)."""
        start, stop = np.searchsorted(self.track_code, [code, code + 1])
        return np.arange(start, stop)
