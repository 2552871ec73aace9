"""UMAP maps (umap-learn): neighbours found exactly, the whole set up to :data:`UMAP_SAMPLE_FROM`
points, a sample and the rest placed on it above. umap-learn is imported on first use, with
numba's disk caching switched on for all its functions (:func:`_import_umap`; where that cache
lives: :mod:`explore_dash.maps.numba_cache`).
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

import numpy as np

from explore_dash.maps.projection_run import (
    SHORT_RUNS_FROM,
    Progress,
    ProjectionCancelled,
    ShouldStop,
    checked_features,
    overall_progress,
    report_progress,
    stop_if_asked,
)

log = logging.getLogger(__name__)

#: UMAP's epochs from SHORT_RUNS_FROM points (below, umap-learn's default;
#: :data:`explore_dash.maps.projection_run.SHORT_RUNS_FROM` says why).
UMAP_SHORT_EPOCHS = 100
#: UMAP finds its neighbours exactly (scikit-learn, no JIT): pynndescent's search cannot be kept
#: in numba's disk cache, so every fresh process compiled it for 20-30 s. From this many points
#: UMAP maps a sample of UMAP_SAMPLE_SIZE and places every other point at the distance-weighted
#: mean of its UMAP_PLACING_NEIGHBOURS nearest sample points (:func:`_sampled_umap`). At 100k
#: clustered points, each in a fresh process: 11.8 s against 33-38 s for the whole set with
#: pynndescent and 60 epochs, trustworthiness (k = 10, 5k-point sample) 0.979 against 0.978
#: (benchmarks/large_maps.py).
UMAP_SAMPLE_FROM = 50_000
UMAP_SAMPLE_SIZE = 25_000
UMAP_PLACING_NEIGHBOURS = 10
UMAP_SAMPLE_SHARE = 0.8
#: Rough share of a run spent finding neighbours, before the first epoch is reported.
UMAP_NEIGHBOURS_SHARE = 0.15

_umap_caching_enabled = False


def umap_neighbours(n_points: int, n_neighbors: int = 15) -> int:
    """The neighbourhood size UMAP uses for ``n_points``: ``n_neighbors``, at most n_points - 1.

    As with t-SNE, a small selection gets a map from fewer neighbours rather than an error.
    """
    return int(min(n_neighbors, n_points - 1))


def umap_epochs(n_points: int) -> int | None:
    """Optimisation epochs UMAP runs for ``n_points`` (None: umap-learn's own default)."""
    return UMAP_SHORT_EPOCHS if n_points >= SHORT_RUNS_FROM else None


def project_umap(
    features: np.ndarray,
    *,
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """UMAP map of ``features`` (umap-learn, fixed ``random_state``).

    The same features and seed give the same map. The fixed seed makes umap-learn run its
    optimisation on one thread; on 2 cores that cost nothing measurable (docs/projections.md).
    From :data:`SHORT_RUNS_FROM` points it runs 100 epochs instead of 200 (:func:`umap_epochs`);
    from :data:`UMAP_SAMPLE_FROM` it maps a sample and places the rest (:func:`_sampled_umap`).
    Neighbours are found exactly (no numba compilation). Progress is reported after the
    neighbour search and during the optimisation epochs, where ``should_stop`` is polled too
    (about every 0.1 s).

    Parameters
    ----------
    features : np.ndarray, shape (n, d), float
    seed : int
    n_neighbors : int
        Lowered to n - 1 for smaller selections (:func:`umap_neighbours`).
    min_dist : float
    progress : callable(float), optional
    should_stop : callable() -> bool, optional

    Returns
    -------
    np.ndarray, shape (n, 2), float32

    Raises
    ------
    ProjectionError
        Fewer than :data:`MIN_POINTS` points, or non-finite features.
    ProjectionCancelled
        When ``should_stop`` returned True.
    """
    features = checked_features(features, "UMAP")
    stop_if_asked(should_stop)
    report_progress(progress, 0.0)
    if len(features) >= UMAP_SAMPLE_FROM:
        return _sampled_umap(features, seed, n_neighbors, min_dist, progress, should_stop)
    umap = _import_umap()

    k = umap_neighbours(len(features), n_neighbors)
    if k < n_neighbors:
        log.info("UMAP of %d points: n_neighbors lowered to %d", len(features), k)
    knn = _exact_neighbours(features, k)
    stop_if_asked(should_stop)
    report_progress(progress, UMAP_NEIGHBOURS_SHARE)
    # Epoch progress arrives through umap-learn's tqdm bar, its only hook into the loop.
    stream = _EpochStream(progress, should_stop, start=UMAP_NEIGHBOURS_SHARE)
    reducer = umap.UMAP(
        n_neighbors=k,
        min_dist=min_dist,
        n_epochs=umap_epochs(len(features)),
        random_state=seed,
        n_jobs=1,
        precomputed_knn=knn,
        tqdm_kwds={
            "disable": False,
            "file": stream,
            "bar_format": "{n}/{total}",
            "mininterval": 0.1,
        },
        verbose=False,
    )
    with warnings.catch_warnings():
        # Expected and harmless here: no search index (we never call transform), and numba
        # declining to disk-cache some of umap-learn's functions.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
        warnings.filterwarnings("ignore", message="Cannot cache compiled function")
        warnings.filterwarnings("ignore", message="Graph is not fully connected")
        coordinates = reducer.fit_transform(features)
    report_progress(progress, 1.0)
    return np.ascontiguousarray(coordinates, dtype=np.float32)


def _sampled_umap(
    features: np.ndarray,
    seed: int,
    n_neighbors: int,
    min_dist: float,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> np.ndarray:
    """UMAP of a large set: a map of :data:`UMAP_SAMPLE_SIZE` points drawn with ``seed``, then
    every other point placed where its nearest sample points are (inverse-distance weights).

    umap-learn's own ``transform`` would need pynndescent's search, compiled afresh in every
    process (tens of seconds); an exact search of the sample places 75k points in about 4 s.
    """
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(features), UMAP_SAMPLE_SIZE, replace=False))
    rest = np.setdiff1d(np.arange(len(features)), chosen)
    sample_progress = ((lambda f: report_progress(progress, UMAP_SAMPLE_SHARE * f))
                       if progress else None)  # fmt: skip
    reference = project_umap(features[chosen], seed=seed, n_neighbors=n_neighbors,
                             min_dist=min_dist, progress=sample_progress,
                             should_stop=should_stop)  # fmt: skip
    stop_if_asked(should_stop)
    search = NearestNeighbors(n_neighbors=UMAP_PLACING_NEIGHBOURS, n_jobs=-1).fit(features[chosen])
    distances, neighbours = search.kneighbors(features[rest])
    # A point on top of a sample point lands on it, not at infinity.
    weights = 1.0 / np.maximum(distances, 1e-6)
    out = np.empty((len(features), 2), np.float32)
    out[chosen] = reference
    out[rest] = (reference[neighbours] * weights[..., None]).sum(1) / weights.sum(1)[:, None]
    report_progress(progress, 1.0)
    return out


def _exact_neighbours(features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each point's ``k`` nearest points (itself first), as UMAP's ``precomputed_knn`` wants.

    Returns
    -------
    indices : np.ndarray, shape (n, k), int32
    distances : np.ndarray, shape (n, k), float32
    """
    from sklearn.neighbors import NearestNeighbors

    search = NearestNeighbors(n_neighbors=k - 1, n_jobs=-1).fit(features)
    # kneighbors() without data leaves each point out; UMAP expects it as its own 0th neighbour.
    distances, indices = search.kneighbors()
    n = len(features)
    indices = np.hstack([np.arange(n)[:, None], indices]).astype(np.int32)
    distances = np.hstack([np.zeros((n, 1)), distances]).astype(np.float32)
    return indices, distances


class _EpochStream:
    """A file for umap-learn's tqdm bar that turns ``"{n}/{total}"`` writes into progress."""

    def __init__(self, progress: Progress | None, should_stop: ShouldStop | None, start: float):
        self.progress = progress
        self.should_stop = should_stop
        self.start = start
        self.stopped = False

    def write(self, text: str) -> None:
        if self.stopped:
            return  # tqdm writes again while closing after we raised
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            raise ProjectionCancelled("UMAP was cancelled")
        done, _, total = text.strip().rpartition("\r")[2].partition("/")
        if done.isdigit() and total.isdigit() and int(total) > 0:
            report_progress(self.progress, overall_progress(self.start, int(done) / int(total)))

    def flush(self) -> None:
        pass


def _import_umap() -> Any:
    """Import umap-learn with disk caching switched on for all its numba functions.

    umap-learn and pynndescent mark only some functions ``cache=True``; without the others a
    fresh process compiles for tens of seconds. Switching caching on is numba's public
    ``Dispatcher.enable_caching``; functions numba cannot cache are compiled as before.
    """
    global _umap_caching_enabled
    import umap

    if _umap_caching_enabled:
        return umap
    from numba.core.registry import CPUDispatcher

    _umap_caching_enabled = True
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(("umap", "pynndescent")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher) and not value.signatures:
                try:
                    value.enable_caching()
                except Exception as error:  # a numba change must not stop the map
                    log.debug("cannot enable numba caching for %s: %s", value, error)
    return umap
