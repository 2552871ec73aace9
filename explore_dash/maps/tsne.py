"""t-SNE maps (openTSNE): the whole set up to :data:`TSNE_SAMPLE_FROM` points, a sample and the
rest placed on it above. openTSNE is imported on first use, so the web process starts fast;
nothing here loads numba (see :func:`_tsne_affinities`).
"""

from __future__ import annotations

import logging
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

#: From this many points t-SNE uses every core (and FFT gradients); below, one thread: on a few
#: hundred points thread hand-offs cost more than the work (300 points: 1.4 s on 1, 8.7 s on 2).
TSNE_PARALLEL_FROM = 10_000
#: t-SNE finds its 90 neighbours exactly up to this many points, with Annoy above; exact search
#: is both faster (50k: 13 s against Annoy's 38 s; 100k: 33 s against 58 s) and deterministic.
TSNE_EXACT_NEIGHBOURS_MAX = 100_000
#: Width of openTSNE's FFT interpolation intervals: 2 instead of 1 makes the optimisation 1.7x
#: faster at 50k points for a trustworthiness lower by 0.0004.
TSNE_INTS_IN_INTERVAL = 2
#: t-SNE's iterations: 250 exaggerated, then 500 below SHORT_RUNS_FROM points and 300 from there
#: (:data:`explore_dash.maps.projection_run.SHORT_RUNS_FROM` says why).
TSNE_EXAGGERATED_ITERATIONS = 250
TSNE_ITERATIONS = 500
TSNE_SHORT_ITERATIONS = 300
TSNE_CALLBACK_EVERY = 10
#: From this many points t-SNE maps a sample of TSNE_SAMPLE_SIZE and places the rest on it
#: (:func:`_sampled_tsne`); its share of the reported progress.
TSNE_SAMPLE_FROM = 50_000
TSNE_SAMPLE_SIZE = 25_000
TSNE_SAMPLE_SHARE = 0.7
#: Rough share of a run spent finding neighbours, before the first optimisation report (from 5%
#: at 10k points to 20-30% at 50k), so reported progress follows time more than iterations.
TSNE_NEIGHBOURS_SHARE = 0.15


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
    features = checked_features(features, "t-SNE")
    stop_if_asked(should_stop)
    report_progress(progress, 0.0)
    from openTSNE import TSNE

    n_points = len(features)
    effective = tsne_perplexity(n_points, perplexity)
    if effective < perplexity:
        log.info("t-SNE of %d points: perplexity lowered to %.1f", n_points, effective)
    n_jobs = -1 if n_points >= TSNE_PARALLEL_FROM else 1
    if n_points >= TSNE_SAMPLE_FROM:
        return _sampled_tsne(features, seed, effective, progress, should_stop)
    affinities = _tsne_affinities(features, effective, seed, n_jobs)
    stop_if_asked(should_stop)
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
    report_progress(progress, 1.0)
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
        report_progress(progress, reached[0])

    reference = project_tsne(features[chosen], seed=seed, perplexity=perplexity,
                             progress=sample_progress if progress else None,
                             should_stop=should_stop, embedding=True)  # fmt: skip
    stop_if_asked(should_stop)
    out = np.empty((len(features), 2), np.float32)
    out[chosen] = reference
    # Placed with the sample's own settings (its neighbour index, threads and seed).
    out[rest] = reference.transform(features[rest])
    report_progress(progress, 1.0)
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
        report_progress(self.progress, overall_progress(TSNE_NEIGHBOURS_SHARE, done))
        return False
