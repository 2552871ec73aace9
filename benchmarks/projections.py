"""t-SNE and UMAP speed, numba's compile cache, and which features to map.

    python benchmarks/projections.py speed [--sizes 10000 50000 100000] [--repeats 3]
                                           [--json projections-speed.json]
    python benchmarks/projections.py inputs --data DATA_FOLDER [--json projections-inputs.json]

``speed`` times each projection in fresh processes, as Dash background jobs run: "cold" with an
empty numba cache, "warm" with the cache filled by the cold run, and "cached" reading the stored
map back through ProjectionCache. Data: synthetic, 200-dimensional Gaussian clusters reduced to
their first 32 principal components, like the stored ``pca`` column the app maps. It also times
``warm_up`` on an empty and on a filled cache. Targets at 50k on 2 cores: UMAP <= 30 s and
t-SNE <= 60 s cold, cached <= 1 s.

``inputs`` maps every space of a real data folder from several candidate features and scores
each map by trustworthiness (k = 10) against the full network vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROJECTIONS = ("umap", "tsne")
LABELS = {"umap": "UMAP", "tsne": "t-SNE"}


# -- data -----------------------------------------------------------------------------------------


def clustered_features(n: int, dims: int = 200, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Synthetic segment vectors reduced like the stored ``pca`` column.

    Returns
    -------
    np.ndarray, shape (n, 32), float32
        First 32 principal components of ``n`` points in ``clusters`` Gaussian clusters of
        uneven size and spread in ``dims`` dimensions.
    """
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(clusters, dims))
    weights = rng.dirichlet(np.ones(clusters))
    labels = rng.choice(clusters, size=n, p=weights)
    spread = rng.uniform(0.5, 2.0, size=clusters)
    vectors = centers[labels] + rng.normal(size=(n, dims)) * spread[labels, None]
    return PCA(n_components=32, random_state=0).fit_transform(vectors).astype(np.float32)


# -- child processes ------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """One measurement in this fresh process; prints a JSON object on the last line."""
    from explore_dash.maps.numba_cache import configure_numba_cache

    # Before anything imports umap, as the app does at start.
    configure_numba_cache(Path(args.numba_cache))
    if args.mode == "warm_up":
        start = time.perf_counter()
        from explore_dash.maps.numba_cache import warm_up

        warm_up(Path(args.numba_cache))
        print(json.dumps({"seconds": time.perf_counter() - start}))
        return
    features = clustered_features(args.n)
    ids = np.arange(args.n, dtype=np.int64) * 7
    start = time.perf_counter()
    from explore_dash.maps.cache import ProjectionCache
    from explore_dash.maps.projections import compute_projection

    cache = ProjectionCache(Path(args.result_cache))
    key = cache.key("synthetic", "clusters", args.projection, ids, {"seed": 0}, 1)
    if args.mode == "cached":
        stored = cache.get(key)
        if stored is None:
            raise SystemExit("nothing cached; run a compute first")
        coordinates = stored.aligned_to(ids)
    else:
        # With progress and cancellation hooks, as the app's background jobs run it.
        coordinates = compute_projection(
            args.projection, features, progress=lambda fraction: None, should_stop=lambda: False
        )
        cache.set(key, ids, coordinates)
    seconds = time.perf_counter() - start
    assert coordinates.shape == (args.n, 2)
    print(json.dumps({"seconds": seconds, "computations": cache.computations}))


def run_child(*options: str) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "_child", *options],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"child {options} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- speed ----------------------------------------------------------------------------------------


def speed(args: argparse.Namespace) -> dict:
    results: dict = {"machine": machine(), "sizes": {}, "warm_up": {}}
    with tempfile.TemporaryDirectory(prefix="projections-bench-") as scratch:
        scratch_path = Path(scratch)
        warm_up_cache = str(scratch_path / "numba-warm-up")
        results["warm_up"]["cold"] = run_child("--mode", "warm_up", "--numba-cache", warm_up_cache)
        results["warm_up"]["warm"] = run_child("--mode", "warm_up", "--numba-cache", warm_up_cache)
        print(
            f"warm_up: {results['warm_up']['cold']['seconds']:.1f} s on an empty numba cache, "
            f"{results['warm_up']['warm']['seconds']:.1f} s on a filled one",
            flush=True,
        )
        print(
            f"{'projection':<10} {'points':>7} {'cold s':>8} {'warm s':>8} {'cached s':>9} "
            f"{'load':>9}"
        )
        for n in args.sizes:
            for projection in args.projections:
                row = measure(projection, n, args.repeats, scratch_path)
                results["sizes"].setdefault(str(n), {})[projection] = row
                print(
                    f"{LABELS[projection]:<10} {n:>7} {row['cold']:>8.1f} "
                    f"{row['warm_median']:>8.1f} {row['cached_median']:>9.2f} "
                    f"{row['load_average'][0]:>4.1f}-{row['load_average'][1]:<4.1f}",
                    flush=True,
                )
    return results


def measure(projection: str, n: int, repeats: int, scratch: Path) -> dict:
    """Cold, warm (median of ``repeats``) and cached seconds for one projection and size."""
    load_before = os.getloadavg()[0]
    numba_cache = scratch / f"numba-{projection}-{n}"
    result_cache = scratch / f"results-{projection}-{n}"
    common = ["--projection", projection, "--n", str(n), "--result-cache", str(result_cache)]
    cold = run_child("--mode", "compute", "--numba-cache", str(numba_cache), *common)
    warm = [
        run_child("--mode", "compute", "--numba-cache", str(numba_cache), *common)["seconds"]
        for _ in range(repeats)
    ]
    cached = [
        run_child("--mode", "cached", "--numba-cache", str(numba_cache), *common)
        for _ in range(max(repeats, 3))
    ]
    return {
        "cold": cold["seconds"],
        "warm": warm,
        "warm_median": statistics.median(warm),
        "cached": [c["seconds"] for c in cached],
        "cached_median": statistics.median(c["seconds"] for c in cached),
        # Every compute stored one map; reads stored none.
        "computations_after": cached[-1]["computations"],
        # Other work on the machine slows everything: 1-minute load before and after.
        "load_average": [load_before, os.getloadavg()[0]],
    }


def machine() -> dict:
    from importlib import metadata

    packages = ("numpy", "scikit-learn", "umap-learn", "pynndescent", "numba", "openTSNE")
    return {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "versions": {package: metadata.version(package) for package in packages},
    }


# -- inputs ---------------------------------------------------------------------------------------

#: Candidate features: name → function(space, rows) -> (n, d) float32.
CANDIDATES = {
    "pca[:8]": lambda space: space.pca[:, :8],
    "pca[:16]": lambda space: space.pca[:, :16],
    "pca (32)": lambda space: space.pca,
    "std_pca (32)": lambda space: space.std_pca,
    "vector (all)": lambda space: space.vector,
}


def inputs(args: argparse.Namespace) -> dict:
    from sklearn.manifold import trustworthiness

    from explore_dash.data.collection import Collection
    from explore_dash.maps.numba_cache import configure_numba_cache
    from explore_dash.maps.projections import compute_projection

    configure_numba_cache(Path(tempfile.gettempdir()) / "explore-dash-bench-numba")
    collection = Collection.load(Path(args.data))
    spaces = [collection.space(model, layer) for model, layer in collection.available_spaces()]
    # Compile once outside the timings.
    compute_projection("umap", np.random.default_rng(0).normal(size=(300, 8)))
    results: dict = {"data": str(args.data), "spaces": {}, "summary": {}}
    for space in spaces:
        name = f"{space.model}/{space.layer}"
        vectors = space.vector
        rows = np.arange(len(space))
        if len(rows) > args.max_points:
            rows = np.sort(np.random.default_rng(0).choice(len(rows), args.max_points, False))
        reference = vectors[rows]
        entry = {"points": len(rows), "dims": vectors.shape[1]}
        entry["pca first 2"] = {"trustworthiness": trustworthiness(reference, space.pca[rows, :2])}
        for candidate, features_of in CANDIDATES.items():
            features = np.ascontiguousarray(features_of(space)[rows], dtype=np.float32)
            for projection in args.projections:
                start = time.perf_counter()
                coordinates = compute_projection(projection, features)
                seconds = time.perf_counter() - start
                score = trustworthiness(reference, coordinates, n_neighbors=10)
                entry.setdefault(candidate, {})[projection] = {
                    "trustworthiness": score,
                    "seconds": seconds,
                }
        results["spaces"][name] = entry
        print(name, json.dumps(entry), flush=True)
    summarize_inputs(results, args.projections)
    return results


def summarize_inputs(results: dict, projections: list[str]) -> None:
    spaces = results["spaces"].values()
    total = sum(entry["points"] for entry in spaces)
    print(f"\n{len(results['spaces'])} spaces, {total} points; mean trustworthiness, total seconds")
    header = "".join(f" {LABELS[p] + ' T':>9} {LABELS[p] + ' s':>9}" for p in projections)
    print(f"{'input':<14}{header}")
    pca2 = statistics.mean(entry["pca first 2"]["trustworthiness"] for entry in spaces)
    results["summary"]["pca first 2"] = {"trustworthiness": pca2}
    for candidate in CANDIDATES:
        line = f"{candidate:<14}"
        summary = {}
        for projection in projections:
            scores = [entry[candidate][projection]["trustworthiness"] for entry in spaces]
            seconds = sum(entry[candidate][projection]["seconds"] for entry in spaces)
            summary[projection] = {
                "trustworthiness_mean": statistics.mean(scores),
                "trustworthiness_min": min(scores),
                "seconds_total": seconds,
            }
            line += f" {statistics.mean(scores):>9.4f} {seconds:>9.1f}"
        results["summary"][candidate] = summary
        print(line)
    print(f"(PCA, first 2 components, for reference: {pca2:.4f})")


# -- command line ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    speed_parser = commands.add_parser("speed", help="cold / warm / cached timings")
    speed_parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    speed_parser.add_argument("--repeats", type=int, default=1, help="warm runs per size")
    speed_parser.add_argument("--projections", nargs="+", default=list(PROJECTIONS))
    speed_parser.add_argument("--json", type=Path, default=Path("projections-speed.json"))
    inputs_parser = commands.add_parser("inputs", help="trustworthiness of candidate features")
    inputs_parser.add_argument("--data", type=Path, required=True)
    inputs_parser.add_argument("--max-points", type=int, default=20_000)
    inputs_parser.add_argument("--projections", nargs="+", default=list(PROJECTIONS))
    inputs_parser.add_argument("--json", type=Path, default=Path("projections-inputs.json"))
    child_parser = commands.add_parser("_child")
    child_parser.add_argument("--mode", choices=["compute", "cached", "warm_up"], required=True)
    child_parser.add_argument("--projection", choices=PROJECTIONS)
    child_parser.add_argument("--n", type=int)
    child_parser.add_argument("--numba-cache", required=True)
    child_parser.add_argument("--result-cache")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "_child":
        child(args)
        return
    results = speed(args) if args.command == "speed" else inputs(args)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
