"""Server time of reading the map at 100,000 points: recolour, 12-s windows, region captions.

    python benchmarks/map_reading.py [--segments 100000] [--rounds 5] [--json FILE]

A synthetic collection (benchmarks/app_speed.py: 100 segments per track, 97 artists) in the
app's own tables. Reported, as medians of ``--rounds`` after one warm-up call:

- recolour: :func:`explore_dash.callbacks.panels.colour_panels` of one 100k-point panel for each
  "Colour by" choice (the Patch the page gets), and the Patch's size beside the whole figure's
  (a recolour must not resend the coordinates);
- the first recolour of each choice in a fresh snapshot, which also ranks the collection's
  categories once;
- 12-s windows: the panel's points aggregated from 100k segments (``visible_points`` with
  4 segments per window) against single segments;
- region captions of the panel, computed (not from the cache).
Target (issue "Reading the map"): recolour and aggregation <= 0.5 s each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import plotly.io

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from explore_dash.callbacks import panel_captions, panels  # noqa: E402
from explore_dash.data.colouring import COLOUR_BY, NONE  # noqa: E402
from explore_dash.data.snapshot import Snapshot  # noqa: E402
from explore_dash.maps.points import visible_points  # noqa: E402
from explore_dash.maps.settings import PanelSettings  # noqa: E402
from tests.support.fake_collection import make_collection  # noqa: E402

SETTINGS = PanelSettings("musicnn", "msd", "embedding", "pca")


def timed(function, rounds: int) -> float:
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def size(value) -> int:
    return len(plotly.io.json.to_json_plotly(value))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results: dict = {"segments": args.segments, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as folder:
        fake = make_collection(Path(folder), args.segments)
        cache = Path(folder) / "cache"
        snapshot = Snapshot.load(fake.data_dir)
        points = visible_points(snapshot, cache, SETTINGS, [], [], 1)
        figure = panels.draw(snapshot, SETTINGS, points, ([], [], [], []), False)[0]
        results["points"] = len(points.rows)
        results["figure_bytes"] = size(figure)
        fresh = Snapshot.load(fake.data_dir)
        for by in (b for b in COLOUR_BY if b != NONE):
            start = time.perf_counter()
            panels.colour_panels(fresh, cache, by, [SETTINGS], [], [], 1)
            first = time.perf_counter() - start
            patch = panels.colour_panels(snapshot, cache, by, [SETTINGS], [], [], 1)[0][0]
            results[f"recolour_{by}_s"] = round(
                timed(lambda b=by: panels.colour_panels(snapshot, cache, b, [SETTINGS], [], [], 1),
                      args.rounds), 4)  # fmt: skip
            results[f"recolour_{by}_first_s"] = round(first, 4)
            results[f"recolour_{by}_patch_bytes"] = size(patch.to_plotly_json())
        results["segments_points_s"] = round(
            timed(lambda: visible_points(snapshot, cache, SETTINGS, [], [], 1), args.rounds),
            4,
        )
        windows = visible_points(snapshot, cache, SETTINGS, [], [], 1, 4)
        results["windows_12s_points"] = len(windows.rows)
        results["windows_12s_s"] = round(
            timed(lambda: visible_points(snapshot, cache, SETTINGS, [], [], 1, 4),
                  args.rounds), 4)  # fmt: skip
        results["captions_s"] = round(
            timed(lambda: panel_captions.region_captions(snapshot, points), args.rounds), 4
        )
        results["captions"] = [c.text for c in panel_captions.region_captions(snapshot, points)[1]]
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
