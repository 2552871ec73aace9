"""The one way a t-SNE or UMAP map is computed: under its lock, once, into the cache.

Both the panels' background jobs (explore_dash/callbacks/map_jobs.py, in a process of the server
or a Celery worker) and the maps computed ahead (:mod:`explore_dash.maps.ahead`) call
:func:`compute_once`, so whoever asks second reads the map the first one stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from explore_dash.maps.cache import cached_map, store_map
from explore_dash.maps.locks import map_lock
from explore_dash.maps.projection_run import Progress, ShouldStop
from explore_dash.maps.projections import compute_projection
from explore_dash.maps.yielding import waiting_for_map


def compute_once(
    cache_dir: Path,
    key: str,
    projection: str,
    segment_ids: np.ndarray,
    features: Callable[[], np.ndarray],
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    waiting: Callable[[], None] | None = None,
) -> np.ndarray:
    """The ``projection`` map of ``segment_ids``: from the cache, or computed and stored.

    The map's lock (:func:`explore_dash.maps.locks.map_lock`) is held while the cache is read
    and the map computed and stored, and released on return, on an error and on a cancel.

    Parameters
    ----------
    key : str
        The map's cache key (:func:`explore_dash.maps.points.points_key`).
    segment_ids : np.ndarray, shape (n,), int64
    features : callable
        Returns the projection's input, shape (n, d), float; called only when the map is
        computed here.
    progress, should_stop : callable, optional
        As :func:`explore_dash.maps.projections.compute_projection` takes them.
    waiting : callable, optional
        How a caller someone watches (a panel) waits for a map computed elsewhere: called
        once when another holds the lock, then the wait marks the map as wanted, so the maps
        ahead go on meanwhile (:func:`explore_dash.maps.yielding.waiting_for_map`). None: block
        on the lock quietly (the maps ahead themselves).

    Returns
    -------
    np.ndarray, shape (n, 2), float32

    Raises
    ------
    ProjectionError
        When the map cannot be computed (too few points and the like); nothing is stored.
    ProjectionCancelled
        When ``should_stop`` returned True; nothing is stored.
    """
    with map_lock(cache_dir, key, wait=waiting is None) as held:
        if held:
            return _cached_or_computed(cache_dir, key, projection, segment_ids, features,
                                       progress, should_stop)  # fmt: skip
    waiting()
    with waiting_for_map(cache_dir, key):
        return _cached_or_computed(cache_dir, key, projection, segment_ids, features,
                                   progress, should_stop)  # fmt: skip


def _cached_or_computed(
    cache_dir: Path,
    key: str,
    projection: str,
    segment_ids: np.ndarray,
    features: Callable[[], np.ndarray],
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> np.ndarray:
    """The map under ``key``, computed and stored when missing; the caller holds its lock."""
    # Whoever held the lock before may have stored it meanwhile.
    xy = cached_map(cache_dir, key, segment_ids)
    if xy is None:
        xy = compute_projection(projection, features(), progress=progress,
                                should_stop=should_stop)  # fmt: skip
        store_map(cache_dir, key, segment_ids, xy)
    return xy
