"""PCA / STD-PCA columns: correctness against numpy SVD, determinism, degenerate inputs."""

from __future__ import annotations

import numpy as np

from extraction.pca import PCA_COMPONENTS, fit_basis, pca_columns, project


def clustered(n: int = 500, dims: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.linspace(5, 0.1, dims)
    return (rng.normal(size=(n, dims)) * scales + rng.normal(size=dims) * 3).astype(np.float32)


def test_pca001_pca_matches_svd_up_to_sign():
    x = clustered()
    basis = fit_basis(x, n_components=5)
    centered = x.astype(np.float64) - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    for got, want in zip(basis.components, vt[:5], strict=True):
        assert abs(abs(got @ want) - 1) < 1e-6


def test_pca002_projection_variances_decrease_and_columns_are_padded():
    x = clustered(dims=6)
    pca, std_pca = pca_columns(x)
    assert pca.shape == std_pca.shape == (len(x), PCA_COMPONENTS)
    variances = pca.var(axis=0)
    assert np.all(np.diff(variances[:6]) <= 1e-6)
    assert np.all(pca[:, 6:] == 0)


def test_pca003_signs_are_deterministic_under_row_order():
    x = clustered()
    a = project(x, fit_basis(x))
    order = np.random.default_rng(1).permutation(len(x))
    b = project(x, fit_basis(x[order]))
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_pca004_std_pca_ignores_scale_and_zero_variance_dimensions():
    x = clustered(dims=8)
    scaled = x * np.array([1, 1000, 1, 1, 1, 1, 1, 1], dtype=np.float32)
    constant = np.hstack([x, np.full((len(x), 1), 7.0, np.float32)])
    _, std_a = pca_columns(x)
    _, std_b = pca_columns(scaled)
    _, std_c = pca_columns(constant)
    np.testing.assert_allclose(std_a, std_b, atol=1e-3)
    np.testing.assert_allclose(std_a, std_c, atol=1e-4)
    assert np.isfinite(std_c).all()


def test_pca005_degenerate_inputs_give_zeros_not_errors():
    one = np.ones((1, 10), np.float32)
    pca, std_pca = pca_columns(one)
    assert pca.shape == (1, PCA_COMPONENTS) and not pca.any() and not std_pca.any()
    same = np.ones((5, 10), np.float32)
    pca, std_pca = pca_columns(same)
    assert not pca.any() and not std_pca.any()
