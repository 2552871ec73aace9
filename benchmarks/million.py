"""A million segments on one machine: app start, memory and panel redraws.

    python benchmarks/million.py [--segments 1000000] [--runs 3] [--data /tmp/explore-dash-million]
                                 [--json out.json]

Synthesizes (once, kept in ``--data``) a collection of ``--segments`` segments in each of the 8
(model, layer) spaces: 100-segment tracks, taggrams with three strong labels per track, random
embeddings and PCA columns. Then, per run, in a fresh process, what ``python -m explore_dash``
does before and while it serves:

- ready: from the process start (imports included) to the page answering ``GET /``;
- first maps: the two default panels' figures, posted as the page posts them, one after the other;
- redraw: panel 0 drawn again with another colouring of the same space (warm);
- other space: panel 0 switched to a space not loaded yet (its table read on first use);
- points sent: the most points in one panel's figure;
- RSS: the server's resident memory at the end (VmRSS) and its peak (VmHWM).

Run 0 is a cold start (the cache of memory-mapped spaces emptied first: the first start on tables
no app or maps-ahead process has opened); the medians are of the ``--runs`` warm starts after it.

Targets (issue "Large collections"): ready <= 10 s, RSS <= 2 GB, redraw <= 2 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

START = time.monotonic()
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SEGMENTS_PER_TRACK = 100
ROW_GROUP = 100_000
MARKER = "million.json"


def synthesize(data_dir: Path, n_segments: int) -> None:
    """The 8 segment tables, the tracks table and state.json of a large synthetic collection."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from extraction.contract import PCA_COMPONENTS, SEGMENT_SECONDS
    from tests.support.fake_collection import (
        ALL_SPACES,
        EMBEDDING_DIMS,
        N_LABELS,
        write_state,
        write_tracks_table,
    )

    marker = data_dir / MARKER
    if marker.exists() and json.loads(marker.read_text()).get("segments") == n_segments:
        return
    n_tracks = n_segments // SEGMENTS_PER_TRACK
    write_tracks_table(data_dir, [
        {"track": t, "path": f"Artist {t % 997}/Album {t % 3331}/Track {t}.ogg", "size": 1,
         "mtime_ns": 0, "duration": SEGMENTS_PER_TRACK * SEGMENT_SECONDS + 1.0,
         "artist": f"Artist {t % 997}", "album": f"Album {t % 3331}", "title": f"Track {t}",
         "genre": "Electronic" if t % 3 else "Ambient", "track_number": 1}
        for t in range(n_tracks)
    ])  # fmt: skip

    def column(matrix: np.ndarray) -> pa.FixedSizeListArray:
        return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])

    for index, (model, layer) in enumerate(ALL_SPACES):
        rng = np.random.default_rng(index)
        path = data_dir / "segments" / f"model={model}" / f"layer={layer}" / "part-0.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = None
        for start in range(0, n_tracks * SEGMENTS_PER_TRACK, ROW_GROUP):
            rows = np.arange(start, min(start + ROW_GROUP, n_tracks * SEGMENTS_PER_TRACK))
            track = (rows // SEGMENTS_PER_TRACK).astype(np.int32)
            offset = ((rows % SEGMENTS_PER_TRACK) * SEGMENT_SECONDS).astype(np.float32)
            if layer == "taggram":
                vector = rng.uniform(0.0, 0.2, size=(len(rows), N_LABELS)).astype(np.float32)
                for shift, strength in ((0, 0.9), (7, 0.8), (13, 0.7)):
                    vector[np.arange(len(rows)), (track + shift) % N_LABELS] = strength
            else:
                vector = rng.standard_normal((len(rows), EMBEDDING_DIMS[model]), np.float32)
            # PCA columns with some structure: each track's segments near its own centre.
            centres = np.sin(track[:, None] * (1.0 + np.arange(PCA_COMPONENTS))[None, :] * 0.37)
            noise = rng.standard_normal((len(rows), PCA_COMPONENTS))
            pca = (4 * centres + noise).astype(np.float32)
            table = pa.table({
                "track": pa.array(track, pa.int32()),
                "offset": pa.array(offset, pa.float32()),
                "vector": column(vector),
                "pca": column(pca),
                "std_pca": column((pca / pca.std(axis=0)).astype(np.float32)),
            })  # fmt: skip
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        writer.close()
        print(f"  wrote {model} {layer}", flush=True)
    write_state(data_dir, 1, n_tracks)
    marker.write_text(json.dumps({"segments": n_tracks * SEGMENTS_PER_TRACK}))


def memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def points_in(trace: dict) -> int:
    """How many points a figure trace holds (its ids: a list, or a typed array of float64)."""
    ids = trace.get("customdata")
    if isinstance(ids, dict) and "bdata" in ids:
        return len(base64.b64decode(ids["bdata"])) // 8
    return len(ids or [])


def panel_request(app, initial: dict, panel: int, **changed) -> bytes:
    """The body the page posts to draw ``panel``, with some settings ``changed``.

    ``changed`` names a panel setting by its last word (``architecture="vgg"``) or a page
    control by its id (``**{"colour-by": "artist"}``); the rest keeps the page's first values.
    """
    from tests.support.load import callback_body

    key = next(k for k in app.callback_map if "panel-graph" in k and "panel-count" in k
               and "callback" in app.callback_map[k])  # fmt: skip

    def value(component_id, prop):
        kind = component_id.get("type") if isinstance(component_id, dict) else None
        if kind and kind.split("-")[-1] in changed and prop == "value":
            return changed[kind.split("-")[-1]]
        if isinstance(component_id, str) and component_id in changed and prop == "value":
            return changed[component_id]
        return initial.get((json.dumps(component_id, sort_keys=True), prop))

    return json.dumps(callback_body(app, key, value, panels=(panel,))).encode()


def post_panel(base: str, body: bytes) -> tuple[float, int]:
    """(seconds, points) of one panel drawing request to the server at ``base``.

    Raises
    ------
    RuntimeError
        When the server answered without a figure (its map still to be computed).
    """
    request = urllib.request.Request(base + "/_dash-update-component", body,
                                     {"Content-Type": "application/json"})  # fmt: skip
    started = time.monotonic()
    answer = json.loads(urllib.request.urlopen(request, timeout=300).read())
    seconds = time.monotonic() - started
    figure = next(iter(answer["response"].values())).get("figure")
    if figure is None:
        raise RuntimeError(f"no figure: {answer['response']}")
    return seconds, max((points_in(trace) for trace in figure["data"]), default=0)


def measure(data_dir: Path) -> dict:
    """One run, in this (fresh) process: start the app as the CLI does and drive it over HTTP."""
    from explore_dash.config import AppConfig
    from explore_dash.server.app import create_app
    from tests.support.load import layout_values, serving

    library = data_dir / "library"
    library.mkdir(exist_ok=True)
    app = create_app(AppConfig(library, data_dir, extract=False))
    result = {}
    with serving(app) as port:
        base = f"http://127.0.0.1:{port}"
        urllib.request.urlopen(base + "/", timeout=60).read()
        result["ready_s"] = time.monotonic() - START
        initial = layout_values(app)

        def draw(panel: int, **changed) -> tuple[float, int]:
            return post_panel(base, panel_request(app, initial, panel, **changed))

        first = [draw(panel) for panel in (0, 1)]
        result["first_maps_s"] = time.monotonic() - START
        result["first_panel_draw_s"] = [seconds for seconds, _ in first]
        result["redraw_s"], _ = draw(0, **{"colour-by": "artist"})
        result["other_space_s"], points = draw(0, architecture="vgg", dataset="mtt")
        result["points_sent"] = max(points, *(n for _, n in first))
    result["rss_mb"], result["peak_rss_mb"] = memory_mb()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/explore-dash-million"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.data)))
        return 0
    print(f"synthesizing {args.segments:,} segments x 8 spaces in {args.data} (once)", flush=True)
    synthesize(args.data, args.segments)
    runs = []
    for run in range(args.runs + 1):
        # A fresh process each run: start-up and memory are what a new server sees. The tables
        # stay in the OS page cache between runs, as they do between two starts of the app.
        # Run 0 is cold: no app has opened these tables yet (explore_dash/data/space_files.py).
        if run == 0:
            shutil.rmtree(args.data / "cache", ignore_errors=True)
        done = subprocess.run([sys.executable, __file__, "--measure", "--data", str(args.data)],
                              cwd=REPO, capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"run {run}: {runs[-1]}", flush=True)
    names = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    report = {"segments": args.segments, "spaces": 8, "cold": runs[0],
              "median": {name: statistics.median(r[name] for r in runs[1:]) for name in names},
              "runs": runs[1:], "load_average": os.getloadavg()}  # fmt: skip
    for name, value in report["median"].items():
        print(f"{name}: {value:,.2f} (cold start: {runs[0][name]:,.2f})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
