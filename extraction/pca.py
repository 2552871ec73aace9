"""PCA and standardized PCA of a whole collection's segment vectors, with deterministic signs.

Fit through the covariance matrix in float64, accumulated in chunks: exact (no randomized solver),
bounded in memory for hundreds of thousands of segments, and reproducible to the bit for the
same input, so a map never flips or wobbles between two runs on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The stored ``pca`` and ``std_pca`` columns are PCA_COMPONENTS wide, zero-padded when fewer exist.
from extraction.contract import PCA_COMPONENTS

_CHUNK_ROWS = 65_536
_MIN_STD = 1e-8


@dataclass(frozen=True)
class PcaBasis:
    """A fitted principal basis.

    Attributes
    ----------
    mean : np.ndarray, shape (n_dims,), float64
    scale : np.ndarray, shape (n_dims,), float64
        Divisor applied after centering (ones for plain PCA, per-dimension std for STD-PCA;
        ``inf`` for dropped zero-variance dimensions so they contribute nothing).
    components : np.ndarray, shape (n_components, n_dims), float64
        Unit-norm principal axes, by decreasing variance.
    """

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray


def _column_mean(vectors: np.ndarray) -> np.ndarray:
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for start in range(0, len(vectors), _CHUNK_ROWS):
        total += vectors[start : start + _CHUNK_ROWS].sum(axis=0, dtype=np.float64)
    return total / max(len(vectors), 1)


def _scatter(vectors: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    scatter = np.zeros((vectors.shape[1], vectors.shape[1]), dtype=np.float64)
    for start in range(0, len(vectors), _CHUNK_ROWS):
        block = (vectors[start : start + _CHUNK_ROWS].astype(np.float64) - mean) / scale
        scatter += block.T @ block
    return scatter


def orient_components(components: np.ndarray) -> np.ndarray:
    """Flip each axis so its largest-magnitude loading is positive (a sign convention).

    Parameters
    ----------
    components : np.ndarray, shape (n_components, n_dims)
    """
    if components.size == 0:
        return components
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def fit_basis(
    vectors: np.ndarray, *, standardize: bool = False, n_components: int = PCA_COMPONENTS
) -> PcaBasis:
    """Fit PCA (or STD-PCA) on every row of ``vectors``.

    Parameters
    ----------
    vectors : np.ndarray, shape (n_segments, n_dims), float32
    standardize : bool
        z-score each dimension over the collection first; zero-variance dimensions are skipped.
    n_components : int
        Upper bound; fewer are returned when rank or sample count is lower.

    Returns
    -------
    PcaBasis
    """
    n_segments, n_dims = vectors.shape
    mean = _column_mean(vectors)
    scale = np.ones(n_dims, dtype=np.float64)
    if n_segments < 2:
        return PcaBasis(mean, scale, np.zeros((0, n_dims)))
    if standardize:
        variance = np.diag(_scatter(vectors, mean, scale)) / (n_segments - 1)
        std = np.sqrt(variance)
        scale = np.where(std > _MIN_STD, std, np.inf)
    covariance = _scatter(vectors, mean, scale) / (n_segments - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    rank = min(n_components, n_segments - 1, n_dims)
    keep = [i for i in order[:rank] if eigenvalues[i] > 1e-12 * max(eigenvalues.max(), 1e-300)]
    return PcaBasis(mean, scale, orient_components(eigenvectors[:, keep].T))


def project(vectors: np.ndarray, basis: PcaBasis, width: int = PCA_COMPONENTS) -> np.ndarray:
    """Coordinates of ``vectors`` on ``basis``, zero-padded to ``width`` columns.

    Parameters
    ----------
    vectors : np.ndarray, shape (n_segments, n_dims)

    Returns
    -------
    np.ndarray, shape (n_segments, width), float32
    """
    out = np.zeros((len(vectors), width), dtype=np.float32)
    k = min(width, len(basis.components))
    if k == 0:
        return out
    axes = basis.components[:k].T
    for start in range(0, len(vectors), _CHUNK_ROWS):
        block = (vectors[start : start + _CHUNK_ROWS].astype(np.float64) - basis.mean) / basis.scale
        out[start : start + _CHUNK_ROWS, :k] = block @ axes
    return out


def pca_columns(vectors: np.ndarray, width: int = PCA_COMPONENTS) -> tuple[np.ndarray, np.ndarray]:
    """The stored ``pca`` and ``std_pca`` columns of one (model, layer).

    Parameters
    ----------
    vectors : np.ndarray, shape (n_segments, n_dims), float32

    Returns
    -------
    pca, std_pca : np.ndarray, shape (n_segments, width), float32
    """
    plain = project(vectors, fit_basis(vectors, n_components=width), width)
    standardized = project(vectors, fit_basis(vectors, standardize=True, n_components=width), width)
    return plain, standardized


def matching_signs(coordinates: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-axis signs that turn ``coordinates`` to agree with ``reference`` on the same rows.

    A refit on a grown collection finds nearly the same axes, but an eigensolver's sign (and
    the loading convention of :func:`orient_components`) can flip between fits: the map would
    mirror itself while the user watches it grow. Flipping each new axis to correlate
    positively with the previous coordinates of the segments both fits share keeps it steady.

    Parameters
    ----------
    coordinates : np.ndarray, shape (n_shared, width)
        New coordinates of the shared segments.
    reference : np.ndarray, shape (n_shared, width)
        Their previous coordinates.

    Returns
    -------
    np.ndarray, shape (width,), float32
        +1 or -1 per axis (+1 where the axes do not correlate either way).
    """
    agreement = np.einsum("ij,ij->j", coordinates.astype(np.float64), reference.astype(np.float64))
    return np.where(agreement < 0, -1.0, 1.0).astype(np.float32)
