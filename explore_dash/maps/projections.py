"""2-D maps of a space's segments: the stored PCA columns, t-SNE and UMAP, and numba's cache.

Meant to run inside Dash background jobs, each a fresh process; nothing here imports Dash.
openTSNE and umap-learn are imported on first use, so the web process starts fast and
:func:`configure_numba_cache` can run before numba compiles anything. Measurements behind the
choices made here are in docs/projections.md.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.contract import PCA_COMPONENTS

if TYPE_CHECKING:
    from explore_dash.data.collection import Space

log = logging.getLogger(__name__)

#: Reports progress in [0, 1]; called with increasing values, last with 1.0.
Progress = Callable[[float], None]
#: Polled during a computation; returning True stops it with :class:`ProjectionCancelled`.
ShouldStop = Callable[[], bool]

#: Fewer segments than this make no map worth drawing (UMAP's spectral start fails below 4).
MIN_POINTS = 5
#: Bumped whenever the inputs or settings below change the maps, so cached maps are not reused.
ALGORITHM_VERSION = 4
#: Stored principal components the maps are computed from (see :func:`projection_input`).
INPUT_COMPONENTS = PCA_COMPONENTS
#: From this many points t-SNE uses every core (and FFT gradients); below, one thread: on a few
#: hundred points thread hand-offs cost more than the work (300 points: 1.4 s on 1, 8.7 s on 2).
TSNE_PARALLEL_FROM = 10_000
#: t-SNE finds its 90 neighbours exactly up to this many points, with Annoy above; exact search
#: is both faster (50k: 13 s against Annoy's 38 s; 100k: 33 s against 58 s) and deterministic.
TSNE_EXACT_NEIGHBOURS_MAX = 100_000
#: Width of openTSNE's FFT interpolation intervals: 2 instead of 1 makes the optimisation 1.7x
#: faster at 50k points for a trustworthiness lower by 0.0004.
TSNE_INTS_IN_INTERVAL = 2
#: t-SNE runs 250 exaggerated iterations, then 500 more (openTSNE's defaults) on fewer than
#: :data:`SHORT_RUNS_FROM` points and 300 from there. UMAP runs umap-learn's default epochs (500
#: up to 10k points, 200 above) below that size and 100 from there. On 50k clustered points the
#: shorter runs cut t-SNE from 62.7 to 46.5 s and UMAP from 38.1 to 21.6 s, for trustworthiness
#: (k = 10, 5k-point sample) 0.9845 against 0.9847 and 0.9801 against 0.9807 (docs/projections.md).
TSNE_EXAGGERATED_ITERATIONS = 250
TSNE_ITERATIONS = 500
SHORT_RUNS_FROM = 20_000
TSNE_SHORT_ITERATIONS = 300
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
TSNE_CALLBACK_EVERY = 10
#: From this many points t-SNE maps a sample of TSNE_SAMPLE_SIZE and places the rest on it
#: (:func:`_sampled_tsne`); its share of the reported progress.
TSNE_SAMPLE_FROM = 50_000
TSNE_SAMPLE_SIZE = 25_000
TSNE_SAMPLE_SHARE = 0.7
#: Rough share of a run spent finding neighbours, before the first optimisation report (from 5%
#: at 10k points to 20-30% at 50k), so reported progress follows time more than iterations.
TSNE_NEIGHBOURS_SHARE = 0.15
UMAP_NEIGHBOURS_SHARE = 0.15


class ProjectionError(ValueError):
    """A projection cannot be computed for these points; the message says what to change."""


class ProjectionCancelled(Exception):
    """``should_stop`` asked a projection to stop; nothing was computed (not a failure)."""


# -- inputs ---------------------------------------------------------------------------------------


def projection_input(space: Space, rows: np.ndarray | None, name: str) -> np.ndarray:
    """The features t-SNE or UMAP run on for ``rows`` of ``space``.

    Both run on all 32 stored principal components: on the real collection they keep as much of
    the vectors' neighbourhoods as the vectors themselves (trustworthiness within 0.01), run
    faster, and need no read of the ``vector`` column (docs/projections.md).

    Parameters
    ----------
    space : Space
    rows : np.ndarray, shape (n_rows,) bool mask or (n,) int indices, or None for every row
    name : str
        A key of :data:`PROJECTION_FUNCTIONS`.

    Returns
    -------
    np.ndarray, shape (n, 32), float32, C-contiguous

    Raises
    ------
    ProjectionError
        For an unknown projection name.
    """
    _check_name(name)
    components = space.pca if rows is None else space.pca[rows]
    return np.ascontiguousarray(components[:, :INPUT_COMPONENTS], dtype=np.float32)


# -- stored projections (PCA, STD-PCA columns of the tables) -----------------------------------


def project_pca(space: Space, rows: np.ndarray | None = None) -> np.ndarray:
    """The first two stored principal components, shape (n, 2), float32."""
    coordinates = space.pca if rows is None else space.pca[rows]
    return np.ascontiguousarray(coordinates[:, :2], dtype=np.float32)


def project_std_pca(space: Space, rows: np.ndarray | None = None) -> np.ndarray:
    """The first two stored standardized principal components, shape (n, 2), float32."""
    coordinates = space.std_pca if rows is None else space.std_pca[rows]
    return np.ascontiguousarray(coordinates[:, :2], dtype=np.float32)


#: The projections stored with the tables, by name → function(space, rows=None) -> (n, 2).
STORED_PROJECTIONS: dict[str, Callable[..., np.ndarray]] = {
    "pca": project_pca,
    "std_pca": project_std_pca,
}


def project_stored(space: Space, name: str, rows: np.ndarray | None = None) -> np.ndarray:
    """2-D coordinates of ``space`` (or of its ``rows``, a mask or indices) by projection ``name``.

    Returns
    -------
    np.ndarray, shape (n, 2), float32

    Raises
    ------
    ValueError
        For a projection not in :data:`STORED_PROJECTIONS`.
    """
    try:
        function = STORED_PROJECTIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown projection {name!r}; choose one of: {', '.join(STORED_PROJECTIONS)}"
        ) from None
    return function(space, rows)


# -- t-SNE ----------------------------------------------------------------------------------------


def tsne_perplexity(n_points: int, perplexity: float = 30.0) -> float:
    """The perplexity t-SNE uses for ``n_points``: ``perplexity``, lowered for small selections.

    t-SNE looks at the 3 × perplexity nearest neighbours of each point, so with fewer points
    the perplexity drops to (n_points - 1) / 3 rather than failing: a small selection still
    gets a map, its clusters just formed from fewer neighbours.
    """
    return float(min(perplexity, (n_points - 1) / 3))


def tsne_iterations(n_points: int) -> int:
    """Iterations t-SNE runs for ``n_points`` after its 250 exaggerated ones."""
    return TSNE_SHORT_ITERATIONS if n_points >= SHORT_RUNS_FROM else TSNE_ITERATIONS


def project_tsne(
    features: np.ndarray,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
    embedding: bool = False,
) -> np.ndarray:
    """t-SNE map of ``features`` (openTSNE; FFT gradients on all cores from 10k points).

    The same features and seed give the same map. Neighbours are found exactly up to
    :data:`TSNE_EXACT_NEIGHBOURS_MAX` points. From :data:`SHORT_RUNS_FROM` points it runs
    fewer iterations (:func:`tsne_iterations`). Progress is reported every 10 iterations;
    ``should_stop`` is polled at the same points (not during the neighbour search, about 10 s
    at 50k points).

    Parameters
    ----------
    features : np.ndarray, shape (n, d), float
    seed : int
    perplexity : float
        Lowered for fewer than 3 × ``perplexity`` + 1 points (:func:`tsne_perplexity`).
    progress : callable(float), optional
    should_stop : callable() -> bool, optional
    embedding : bool
        Return openTSNE's embedding object (which can place further points) instead of an
        array; for :func:`_sampled_tsne`.

    From :data:`TSNE_SAMPLE_FROM` points, a sample is mapped and the rest placed on it
    (:func:`_sampled_tsne`).

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
    features = _checked_features(features, "t-SNE")
    _stop_if_asked(should_stop)
    _report(progress, 0.0)
    from openTSNE import TSNE

    n_points = len(features)
    effective = tsne_perplexity(n_points, perplexity)
    if effective < perplexity:
        log.info("t-SNE of %d points: perplexity lowered to %.1f", n_points, effective)
    n_jobs = -1 if n_points >= TSNE_PARALLEL_FROM else 1
    if n_points >= TSNE_SAMPLE_FROM:
        return _sampled_tsne(features, seed, effective, progress, should_stop)
    affinities = _tsne_affinities(features, effective, seed, n_jobs)
    _stop_if_asked(should_stop)
    iterations = tsne_iterations(n_points)
    watcher = _TsneWatcher(progress, should_stop, TSNE_EXAGGERATED_ITERATIONS + iterations)
    tsne = TSNE(
        early_exaggeration_iter=TSNE_EXAGGERATED_ITERATIONS,
        n_iter=iterations,
        # Barnes-Hut below 10k points, FFT above: FFT on a few hundred points is 20x slower.
        negative_gradient_method="auto",
        ints_in_interval=TSNE_INTS_IN_INTERVAL,
        n_jobs=n_jobs,
        random_state=seed,
        callbacks=watcher if (progress or should_stop) else None,
        callbacks_every_iters=TSNE_CALLBACK_EVERY,
        verbose=False,
    )
    fitted = tsne.fit(features, affinities=affinities)
    if watcher.stopped:
        raise ProjectionCancelled("t-SNE was cancelled")
    _report(progress, 1.0)
    return fitted if embedding else np.ascontiguousarray(fitted, dtype=np.float32)


def _sampled_tsne(
    features: np.ndarray,
    seed: int,
    perplexity: float,
    progress: Progress | None,
    should_stop: ShouldStop | None,
) -> np.ndarray:
    """t-SNE of a large set: a map of :data:`TSNE_SAMPLE_SIZE` points drawn with ``seed``, then
    every other point placed on it (openTSNE's ``transform``, the map itself held fixed).

    At 100k clustered points: 33.7 s against 61.0 s for the whole set, trustworthiness
    (k = 10, 5k-point sample) 0.981 against 0.983 (docs/projections.md).
    """
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(features), TSNE_SAMPLE_SIZE, replace=False))
    rest = np.setdiff1d(np.arange(len(features)), chosen)

    reached = [0.0]

    def sample_progress(fraction: float) -> None:
        # The sample's callbacks also run while the rest is placed (they poll should_stop
        # there too): never report going back.
        reached[0] = max(reached[0], TSNE_SAMPLE_SHARE * fraction)
        _report(progress, reached[0])

    reference = project_tsne(features[chosen], seed=seed, perplexity=perplexity,
                             progress=sample_progress if progress else None,
                             should_stop=should_stop, embedding=True)  # fmt: skip
    _stop_if_asked(should_stop)
    out = np.empty((len(features), 2), np.float32)
    out[chosen] = reference
    # Placed with the sample's own settings (its neighbour index, threads and seed).
    out[rest] = reference.transform(features[rest])
    _report(progress, 1.0)
    return out


def _tsne_affinities(features: np.ndarray, perplexity: float, seed: int, n_jobs: int) -> Any:
    """openTSNE's perplexity-based affinities of ``features``, from an index chosen here.

    Handing openTSNE the index skips its own choice, which imports pynndescent just to see
    whether it is installed: tens of seconds of numba compilation in a fresh process.
    """
    from openTSNE import affinity, nearest_neighbors

    k = min(len(features) - 1, int(3 * perplexity))
    if len(features) <= TSNE_EXACT_NEIGHBOURS_MAX:
        index_class = nearest_neighbors.Sklearn
    else:
        index_class = nearest_neighbors.Annoy
    index = index_class(features, k, metric="euclidean", n_jobs=n_jobs, random_state=seed)
    return affinity.PerplexityBasedNN(
        perplexity=perplexity, knn_index=index, n_jobs=n_jobs, random_state=seed
    )


class _TsneWatcher:
    """openTSNE callback: maps its iterations to overall progress and polls ``should_stop``."""

    def __init__(
        self, progress: Progress | None, should_stop: ShouldStop | None, iterations: int
    ) -> None:
        self.progress = progress
        self.should_stop = should_stop
        self.iterations = iterations
        self.calls = 0
        self.stopped = False

    def __call__(self, iteration: int, error: float, embedding: Any) -> bool:
        # openTSNE restarts its iteration count for the second phase; count calls instead.
        self.calls += 1
        done = min(1.0, self.calls * TSNE_CALLBACK_EVERY / self.iterations)
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            return True
        _report(self.progress, _overall(TSNE_NEIGHBOURS_SHARE, done))
        return False


# -- UMAP -----------------------------------------------------------------------------------------


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
    features = _checked_features(features, "UMAP")
    _stop_if_asked(should_stop)
    _report(progress, 0.0)
    if len(features) >= UMAP_SAMPLE_FROM:
        return _sampled_umap(features, seed, n_neighbors, min_dist, progress, should_stop)
    umap = _import_umap()

    k = umap_neighbours(len(features), n_neighbors)
    if k < n_neighbors:
        log.info("UMAP of %d points: n_neighbors lowered to %d", len(features), k)
    knn = _exact_neighbours(features, k)
    _stop_if_asked(should_stop)
    _report(progress, UMAP_NEIGHBOURS_SHARE)
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
    _report(progress, 1.0)
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
    sample_progress = (lambda f: _report(progress, UMAP_SAMPLE_SHARE * f)) if progress else None
    reference = project_umap(features[chosen], seed=seed, n_neighbors=n_neighbors,
                             min_dist=min_dist, progress=sample_progress,
                             should_stop=should_stop)  # fmt: skip
    _stop_if_asked(should_stop)
    search = NearestNeighbors(n_neighbors=UMAP_PLACING_NEIGHBOURS, n_jobs=-1).fit(features[chosen])
    distances, neighbours = search.kneighbors(features[rest])
    # A point on top of a sample point lands on it, not at infinity.
    weights = 1.0 / np.maximum(distances, 1e-6)
    out = np.empty((len(features), 2), np.float32)
    out[chosen] = reference
    out[rest] = (reference[neighbours] * weights[..., None]).sum(1) / weights.sum(1)[:, None]
    _report(progress, 1.0)
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
            _report(self.progress, _overall(self.start, int(done) / int(total)))

    def flush(self) -> None:
        pass


# -- dispatch -------------------------------------------------------------------------------------

#: Projection name → function(features, *, progress=None, should_stop=None) -> (n, 2) float32.
PROJECTION_FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "tsne": project_tsne,
    "umap": project_umap,
}


def compute_projection(
    name: str,
    features: np.ndarray,
    *,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> np.ndarray:
    """The ``name`` map of ``features`` with its default parameters and seed.

    Parameters
    ----------
    name : str
        A key of :data:`PROJECTION_FUNCTIONS`.
    features : np.ndarray, shape (n, d), float
        Usually :func:`projection_input`.

    Returns
    -------
    np.ndarray, shape (n, 2), float32

    Raises
    ------
    ProjectionError
        For an unknown name or unusable features.
    ProjectionCancelled
        When ``should_stop`` returned True.
    """
    return _check_name(name)(features, progress=progress, should_stop=should_stop)


def _check_name(name: str) -> Callable[..., np.ndarray]:
    try:
        return PROJECTION_FUNCTIONS[name]
    except KeyError:
        raise ProjectionError(
            f"unknown projection {name!r}; choose one of: {', '.join(PROJECTION_FUNCTIONS)}"
        ) from None


def _checked_features(features: np.ndarray, label: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2:
        raise ProjectionError(f"{label} needs a 2-D array of features, got shape {features.shape}")
    if len(features) < MIN_POINTS:
        raise ProjectionError(
            f"{label} needs at least {MIN_POINTS} segments to draw a map, got {len(features)}; "
            "select more segments (or tracks), or use PCA for a handful of points"
        )
    if not np.isfinite(features).all():
        raise ProjectionError(
            f"{label} cannot map non-finite features (NaN or infinity); "
            "re-extract the collection to rebuild the segment tables"
        )
    return np.ascontiguousarray(features)


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(float(fraction))


def _overall(start: float, fraction: float) -> float:
    """``fraction`` of the way from ``start`` to 1, held below 1 until the result exists."""
    return min(0.99, start + (1 - start) * fraction)


def _stop_if_asked(should_stop: ShouldStop | None) -> None:
    if should_stop is not None and should_stop():
        raise ProjectionCancelled("projection was cancelled")


# -- numba compile cache --------------------------------------------------------------------------

_warm = False
_umap_caching_enabled = False


def numba_cache_path(cache_dir: Path) -> Path:
    """Where numba's compiled code goes under ``cache_dir``: one folder per library versions.

    numba checks a cached function against its own source file only, so a cached umap function
    could keep inlined code of an older pynndescent; a folder per version set avoids that.
    """
    versions = "-".join(
        f"{package}{_version(package)}" for package in ("numba", "umap-learn", "pynndescent")
    )
    return Path(cache_dir) / versions


def configure_numba_cache(cache_dir: Path) -> Path:
    """Keep numba's compiled code in ``cache_dir`` for this process and the ones it starts.

    Call at app start, before anything imports umap: functions decorated before this still
    use numba's default cache location. Returns the folder used (:func:`numba_cache_path`).
    """
    path = numba_cache_path(cache_dir)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    if "numba" in sys.modules:
        import numba

        numba.config.CACHE_DIR = str(path)
    if "umap" in sys.modules:
        log.warning("umap was imported before configure_numba_cache; its cache stays elsewhere")
    return path


def warm_up(cache_dir: Path) -> None:
    """Fill numba's disk cache with UMAP's compiled code by mapping a few hundred points.

    A fresh process then loads instead of compiling (docs/projections.md has the timings).
    Also runs a tiny t-SNE so its libraries are loaded. Cheap when called again in the same
    process. Never run it in the Dash server process itself: numba's OpenMP threads make the
    forked background jobs abort (use :func:`start_warm_up`).
    """
    global _warm
    configure_numba_cache(cache_dir)
    if _warm:
        return
    features = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    project_umap(features)
    project_tsne(features)
    _warm = True


def start_warm_up(cache_dir: Path) -> subprocess.Popen[bytes]:
    """Run :func:`warm_up` in a separate process (so the server never touches numba)."""
    code = "import sys; from pathlib import Path; "
    code += "from explore_dash.maps.projections import warm_up; "
    code += "warm_up(Path(sys.argv[1]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, str(cache_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Low priority: at start-up the extraction (the user's first map) comes first.
        preexec_fn=lambda: os.nice(10),
    )


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


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "0"
