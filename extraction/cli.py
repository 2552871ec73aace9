"""``python -m extraction`` (``explore-dash-extract``): bring a library's tables up to date."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from extraction.backends import AUTO, BACKEND_CHOICES
from extraction.contract import STATUS_OK, default_data_dir
from extraction.errors import REINSTALL_HINT, ExtractionError, LibraryError
from extraction.missing import PRUNE_HINT, LibraryVanishedError
from extraction.pipeline import Progress, Summary, run_extraction
from extraction.signals import let_stops_in, missing_module
from extraction.status import ProgressGroup, StatusFile
from extraction.store import DataStore
from extraction.task import TrackResult

log = logging.getLogger("extraction")


def build_parser() -> argparse.ArgumentParser:
    """The command line, documented flag for flag in the README's usage block (tested)."""
    parser = argparse.ArgumentParser(
        prog="explore-dash-extract",
        description="Index a music folder and extract MusiCNN/VGG taggrams and embeddings "
        "for every 3-second segment into parquet tables.",
    )
    parser.add_argument("--library", type=Path, help="music folder to index (required)")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data folder (default: a per-library folder under your user data directory)",
    )
    parser.add_argument(
        "--models",
        default=None,
        help="comma-separated model names (default: all; see --list-models)",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        action="append",
        default=[],
        help="extra folder of compatible model graphs (.pb + .json); may repeat",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="inference processes; 1 runs everything in this process (default: with OpenVINO "
        "one per 4 cores, whose threads use every core; with Essentia one per core; at most 4)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default=AUTO,
        help="what runs the networks: openvino (CPU, fastest there), essentia (its TensorFlow "
        "2.5, which can use a CUDA GPU), or auto: essentia with a usable GPU, else openvino "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run each track's work on the Dask cluster whose scheduler is at ADDRESS "
        "(tcp://host:8786), or 'local' for a cluster of 2 worker processes here",
    )
    parser.add_argument(
        "--shared-library",
        action="store_true",
        help="with --dask: the workers see the library at the same path and read the files "
        "themselves (default: each file's bytes are sent with its task)",
    )
    parser.add_argument("--force", action="store_true", help="redo every file")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="drop the analysis of tracks whose files are gone, for good (default: keep it, "
        "off the map, until they return)",
    )
    parser.add_argument("--list-models", action="store_true", help="list models and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.library is None and not args.list_models:
        parser.error("the following arguments are required: --library")
    return args


# Each worker holds the four networks (about 400 MB); four keep a many-core machine busy through
# the backend's own threads (cores / workers each) without multiplying memory further.
MAX_DEFAULT_WORKERS = 4
# OpenVINO spreads one inference over threads well, so one process runs everything: on 2 cores
# it was 83.5x realtime in 476 MB against 76.7x in 873 MB with two single-threaded workers
# (benchmarks/extraction.py, 3 rounds interleaved). Larger machines were not measured; a worker
# per 4 cores bounds each inference's thread count there.
OPENVINO_CORES_PER_WORKER = 4


def default_workers(backend: str, cores: int | None = None) -> int:
    """Inference processes for ``backend`` (``openvino`` or ``essentia``) on ``cores`` cores.

    Essentia holds the GIL while TensorFlow runs, and one TensorFlow session spread over several
    threads wastes time synchronising on these small networks: single-threaded sessions in
    separate processes, fed by this one (which decodes), keep every core on the networks; one
    per core. OpenVINO: one per ``OPENVINO_CORES_PER_WORKER`` cores. At most
    ``MAX_DEFAULT_WORKERS``; ``cores`` defaults to the usable ones.
    """
    from extraction.backends import OPENVINO
    from extraction.inference import usable_cores

    cores = cores or usable_cores()
    per_worker = OPENVINO_CORES_PER_WORKER if backend == OPENVINO else 1
    return max(1, min(cores // per_worker, MAX_DEFAULT_WORKERS))


class TqdmProgress(Progress):
    """A terminal progress bar in audio time: tracks done, audio hours, ETA."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.bar = None
        self.done_tracks = 0
        self.total_tracks = 0
        self.failed = 0

    def start(self, total_audio_seconds: float, total_tracks: int) -> None:
        from tqdm import tqdm

        self.total_tracks = total_tracks
        if not self.enabled or total_tracks == 0:
            return
        self.bar = tqdm(
            total=round(total_audio_seconds / 3600, 3) or None,
            unit="h audio",
            unit_scale=False,
            dynamic_ncols=True,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.2f}/{total:.2f} h audio "
            "[{elapsed}<{remaining}]{postfix}",
        )
        self._describe()

    def _describe(self) -> None:
        if self.bar is not None:
            failed = f", {self.failed} failed" if self.failed else ""
            self.bar.set_description_str(f"tracks {self.done_tracks}/{self.total_tracks}{failed}")

    def advance(self, result: TrackResult) -> None:
        self.done_tracks += 1
        if result.row["status"] != STATUS_OK:
            self.failed += 1
        if self.bar is not None:
            hours = (result.row["duration"] or 0.0) / 3600
            self.bar.update(round(min(hours, max(self.bar.total - self.bar.n, 0)), 6))
            self._describe()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def format_summary(summary: Summary) -> str:
    """The end-of-run report printed by the CLI."""
    lines = [
        f"ok: {summary.ok}   failed: {len(summary.failed)}   unchanged: {summary.unchanged}"
        f"   missing: {summary.missing}   moved: {summary.moved}   removed: {summary.removed}",
        f"segments: {summary.segments}   audio: {summary.audio_seconds:.1f} s   "
        f"wall: {summary.wall_seconds:.1f} s   realtime factor: {summary.realtime_factor:.1f}x",
    ]
    for path, reason in sorted(summary.failed.items()):
        lines.append(f"  failed {path}: {reason}")
    if summary.missing:
        lines.append(
            f"  {summary.missing} tracks are missing from the library: their analysis is kept "
            f"and comes back with their files ({PRUNE_HINT})"
        )
    return "\n".join(lines)


def run(
    library: Path,
    data: Path | None = None,
    models: str | None = None,
    models_dir: Sequence[Path] = (),
    workers: int | None = 1,
    force: bool = False,
    quiet: bool = False,
    backend: str = AUTO,
    dask: str | None = None,
    shared_library: bool = False,
    prune: bool = False,
) -> Summary:
    """Run one extraction; raises :class:`ExtractionError` for fatal problems.

    ``workers`` None takes :func:`default_workers` for the backend the run resolves to.
    ``dask``: the scheduler's address, or ``"local"`` (:mod:`extraction.cluster`).
    """
    from extraction.backends import resolve_backend
    from extraction.library import check_library
    from extraction.registry import load_registry, resolve_models

    try:
        library = check_library(library)
    except LibraryError as error:
        record_refusal(DataStore(data or default_data_dir(library)), str(error))
        raise
    registry = load_registry(models_dir)
    specs = resolve_models(models.split(",") if models else None, registry)
    if workers is None:
        workers = default_workers(resolve_backend(backend))
    if workers < 1:
        raise ExtractionError("--workers must be at least 1")
    store = DataStore(data or default_data_dir(library))
    store.prepare()
    with store.exclusive():
        # Only the lock holder writes the status file the app polls.
        status = StatusFile(store.root)
        progress = ProgressGroup([TqdmProgress(not quiet), status])
        cluster = None
        try:
            if dask is not None:
                from extraction.cluster import connect

                cluster = connect(dask)
            summary = run_extraction(
                library,
                store,
                specs,
                workers=workers,
                force=force,
                progress=progress,
                backend=backend,
                cluster=cluster,
                shared_library=shared_library,
                prune=prune,
            )
        except LibraryVanishedError as error:
            status.finish("refused", str(error))
            raise
        except KeyboardInterrupt:
            status.finish("interrupted")
            raise
        except Exception as error:
            status.finish("failed", str(error))
            raise
        finally:
            if cluster is not None:
                from extraction.cluster import close

                close(cluster)
        status.finish("done")
        return summary


def record_refusal(store: DataStore, reason: str) -> None:
    """Tell the page why an analysed library was not updated (a library folder missing or
    unreadable: the share not mounted); the terminal is told by the error itself."""
    try:
        if not store.tracks_path.is_file():
            return
        with store.exclusive():
            StatusFile(store.root).finish("refused", reason)
    except (LibraryError, OSError):
        # Another extraction holds the folder (its status is the one to show), or this user
        # cannot reach it: the terminal's line is all there is to say.
        pass


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (a service manager, or the app stopping) ends the run like Ctrl-C: finished
    # tracks are staged and merged before the process exits.
    signal.signal(signal.SIGTERM, _interrupt)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        # Started by the app with stops blocked (explore_dash.cli.start_extraction): let them in
        # now that they end the run cleanly (one that came meanwhile is acted on here).
        let_stops_in()
        if args.list_models:
            from extraction.registry import load_registry

            for name, spec in load_registry(args.models_dir).items():
                dims = ", ".join(f"{k} {v.dims}" for k, v in spec.layers.items())
                print(f"{name}: {spec.architecture} / {spec.dataset} ({dims})")
            return 0
        store_dir = args.data or default_data_dir(args.library)
        summary = run(
            args.library,
            args.data,
            args.models,
            args.models_dir,
            args.workers,
            args.force,
            args.quiet,
            args.backend,
            args.dask,
            args.shared_library,
            args.prune,
        )
    except ExtractionError as error:
        print(f"explore-dash-extract: error: {error}", file=sys.stderr)
        return 2
    except ImportError as error:  # essentia and the like load lazily, here
        name = missing_module(error)
        if name is None:
            raise
        print(
            f"explore-dash-extract: error: missing module {name}; {REINSTALL_HINT}", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished tracks are saved; run again to continue", file=sys.stderr)
        return 130
    print(format_summary(summary))
    print(f"data: {store_dir}")
    return 0
