"""t-SNE and UMAP maps: shapes, seeds, small selections, progress, cancellation, the disk cache."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from explore_dash.data.collection import Space
from explore_dash.maps.cache import ProjectionCache, cached_map, store_map
from explore_dash.maps.numba_cache import configure_numba_cache, numba_cache_dir, numba_cache_path
from explore_dash.maps.projection_run import MIN_POINTS, ProjectionCancelled, ProjectionError
from explore_dash.maps.projections import (
    INPUT_COMPONENTS,
    PROJECTION_FUNCTIONS,
    compute_projection,
    projection_input,
)
from explore_dash.maps.tsne import tsne_iterations, tsne_perplexity
from explore_dash.maps.umap import umap_epochs, umap_neighbours
from tests.support.paths import REPO

N_POINTS = 300


def clustered(n: int = N_POINTS, dims: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` points in 4 Gaussian clusters, shape (n, dims), float32."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=5.0, size=(4, dims))
    return (centers[np.arange(n) % 4] + rng.normal(size=(n, dims))).astype(np.float32)


@pytest.fixture(scope="module", params=sorted(PROJECTION_FUNCTIONS))
def mapped(request):
    """One projection of the clustered points, run twice: (name, first map, second, progress)."""
    name = request.param
    features = clustered()
    reports: list[float] = []
    first = compute_projection(name, features, progress=reports.append)
    second = compute_projection(name, features)
    return name, first, second, reports


# -- maps -----------------------------------------------------------------------------------------


def test_projections001_maps_have_one_finite_float32_point_per_segment(mapped):
    _, first, _, _ = mapped
    assert first.shape == (N_POINTS, 2)
    assert first.dtype == np.float32
    assert np.isfinite(first).all()
    assert first.flags.c_contiguous


def test_projections002_same_seed_gives_the_same_map(mapped):
    _, first, second, _ = mapped
    np.testing.assert_array_equal(first, second)


def test_projections003_progress_rises_from_zero_to_one(mapped):
    name, _, _, reports = mapped
    assert reports[0] == 0.0
    assert reports[-1] == 1.0
    assert all(0.0 <= value <= 1.0 for value in reports)
    assert all(a <= b for a, b in zip(reports, reports[1:], strict=False))
    # More than start and end: a UI can show the optimisation advancing.
    assert len(set(reports)) > 3, f"{name} reported only {sorted(set(reports))}"


def test_projections004_maps_keep_clusters_apart(mapped):
    _, first, _, _ = mapped
    labels = np.arange(N_POINTS) % 4
    centroids = np.array([first[labels == c].mean(axis=0) for c in range(4)])
    spread = max(np.linalg.norm(first[labels == c] - centroids[c], axis=1).mean() for c in range(4))
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(4) for b in range(a + 1, 4)]
    assert min(gaps) > 2 * spread


@pytest.mark.parametrize("name", sorted(PROJECTION_FUNCTIONS))
def test_projections005_small_selections_get_a_map_with_fewer_neighbours(name):
    coordinates = compute_projection(name, clustered(12))
    assert coordinates.shape == (12, 2)
    assert np.isfinite(coordinates).all()


def test_projections006_neighbourhoods_shrink_only_for_small_selections():
    assert tsne_perplexity(10_000) == 30.0
    assert tsne_perplexity(91) == 30.0
    assert tsne_perplexity(31) == 10.0
    assert umap_neighbours(10_000) == 15
    assert umap_neighbours(8) == 7


def test_projections007_large_maps_run_shorter_optimisations():
    assert tsne_iterations(19_999) == 500
    assert tsne_iterations(20_000) == 300
    assert umap_epochs(19_999) is None  # umap-learn's own: 500 up to 10k points, 200 above
    assert umap_epochs(50_000) == 100
    assert umap_epochs(100_000) == 100  # (from 50k, for the sample: see projections024)


@pytest.mark.parametrize(
    ("name", "library", "class_name", "argument", "short"),
    [("tsne", "openTSNE", "TSNE", "n_iter", 300), ("umap", "umap", "UMAP", "n_epochs", 100)],
)
def test_projections008_the_shorter_optimisation_reaches_the_library_and_progress(
    monkeypatch, name, library, class_name, argument, short
):
    """Above the size threshold (lowered here) the library is asked for fewer iterations, and
    progress still climbs steadily to 1 over the shorter run."""
    import importlib

    from explore_dash.maps import tsne, umap

    module = importlib.import_module(library)
    original = getattr(module, class_name)
    seen: list = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get(argument))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, class_name, spy)
    # Each algorithm's module reads the shared threshold (projection_run.SHORT_RUNS_FROM).
    monkeypatch.setattr({"tsne": tsne, "umap": umap}[name], "SHORT_RUNS_FROM", N_POINTS)
    reports: list[float] = []
    coordinates = compute_projection(name, clustered(), progress=reports.append)
    assert seen == [short]
    assert coordinates.shape == (N_POINTS, 2)
    assert reports[-1] == 1.0
    # Progress is scaled to the shorter run: the last optimisation report before the end is
    # close to done, not stuck at 300 / 750 of the way.
    assert max(value for value in reports if value < 1.0) > 0.9


@pytest.mark.parametrize("name", sorted(PROJECTION_FUNCTIONS))
def test_projections009_too_few_points_raise_an_actionable_error(name):
    with pytest.raises(ProjectionError, match=f"at least {MIN_POINTS} segments.*select more"):
        compute_projection(name, clustered(MIN_POINTS - 1))


@pytest.mark.parametrize("name", sorted(PROJECTION_FUNCTIONS))
def test_projections010_non_finite_features_are_refused(name):
    features = clustered(20)
    features[3, 2] = np.nan
    with pytest.raises(ProjectionError, match="non-finite"):
        compute_projection(name, features)


def test_projections011_unknown_projection_names_the_known_ones():
    with pytest.raises(ProjectionError, match="unknown projection 'pca3d'.*tsne.*umap"):
        compute_projection("pca3d", clustered(20))


# -- cancellation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROJECTION_FUNCTIONS))
def test_projections012_should_stop_cancels_during_the_optimisation(name):
    polls = 0
    reports: list[float] = []

    def stop_on_third_poll() -> bool:
        nonlocal polls
        polls += 1
        return polls >= 3

    with pytest.raises(ProjectionCancelled):
        compute_projection(
            name, clustered(), progress=reports.append, should_stop=stop_on_third_poll
        )
    assert polls == 3
    assert 1.0 not in reports


@pytest.mark.parametrize("name", sorted(PROJECTION_FUNCTIONS))
def test_projections013_should_stop_before_starting_computes_nothing(name):
    reports: list[float] = []
    with pytest.raises(ProjectionCancelled):
        compute_projection(name, clustered(), progress=reports.append, should_stop=lambda: True)
    assert reports == []


# -- inputs ---------------------------------------------------------------------------------------


def make_space(n: int = 10) -> Space:
    rng = np.random.default_rng(1)
    return Space(
        "musicnn-msd",
        "embedding",
        np.arange(n, dtype=np.int64),
        np.zeros(n, np.int32),
        np.arange(n, dtype=np.float32) * 2.992,
        rng.normal(size=(n, 32)).astype(np.float32),
        rng.normal(size=(n, 32)).astype(np.float32),
        _vector=rng.normal(size=(n, 200)).astype(np.float32),
    )


@pytest.mark.parametrize("name", sorted(PROJECTION_FUNCTIONS))
def test_projections014_projection_input_takes_the_stored_components_of_the_rows(name):
    space = make_space()
    everything = projection_input(space, None, name)
    assert everything.shape == (10, INPUT_COMPONENTS)
    assert everything.dtype == np.float32 and everything.flags.c_contiguous
    np.testing.assert_array_equal(everything, space.pca[:, :INPUT_COMPONENTS])
    mask = np.arange(10) % 3 == 0
    np.testing.assert_array_equal(projection_input(space, mask, name), everything[mask])
    indices = np.array([7, 2])
    np.testing.assert_array_equal(projection_input(space, indices, name), everything[indices])


def test_projections015_projection_input_refuses_unknown_projections():
    with pytest.raises(ProjectionError, match="unknown projection"):
        projection_input(make_space(), None, "mds")


# -- cache ----------------------------------------------------------------------------------------

IDS = np.array([5, 1, 9, 65536], dtype=np.int64)
PARAMS = {"seed": 0, "perplexity": 30.0}


def test_projections016_cache_key_ignores_id_order_and_dtype():
    key = ProjectionCache.key("vgg-msd", "embedding", "tsne", IDS, PARAMS, 3)
    shuffled = IDS[[2, 0, 3, 1]].astype(np.int32)
    assert ProjectionCache.key("vgg-msd", "embedding", "tsne", shuffled, dict(PARAMS), 3) == key
    reordered_params = {"perplexity": 30.0, "seed": 0}
    assert ProjectionCache.key("vgg-msd", "embedding", "tsne", IDS, reordered_params, 3) == key


@pytest.mark.parametrize(
    "change",
    [
        {"model": "vgg-mtt"},
        {"layer": "taggram"},
        {"projection": "umap"},
        {"segment_ids": IDS[:3]},
        {"segment_ids": np.append(IDS, 10)},
        {"params": {"seed": 1, "perplexity": 30.0}},
        {"params": {"seed": 0}},
        {"data_version": 4},
    ],
    ids=lambda change: next(iter(change)),
)
def test_projections017_cache_key_changes_with_everything_a_map_depends_on(change):
    base = {
        "model": "vgg-msd",
        "layer": "embedding",
        "projection": "tsne",
        "segment_ids": IDS,
        "params": PARAMS,
        "data_version": 3,
    }
    assert ProjectionCache.key(**base) != ProjectionCache.key(**{**base, **change})


def test_projections018_cache_round_trip_and_counter_survive_a_new_instance(tmp_path):
    coordinates = np.arange(8, dtype=np.float64).reshape(4, 2)
    key = ProjectionCache.key("vgg-msd", "embedding", "tsne", IDS, PARAMS, 3)
    first = ProjectionCache(tmp_path)
    assert first.get(key) is None
    assert first.computations == 0
    first.set(key, IDS, coordinates)
    first.close()

    again = ProjectionCache(tmp_path)
    stored = again.get(key)
    assert stored is not None
    np.testing.assert_array_equal(stored.segment_ids, IDS)
    assert stored.coordinates.dtype == np.float32
    np.testing.assert_array_equal(stored.coordinates, coordinates)
    np.testing.assert_array_equal(stored.aligned_to(IDS[::-1]), coordinates[::-1])
    with pytest.raises(KeyError):
        stored.aligned_to(np.array([5, 2]))
    assert again.computations == 1


def test_projections019_stored_maps_come_back_in_any_order_and_in_another_process(tmp_path):
    key = ProjectionCache.key("vgg-msd", "embedding", "umap", IDS, PARAMS, 3)
    assert cached_map(tmp_path, key, IDS) is None
    coordinates = np.arange(8, dtype=np.float32).reshape(4, 2)
    store_map(tmp_path, key, IDS, coordinates)
    np.testing.assert_array_equal(cached_map(tmp_path, key, IDS[::-1]), coordinates[::-1])
    assert cached_map(tmp_path, key, np.array([IDS[0], 99])) is None  # not all of them
    tmp_path = tmp_path / "projections"
    # Another process (as after an app restart) sees the stored map and the count.
    script = (
        "import sys; from pathlib import Path; "
        "from explore_dash.maps.cache import ProjectionCache; "
        "cache = ProjectionCache(Path(sys.argv[1])); "
        "print(cache.computations, cache.get(sys.argv[2]) is not None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), key],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert result.stdout.split() == ["1", "True"]


def test_projections020_cache_refuses_coordinates_that_do_not_match_the_ids(tmp_path):
    with pytest.raises(ValueError, match="coordinates for 4 segment ids"):
        ProjectionCache(tmp_path).set("k", IDS, np.zeros((3, 2)))


# -- numba cache ----------------------------------------------------------------------------------


def test_projections021_tsne_never_loads_numba():
    # openTSNE's own neighbour-method choice imports pynndescent: ~30 s of numba compilation in
    # a fresh process with a cold cache.
    script = (
        "import sys, numpy as np; from explore_dash.maps.tsne import project_tsne; "
        "project_tsne(np.random.default_rng(0).normal(size=(1200, 4))); "
        "print(sorted(m for m in ('numba', 'pynndescent', 'umap') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "[]"


def test_projections022_numba_cache_goes_to_a_folder_per_library_versions(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    if "numba" in sys.modules:
        import numba

        monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    path = configure_numba_cache(tmp_path)
    assert path == numba_cache_path(tmp_path)
    assert path.parent == tmp_path and path.is_dir()
    assert "numba" in path.name and "umap-learn" in path.name and "pynndescent" in path.name
    assert os.environ["NUMBA_CACHE_DIR"] == str(path)



def test_projections025_the_app_its_warm_up_and_the_workers_share_one_numba_folder(tmp_path):
    """Under the data folder's cache/numba, where earlier versions of the app filled it."""
    assert numba_cache_dir(tmp_path) == tmp_path / "cache" / "numba"
    assert numba_cache_path(numba_cache_dir(tmp_path)).parent == tmp_path / "cache" / "numba"

def sampled_map(monkeypatch, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(features, map) of 800 clustered points, ``name``'s sample threshold lowered to 600 (a
    300-point sample), after the checks both samplers share: shape, seed, progress, the placed
    points in their own cluster, and stopping when asked."""
    from explore_dash.maps import tsne, umap

    prefix, module = {"tsne": ("TSNE", tsne), "umap": ("UMAP", umap)}[name]
    monkeypatch.setattr(module, f"{prefix}_SAMPLE_FROM", 600)
    monkeypatch.setattr(module, f"{prefix}_SAMPLE_SIZE", 300)
    features = clustered(800)
    reports: list[float] = []
    first = compute_projection(name, features, progress=reports.append)
    assert first.shape == (800, 2) and first.dtype == np.float32 and np.isfinite(first).all()
    np.testing.assert_array_equal(first, compute_projection(name, features))  # seeded
    assert reports[0] == 0.0 and reports[-1] == 1.0
    assert all(a <= b for a, b in zip(reports, reports[1:], strict=False))
    # The placed points land in their own cluster, not between clusters.
    labels = np.arange(800) % 4
    centroids = np.array([first[labels == c].mean(axis=0) for c in range(4)])
    nearest = np.argmin(((first[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == labels).mean() > 0.98
    with pytest.raises(ProjectionCancelled):
        compute_projection(name, features, should_stop=lambda: len(reports) > 0)
    return features, first


def test_projections023_large_t_sne_maps_a_sample_and_places_the_rest(monkeypatch):
    """From TSNE_SAMPLE_FROM points (50k; 600 here) a sample is mapped and the rest placed."""
    sampled_map(monkeypatch, "tsne")


def test_projections024_large_umap_maps_a_sample_and_places_the_rest(monkeypatch):
    """From UMAP_SAMPLE_FROM points (50k; 600 here) a sample is mapped and the rest placed."""
    features, first = sampled_map(monkeypatch, "umap")
    # The sample (drawn with the seed) is mapped on its own; the others are placed on that map.
    sample = np.sort(np.random.default_rng(0).choice(800, 300, replace=False))
    np.testing.assert_array_equal(first[sample], compute_projection("umap", features[sample]))
    # A point equal to a sample point lands on it.
    twin = np.vstack([features, features[sample[:1]]])
    placed = compute_projection("umap", twin)
    np.testing.assert_allclose(placed[-1], placed[sample[0]], atol=1e-3)
