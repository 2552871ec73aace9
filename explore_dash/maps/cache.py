"""How a t-SNE or UMAP map is cached: on disk under the data folder's ``cache/``, by what it shows.

A map is stored under a hash of everything it depends on (model, layer, projection, the set of
segment ids, the parameters, the tables' version and the algorithm's version), with the ids it
was computed for, so it comes back in any order and survives restarts. The cache is a
``diskcache`` directory shared by the web process and its background jobs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import diskcache
import numpy as np

from explore_dash.maps.projections import ALGORITHM_VERSION

#: Under the data folder's cache/.
MAP_CACHE_DIR = "projections"
#: What every computed map is computed with (fixed seeds: the same map for the same input).
MAP_PARAMS = {"seed": 0}


class CachedProjection(NamedTuple):
    """A stored map: ``coordinates[i]`` is where segment ``segment_ids[i]`` lies.

    Attributes
    ----------
    segment_ids : np.ndarray, shape (n,), int64
    coordinates : np.ndarray, shape (n, 2), float32
    """

    segment_ids: np.ndarray
    coordinates: np.ndarray

    def aligned_to(self, segment_ids: np.ndarray) -> np.ndarray:
        """The coordinates in the order of ``segment_ids``, shape (m, 2), float32.

        Raises
        ------
        KeyError
            When some of ``segment_ids`` are not in this map.
        """
        wanted = np.asarray(segment_ids, dtype=np.int64)
        order = np.argsort(self.segment_ids, kind="stable")
        sorted_ids = self.segment_ids[order]
        positions = np.minimum(np.searchsorted(sorted_ids, wanted), max(len(sorted_ids) - 1, 0))
        if len(wanted) and (len(sorted_ids) == 0 or np.any(sorted_ids[positions] != wanted)):
            raise KeyError("segment ids not in this cached projection")
        return self.coordinates[order[positions]]


class ProjectionCache:
    """Computed maps on disk, shared by every process that opens the same directory.

    Also counts computations (each :meth:`set`) in the cache itself, so a test or a log can
    tell whether a restarted app computed again or reused a stored map.

    Parameters
    ----------
    directory : Path
    size_limit : int
        Bytes kept before the least recently stored maps are dropped (a 100k-point map with
        its ids is 1.6 MB).
    """

    _COUNTER = "computations"

    def __init__(self, directory: Path, size_limit: int = 2**30) -> None:
        self.directory = Path(directory)
        self._cache = diskcache.Cache(str(self.directory), size_limit=size_limit)

    @staticmethod
    def key(
        model: str,
        layer: str,
        projection: str,
        segment_ids: np.ndarray,
        params: Mapping[str, Any],
        data_version: int,
    ) -> str:
        """Hash of everything a map depends on; the order of ``segment_ids`` does not matter.

        Parameters
        ----------
        segment_ids : np.ndarray, shape (n,), int
        params : mapping
            JSON-serializable projection parameters (seed, perplexity...).
        data_version : int
            ``state.json`` version: maps of older tables are not reused.
        """
        header = json.dumps(
            {
                "model": model,
                "layer": layer,
                "projection": projection,
                "params": dict(params),
                "data_version": int(data_version),
                "algorithm_version": ALGORITHM_VERSION,
            },
            sort_keys=True,
        )
        digest = hashlib.sha256(header.encode())
        digest.update(np.sort(np.asarray(segment_ids, dtype="<i8")).tobytes())
        return digest.hexdigest()

    def get(self, key: str) -> CachedProjection | None:
        """The map stored under ``key``, or None."""
        stored = self._cache.get(("map", key))
        return None if stored is None else CachedProjection(*stored)

    def set(self, key: str, segment_ids: np.ndarray, coordinates: np.ndarray) -> None:
        """Store a freshly computed map and count one computation.

        Parameters
        ----------
        segment_ids : np.ndarray, shape (n,), int
        coordinates : np.ndarray, shape (n, 2), float
        """
        ids = np.asarray(segment_ids, dtype=np.int64)
        coordinates = np.asarray(coordinates, dtype=np.float32)
        if coordinates.shape != (len(ids), 2):
            raise ValueError(f"{coordinates.shape} coordinates for {len(ids)} segment ids")
        self._cache.set(("map", key), (ids, coordinates))
        self._cache.incr(self._COUNTER, default=0)

    @property
    def computations(self) -> int:
        """How many maps were stored in this directory, by any process, since it was created."""
        return int(self._cache.get(self._COUNTER, 0))

    def close(self) -> None:
        self._cache.close()


def map_key(model: str, layer: str, projection: str, segment_ids: np.ndarray, version: int) -> str:
    """The cache key of the map of ``segment_ids`` of a (model, layer) at tables ``version``."""
    return ProjectionCache.key(model, layer, projection, segment_ids, MAP_PARAMS, version)


def cached_map(cache_dir: Path, key: str, segment_ids: np.ndarray) -> np.ndarray | None:
    """The stored map under ``key``, aligned to ``segment_ids``; None when there is none.

    Opens the cache for this one look and closes it again: background jobs are forked from the
    web process, and an SQLite connection (diskcache) open across a fork loses the child's writes.

    Returns
    -------
    np.ndarray, shape (len(segment_ids), 2), float32, or None
    """
    cache = ProjectionCache(Path(cache_dir) / MAP_CACHE_DIR)
    try:
        stored = cache.get(key)
    finally:
        cache.close()
    if stored is None:
        return None
    try:
        return stored.aligned_to(segment_ids)
    except KeyError:
        return None


def store_map(
    cache_dir: Path, key: str, segment_ids: np.ndarray, coordinates: np.ndarray
) -> None:
    """Store a computed map under ``key`` (opened and closed like :func:`cached_map`)."""
    cache = ProjectionCache(Path(cache_dir) / MAP_CACHE_DIR)
    try:
        cache.set(key, segment_ids, coordinates)
    finally:
        cache.close()
