"""The whole collection's t-SNE and UMAP maps, computed ahead in a low-priority process.

    python -m explore_dash.maps.ahead --data DATA

Started by ``python -m explore_dash`` beside the server. It waits while an extraction runs
(the tables still change), then computes every (model, layer) space's whole-collection map,
UMAP then t-SNE, the spaces the panels show first first, into the same cache the panels read
(:mod:`explore_dash.maps.cache`), and starts over when a later merge changes the tables. A new
extraction, Ctrl-C or SIGTERM stops it between two optimisation steps; nothing half-done is
stored, and the next start resumes with the maps still missing.

Each map is computed by :func:`explore_dash.maps.compute.compute_once`, as a panel's is, under
the map's lock (:mod:`explore_dash.maps.locks`): a panel that asks for a map being computed here
waits for it instead of computing it a second time. What it has done is written to
``cache/maps-ahead.json`` for the page (:mod:`explore_dash.maps.ahead_status`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from explore_dash.data.options import ARCHITECTURES, DATASETS, model_name
from explore_dash.data.progress import extraction_alive
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.ahead_status import AheadStatus, read_ahead_status, write_ahead_status
from explore_dash.maps.compute import compute_once
from explore_dash.maps.points import points_key, visible_points
from explore_dash.maps.projection_run import ProjectionCancelled, ProjectionError
from explore_dash.maps.settings import DEFAULT_PANELS, PanelSettings
from extraction.contract import CACHE_DIR, TRACKS_FILE, read_status, read_version
from extraction.signals import die_with_parent

log = logging.getLogger(__name__)

#: The projections computed ahead, in order (UMAP first: the faster one).
PROJECTIONS_AHEAD = ("umap", "tsne")
#: How often the process looks whether an extraction still runs (seconds).
WAIT_SECONDS = 2.0


def space_order(available: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``available`` spaces, those the panels open with first (left, then right)."""
    first = [(s.model, s.layer) for s in DEFAULT_PANELS]
    ordered = [space for space in dict.fromkeys(first) if space in available]
    return ordered + [space for space in available if space not in ordered]


def whole_map_settings(model: str, layer: str, projection: str) -> PanelSettings | None:
    """The panel settings that show ``model``'s whole map; None for a model no panel can choose
    (a user's model from ``--models-dir``: the panels offer the shipped architectures and
    datasets). Looked up, not split on ``-``: a model's name need not have one."""
    for architecture in ARCHITECTURES:
        for dataset in DATASETS:
            if model_name(architecture, dataset) == model:
                return PanelSettings(architecture, dataset, layer, projection)
    return None


def extraction_running(data_dir: Path) -> bool:
    return extraction_alive(read_status(data_dir))


def compute_pending(
    data_dir: Path,
    cache_dir: Path,
    should_stop: Callable[[], bool],
    projections: Sequence[str] = PROJECTIONS_AHEAD,
) -> bool:
    """Compute every whole-collection map missing for the tables as they are now.

    Returns
    -------
    bool
        True when every map is in the cache; False when stopped (or when the tables changed
        underneath, so the caller starts over with the new version).
    """
    snapshot = Snapshot.load(data_dir)
    spaces = space_order(snapshot.collection.available_spaces())
    # Every space's memory-mapped files first (explore_dash/data/space_files.py: seconds each, even
    # at a million segments): the next start of the app maps them instead of reading the tables.
    for model, layer in spaces:
        if should_stop():
            return False
        snapshot.segment_tags(model, layer)
    todo = [(model, layer, projection, settings)
            for model, layer in spaces for projection in projections
            if (settings := whole_map_settings(model, layer, projection)) is not None]  # fmt: skip
    status = AheadStatus(version=snapshot.version, total=len(todo))
    for model, layer, projection, settings in todo:
        if should_stop():
            return False
        points = visible_points(snapshot, cache_dir, settings, [], [], 1, subset=False)
        if points.ready or len(points.rows) == 0:
            status.ready += 1
            continue
        key = points_key(snapshot, settings, points)
        status.computing = f"{model} {layer} {projection}"
        write_ahead_status(cache_dir, status)
        log.info("maps ahead: %s of %d segments", status.computing, len(points.rows))
        try:
            # Waits while a panel computes this map, then reads it from the cache.
            compute_once(cache_dir, key, projection, points.segment_ids,
                         partial(points.features, projection), should_stop=should_stop)  # fmt: skip
        except ProjectionCancelled:
            return False
        except ProjectionError as error:
            log.warning("maps ahead: %s: %s", status.computing, error)
            continue
        status.ready += 1
        status.computing = ""
        write_ahead_status(cache_dir, status)
        if read_version(data_dir) != snapshot.version:
            return False  # merged tables: the next round maps the new version
    write_ahead_status(cache_dir, status)
    return True


def run(data_dir: Path, cache_dir: Path, projections: Sequence[str] = PROJECTIONS_AHEAD) -> int:
    """Wait for the analysis, compute what is missing, repeat when the tables change; 0 on stop."""
    stopping = {"asked": False}

    def stop(signum, frame) -> None:
        stopping["asked"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def should_stop() -> bool:
        return stopping["asked"] or extraction_running(data_dir)

    done_version = None
    while not stopping["asked"]:
        if extraction_running(data_dir):
            previous = read_ahead_status(cache_dir) or AheadStatus()
            write_ahead_status(cache_dir, AheadStatus(previous.version, previous.ready,
                                                 previous.total, waiting=True))  # fmt: skip
            time.sleep(WAIT_SECONDS)
            continue
        version = read_version(data_dir)
        if version == done_version or not (Path(data_dir) / TRACKS_FILE).exists():
            time.sleep(WAIT_SECONDS)  # done, or no tables yet
            continue
        if compute_pending(data_dir, cache_dir, should_stop, projections):
            done_version = version
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--projections", default=",".join(PROJECTIONS_AHEAD))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run(args.data, args.data / CACHE_DIR, tuple(args.projections.split(",")))


def background_cores(available: Sequence[int]) -> set[int]:
    """The cores the process may use: all but one (at least one), the first left to the page.

    At nice 10 on both of 2 cores, hover-to-audio took 1.59x and a 10k selection 1.51x as long
    while maps were computed (benchmarks/app_speed.py --during-maps-ahead); on one core at nice
    19, 1.34-1.62x and 1.56-1.57x over two runs: a core stays free for the server, but the
    browser renders WebGL in software and wants both cores. What brought the ratios down was
    pausing the process while the page is used (explore_dash/maps/yielding.py).
    """
    cores = sorted(available)
    return set(cores[1:] or cores)


def _lower_priority() -> None:
    # Die with the app: paused by the page (explore_dash/maps/yielding.py) when the app is killed,
    # the process would otherwise stay paused forever, holding a map's lock.
    die_with_parent()
    # Not SCHED_IDLE: beside a CPU-bound process on the second of 2 cores, hover and a 10k
    # selection took 1.14x and 1.13x as long at SCHED_IDLE, 1.09x and 1.17x at nice 19
    # (benchmarks/background_priority.py): no better, and it could starve the maps outright.
    os.nice(19)
    os.sched_setaffinity(0, background_cores(os.sched_getaffinity(0)))


def start_maps_ahead(data_dir: Path) -> subprocess.Popen[bytes]:
    """Start the process at the lowest priority on all cores but one, in its own session
    (Ctrl-C reaches the app only)."""
    return subprocess.Popen(
        [sys.executable, "-m", "explore_dash.maps.ahead", "--data", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_lower_priority,
    )


if __name__ == "__main__":
    raise SystemExit(main())
