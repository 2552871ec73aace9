"""A music selection on the whole collection's map, or a fresh map of its own: which reads better.

    python benchmarks/subset_maps.py --data DATA [--projections umap,tsne] [--json FILE]

DATA: a data folder extracted from the shared library (make-library.sh). For the MusiCNN-MSD
embedding space, the whole collection's map is computed once per projection; then for each
selection (each soundtrack, the top folders of the library; and a random quarter of the
tracks) the selection's points are

- placed where the whole map has them (what a panel shows at once), and
- mapped afresh (what *Recompute for this selection* gives),

and both are scored by trustworthiness (k = 10) against the selection's own 32 stored principal
components (the features t-SNE and UMAP run on), with the fresh map's time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explore_dash.data.snapshot import Snapshot  # noqa: E402
from explore_dash.maps.projections import compute_projection, projection_input  # noqa: E402


def main(argv=None) -> int:
    from sklearn.manifold import trustworthiness

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--projections", default="umap,tsne")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    snapshot = Snapshot.load(args.data)
    space = snapshot.collection.space("musicnn-msd", "embedding")
    track = space.track.astype(np.int64)
    folder = snapshot.tracks["path"].astype(str).str.split("/").str[0].reindex(track).to_numpy()
    rng = np.random.default_rng(0)
    quarter = rng.choice(np.unique(track), len(np.unique(track)) // 4, replace=False)
    selections = {str(name): folder == name for name in np.unique(folder)}
    selections["a random quarter of the tracks"] = np.isin(track, quarter)
    results = []
    for projection in args.projections.split(","):
        every = np.arange(len(space))
        start = time.perf_counter()
        whole = compute_projection(projection, projection_input(space, every, projection))
        whole_seconds = time.perf_counter() - start
        for name, chosen in selections.items():
            rows = np.flatnonzero(chosen)
            features = projection_input(space, rows, projection)
            start = time.perf_counter()
            fresh = compute_projection(projection, features)
            seconds = time.perf_counter() - start
            row = {
                "projection": projection,
                "selection": name,
                "points": len(rows),
                "whole_map_points": len(space),
                "whole_map_s": round(whole_seconds, 1),
                "subset_trustworthiness": round(float(trustworthiness(features, whole[rows],
                                                                      n_neighbors=10)), 3),
                "fresh_trustworthiness": round(float(trustworthiness(features, fresh,
                                                                     n_neighbors=10)), 3),
                "fresh_s": round(seconds, 1),
            }  # fmt: skip
            results.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
