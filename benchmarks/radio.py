"""Radio and path speed at 100,000 segments, exact search against pynndescent, and which path
reads better: waypoints on the straight line (ours) or the shortest route in a k-NN graph.

    python benchmarks/radio.py [--segments 100000] [--dims 256] [--rounds 7] [--json FILE]

Synthetic clustered space: tracks of 50 segments around their own centre, tracks around 40
style centres, 400 artists on 800 albums. Reported: building the exact index
(:class:`~explore_dash.data.neighbours.SpaceIndex`), the next radio moment, a 12-step path
(medians of ``--rounds``), pynndescent's index build and query at the same size, and for 20 random
start/end pairs both path methods' step evenness: the coefficient of variation of the 11 step
lengths between consecutive track centroids (lower reads smoother) and the largest step over the
mean step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explore_dash.data.collection import Space  # noqa: E402
from explore_dash.data.neighbours import SpaceIndex  # noqa: E402
from explore_dash.listening.radio import Diversity, path, radio  # noqa: E402
from extraction.contract import PCA_COMPONENTS, SEGMENT_SECONDS, segment_ids  # noqa: E402

SEGMENTS_PER_TRACK = 50


def synthetic(n_segments: int, dims: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n_tracks = n_segments // SEGMENTS_PER_TRACK
    styles = rng.normal(0, 1, (40, dims)).astype(np.float32)
    centres = styles[rng.integers(0, 40, n_tracks)] + rng.normal(0, 0.4, (n_tracks, dims))
    track = np.repeat(np.arange(n_tracks, dtype=np.int32), SEGMENTS_PER_TRACK)
    offset = np.tile(np.arange(SEGMENTS_PER_TRACK, dtype=np.float32) * SEGMENT_SECONDS, n_tracks)
    vectors = (centres[track] + rng.normal(0, 0.25, (len(track), dims))).astype(np.float32)
    zeros = np.zeros((len(track), PCA_COMPONENTS), np.float32)
    space = Space("m", "embedding", segment_ids(track, offset), track, offset, zeros, zeros)
    tracks = pd.DataFrame(
        {
            "artist": [f"artist {i % 400}" for i in range(n_tracks)],
            "album": [f"album {i % 800}" for i in range(n_tracks)],
        },
        index=pd.Index(np.arange(n_tracks), name="track"),
    )
    return space, vectors, tracks


def median_ms(work, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def graph_route(index: SpaceIndex, start: int, end: int, steps: int, k: int = 10) -> list[int]:
    """Track codes of the shortest route in the k-NN graph of track centroids, resampled to
    ``steps`` tracks evenly along its length (fewer when the route is shorter)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    c = index.centroids.astype(np.float64)
    squared = (c * c).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] - 2 * c @ c.T + squared[None, :], 0))
    neighbours = np.argsort(distances, axis=1)[:, 1 : k + 1]
    rows = np.repeat(np.arange(len(c)), k)
    graph = csr_matrix((distances[rows, neighbours.ravel()], (rows, neighbours.ravel())),
                       shape=(len(c), len(c)))  # fmt: skip
    _, predecessors = dijkstra(graph, directed=False, indices=start, return_predecessors=True)
    route = [end]
    while route[-1] != start and predecessors[route[-1]] >= 0:
        route.append(int(predecessors[route[-1]]))
    route.reverse()
    if len(route) <= steps:
        return route
    lengths = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(c[route], axis=0), axis=1))])
    picks = [int(np.argmin(np.abs(lengths - t))) for t in np.linspace(0, lengths[-1], steps)]
    return [route[i] for i in dict.fromkeys(picks)]


def evenness(index: SpaceIndex, codes: list[int]) -> tuple[float, float]:
    steps = np.linalg.norm(np.diff(index.centroids[codes].astype(np.float64), axis=0), axis=1)
    return float(steps.std() / steps.mean()), float(steps.max() / steps.mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    space, vectors, tracks = synthetic(args.segments, args.dims)
    start = time.perf_counter()
    index = SpaceIndex.build(space, vectors)
    build_s = time.perf_counter() - start
    rules = Diversity()
    rng = np.random.default_rng(1)
    seed = int(index.segment_ids[rng.integers(len(index))])
    chain = [seed, *[m.segment for m in radio(index, tracks, {}, [seed], rules, count=30)]]
    next_ms = median_ms(lambda: radio(index, tracks, {}, chain, rules, count=1), args.rounds)
    a, b = 3, len(index.track_ids) - 7
    path_ms = median_ms(lambda: path(index, tracks, {}, a, b, 12, rules), args.rounds)
    report = {
        "segments": len(index),
        "dims": args.dims,
        "tracks": len(index.track_ids),
        "exact_index_build_s": round(build_s, 3),
        "next_radio_moment_ms": next_ms,
        "path_12_steps_ms": path_ms,
        "load_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(report, indent=2), flush=True)

    import pynndescent

    start = time.perf_counter()
    nnd = pynndescent.NNDescent(vectors, n_neighbors=15, random_state=0)
    nnd.prepare()
    report["pynndescent_build_s"] = round(time.perf_counter() - start, 1)
    query = vectors[index.row_of(seed)][None]
    nnd.query(query, k=200)  # compiles
    report["pynndescent_query_200_ms"] = median_ms(lambda: nnd.query(query, k=200), args.rounds)
    report["exact_query_ms"] = median_ms(
        lambda: index.distances(vectors[index.row_of(seed)]), args.rounds
    )

    ours, graph = [], []
    no_rules = Diversity(artist_gap=0, distinct_albums=False)
    for _ in range(20):
        a, b = (int(x) for x in rng.choice(len(index.track_ids), 2, replace=False))
        moments = path(index, tracks, {}, a, b, 12, no_rules)
        ours.append(evenness(index, [int(np.searchsorted(index.track_ids, m.track))
                                     for m in moments]))  # fmt: skip
        route = graph_route(index, a, b, 12, k=30)
        if route[0] == a and len(route) >= 3:  # connected, and more than a direct hop
            graph.append((*evenness(index, route), len(route)))
    def median(values):
        values = list(values)
        return round(statistics.median(values), 3) if values else None

    report["path_evenness"] = {
        "waypoints_cv_median": median(x[0] for x in ours),
        "waypoints_max_over_mean_median": median(x[1] for x in ours),
        "graph_cv_median": median(x[0] for x in graph),
        "graph_max_over_mean_median": median(x[1] for x in graph),
        "graph_route_tracks_median": median(x[2] for x in graph),
        "graph_pairs_connected": len(graph),
        "pairs": 20,
    }
    print(json.dumps({k: report[k] for k in list(report)[7:]}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
