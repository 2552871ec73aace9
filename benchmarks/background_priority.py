"""The page beside a CPU-bound background process, at each priority the maps ahead could take.

    python benchmarks/background_priority.py [--rounds 7] [--json out.json]

The app (100,000 synthetic segments, no maps ahead) in headless Chromium; in each round, in a
shuffled order, one of: nothing else running, a CPU-bound process on the second core at nice 19,
the same at ``SCHED_IDLE`` (Linux). The process multiplies matrices and gathers from a large
array, as UMAP's and t-SNE's loops load the cores and the shared cache. Per condition: a page
load, three hovers (pointer onto a point to the audio element requesting it) and a 10k box
selection mirrored. Medians per condition; the condition "none" is the baseline of the same run.
What it decided: the maps ahead keep nice 19 (explore_dash/maps/ahead.py, _lower_priority).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.app_speed import (  # noqa: E402
    measure_box_selection,
    measure_hover,
    measure_page_usable,
    start_app,
    start_browser,
    wait_for_page,
)
from tests.support.fake_collection import make_collection  # noqa: E402

CONDITIONS = ("none", "nice19", "sched_idle")
SEGMENTS = 100_000


def load(condition: str) -> None:
    """Be the CPU-bound process, on the last core, at ``condition``'s priority (never returns)."""
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    os.nice(19)
    if condition == "sched_idle":
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    import numpy as np

    rng = np.random.default_rng(0)
    square = rng.normal(size=(1500, 1500))
    table = rng.normal(size=20_000_000)
    while True:
        square @ square
        np.take(table, rng.integers(0, table.size, 2_000_000)).sum()


def start_load(condition: str) -> subprocess.Popen | None:
    if condition == "none":
        return None
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, __file__, "--load", condition], env=environment)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--port", type=int, default=8078)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--load", choices=CONDITIONS[1:], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load:
        load(args.load)
    fake = make_collection(Path(tempfile.mkdtemp(prefix="explore-dash-bench-")), SEGMENTS)
    server = start_app(fake, args.port, "--no-maps-ahead")
    url = f"http://127.0.0.1:{args.port}/"
    hovers: dict[str, list[float]] = {condition: [] for condition in CONDITIONS}
    selections: dict[str, list[float]] = {condition: [] for condition in CONDITIONS}
    driver = None
    try:
        wait_for_page(url, server)
        driver = start_browser()
        for run in range(2):  # a fresh browser's first page loads are slower: unmeasured
            measure_page_usable(driver, url, SEGMENTS)
            measure_hover(driver, 500 + run)
        for round_ in range(args.rounds):
            order = list(CONDITIONS)
            random.Random(round_).shuffle(order)
            for condition in order:
                process = start_load(condition)
                try:
                    measure_page_usable(driver, url, SEGMENTS)
                    time.sleep(0.5)
                    found = [measure_hover(driver, 1000 + round_ * 7919 + k * 331)
                             for k in range(3)]  # fmt: skip
                    seconds, _ = measure_box_selection(driver, 10_000)
                finally:
                    if process is not None:
                        process.kill()
                        process.wait()
                hovers[condition] += found
                selections[condition].append(seconds)
                print(f"round {round_} {condition}: hovers {[round(h, 3) for h in found]}, "
                      f"selection {seconds:.3f}", flush=True)  # fmt: skip
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait()
    report = {
        condition: {"hover_to_audio_s": statistics.median(hovers[condition]),
                    "box_selection_s": statistics.median(selections[condition])}
        for condition in CONDITIONS
    }  # fmt: skip
    report["runs"] = {"hover_to_audio_s": hovers, "box_selection_s": selections}
    report["load_average"] = os.getloadavg()
    baseline = report["none"]
    for condition in CONDITIONS:
        found = ", ".join(
            f"{name} {value * 1000:.0f} ms ({value / baseline[name]:.2f}x)"
            for name, value in report[condition].items()
        )
        print(f"{condition:10s} {found}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
