"""What a t-SNE or UMAP run shares: the callables it takes (progress, cancellation), its errors,
the check of its input and the size from which both run shorter (:mod:`explore_dash.maps.tsne`,
:mod:`explore_dash.maps.umap`; :mod:`explore_dash.maps.projections` dispatches to them).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Reports progress in [0, 1]; called with increasing values, last with 1.0.
Progress = Callable[[float], None]
#: Polled during a computation; returning True stops it with :class:`ProjectionCancelled`.
ShouldStop = Callable[[], bool]

#: Fewer segments than this make no map worth drawing (UMAP's spectral start fails below 4).
MIN_POINTS = 5
#: t-SNE runs 250 exaggerated iterations, then 500 more (openTSNE's defaults) on fewer than
#: :data:`SHORT_RUNS_FROM` points and 300 from there. UMAP runs umap-learn's default epochs (500
#: up to 10k points, 200 above) below that size and 100 from there. On 50k clustered points the
#: shorter runs cut t-SNE from 62.7 to 46.5 s and UMAP from 38.1 to 21.6 s, for trustworthiness
#: (k = 10, 5k-point sample) 0.9845 against 0.9847 and 0.9801 against 0.9807 (docs/projections.md).
SHORT_RUNS_FROM = 20_000


class ProjectionError(ValueError):
    """A projection cannot be computed for these points; the message says what to change."""


class ProjectionCancelled(Exception):
    """``should_stop`` asked a projection to stop; nothing was computed (not a failure)."""


def checked_features(features: np.ndarray, label: str) -> np.ndarray:
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


def report_progress(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(float(fraction))


def overall_progress(start: float, fraction: float) -> float:
    """``fraction`` of the way from ``start`` to 1, held below 1 until the result exists."""
    return min(0.99, start + (1 - start) * fraction)


def stop_if_asked(should_stop: ShouldStop | None) -> None:
    if should_stop is not None and should_stop():
        raise ProjectionCancelled("projection was cancelled")
