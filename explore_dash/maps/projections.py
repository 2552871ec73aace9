"""2-D maps of a space's segments: the stored PCA columns, and t-SNE and UMAP by name.

The stored projections are read from the tables; t-SNE (:mod:`explore_dash.maps.tsne`) and UMAP
(:mod:`explore_dash.maps.umap`) are computed, meant to run inside Dash background jobs, each a
fresh process: nothing here imports Dash, and openTSNE and umap-learn are imported on first use
(:mod:`explore_dash.maps.numba_cache` keeps UMAP's compiled code). Measurements behind the
choices made are in docs/projections.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from explore_dash.maps.projection_run import Progress, ProjectionError, ShouldStop
from explore_dash.maps.tsne import project_tsne
from explore_dash.maps.umap import project_umap
from extraction.contract import PCA_COMPONENTS

if TYPE_CHECKING:
    from explore_dash.data.collection import Space

#: Bumped whenever the inputs or settings of t-SNE or UMAP change the maps, so cached maps are
#: not reused.
ALGORITHM_VERSION = 4
#: Stored principal components the maps are computed from (see :func:`projection_input`).
INPUT_COMPONENTS = PCA_COMPONENTS


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
