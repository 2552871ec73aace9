"""Cold t-SNE and UMAP at 100,000 segments, in a fresh process each, with trustworthiness.

    python benchmarks/large_maps.py [--n 100000] [--variants tsne,umap,umap-parallel]

Synthetic clustered segments (benchmarks/projections.py: 200-dim Gaussian clusters reduced to
32 principal components). Each variant runs in its own fresh process, as a panel's background
job does, with numba's disk cache already filled (as after the app's warm-up):

- ``tsne``, ``umap``: what the app computes (``maps.projections.compute_projection``);
- ``umap-parallel``: umap-learn without a seed, so its numba code uses every core;
- ``umap-twice``: the app's UMAP twice in one process, the second time without compiling;
- ``umap-whole``: umap-learn on the whole set as the app ran it before it mapped a sample
  (pynndescent's neighbours, 60 epochs, seeded).

Trustworthiness (k = 10) is measured on a 5,000-point sample (the whole set needs n² memory).
Targets (issue "Large collections", 2 cores): UMAP <= 30 s, t-SNE <= 60 s, trustworthiness
>= 0.95.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def one(n: int, variant: str, numba_cache: Path) -> dict:
    from explore_dash.maps.numba_cache import configure_numba_cache

    configure_numba_cache(numba_cache)
    from sklearn.manifold import trustworthiness

    from benchmarks.projections import clustered_features
    from explore_dash.maps.projections import compute_projection

    features = clustered_features(n)
    sample = np.random.default_rng(1).choice(n, min(n, 5000), replace=False)
    times = []
    for _ in range(2 if variant == "umap-twice" else 1):
        start = time.perf_counter()
        if variant == "umap-parallel":
            import umap

            coordinates = umap.UMAP(n_neighbors=15, n_epochs=100, low_memory=True,
                                    n_jobs=-1).fit_transform(features)  # fmt: skip
        elif variant == "umap-whole":
            import umap

            coordinates = umap.UMAP(n_neighbors=15, n_epochs=60, random_state=0,
                                    n_jobs=1).fit_transform(features)  # fmt: skip
        else:
            coordinates = compute_projection(variant.split("-")[0], features)
        times.append(round(time.perf_counter() - start, 1))
    trust = trustworthiness(features[sample], np.asarray(coordinates)[sample], n_neighbors=10)
    return {"variant": variant, "n": n, "seconds": times, "trustworthiness": round(float(trust), 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--variants", default="tsne,umap,umap-whole,umap-twice")
    parser.add_argument("--numba-cache", type=Path, default=Path("/tmp/explore-dash-numba"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one(args.n, args.child, args.numba_cache)))
        return 0
    results = []
    for variant in args.variants.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--n", str(args.n), "--child", variant,
             "--numba-cache", str(args.numba_cache)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
