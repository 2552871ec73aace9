"""A Celery worker for the t-SNE/UMAP jobs of apps started with ``--redis``.

    python -m explore_dash.worker --library ~/Music --redis redis://HOST:6379/0

It builds the same app as ``python -m explore_dash`` (so Dash registers the same job functions
as Celery tasks, under the same names) on the same data folder, which it must see: a local
disk on the app's machine, or a shared folder. Each of its ``--concurrency`` processes
runs one job at a time. Beside them it runs the maps computed ahead
(:mod:`explore_dash.maps.ahead`) at the lowest priority, so a deployment with ``--redis`` gets
its whole-collection maps from the workers, not from each app process; the map locks
(``flock`` on files in the data folder) keep two workers from computing the same map.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("explore_dash.worker")

#: Two job processes: both panels' maps at once.
DEFAULT_CONCURRENCY = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m explore_dash.worker",
        description="Compute explore-dash's t-SNE/UMAP maps for apps started with --redis.",
    )
    parser.add_argument("--library", required=True, type=Path, help="music folder")
    parser.add_argument(
        "--data", type=Path, default=None, help="data folder (default: per library)"
    )
    parser.add_argument("--redis", required=True, metavar="URL", help="redis://HOST:6379/0")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="jobs at once (default: %(default)s)",
    )
    parser.add_argument(
        "--no-maps-ahead", action="store_true", help="no whole-collection maps in the background"
    )
    return parser


def warm_each_process(cache_dir: Path) -> None:
    """Load UMAP's compiled code in each job process as it starts, off the job's path.

    In a thread: Celery kills a pool process that is not ready within seconds, and a job that
    arrives meanwhile waits on numba's compile lock instead of compiling a second time.
    """
    from celery.signals import worker_process_init

    from explore_dash.maps.numba_cache import warm_up

    @worker_process_init.connect(weak=False)
    def warm(**_):
        threading.Thread(target=warm_up, args=(cache_dir,), daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from explore_dash.server.startup import (
        StartupError,
        check_data_dir,
        check_jobs_backend,
        check_library,
        data_dir_for,
    )

    try:
        library = check_library(args.library)
        data_dir = data_dir_for(library, args.data)
        check_data_dir(data_dir)
        check_jobs_backend(args.redis)
        if args.concurrency < 1:
            raise StartupError(f"--concurrency must be at least 1, got {args.concurrency}")
    except StartupError as error:
        print(f"explore-dash worker: error: {error}", file=sys.stderr)
        return 2

    from explore_dash.config import AppConfig
    from explore_dash.maps.ahead import start_maps_ahead
    from explore_dash.maps.numba_cache import numba_cache_dir
    from explore_dash.server.app import build_app
    from explore_dash.server.jobs import install_heartbeat

    celery = build_app(AppConfig(library, data_dir, extract=False, redis=args.redis)).jobs.handle
    install_heartbeat(celery)
    warm_each_process(numba_cache_dir(data_dir))
    ahead = None if args.no_maps_ahead else start_maps_ahead(data_dir)
    try:
        celery.worker_main(
            [
                "worker",
                f"--concurrency={args.concurrency}",
                "--pool=prefork",
                "--loglevel=INFO",
                "--hostname=explore-dash@%h",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        if ahead is not None and ahead.poll() is None:
            ahead.terminate()
            ahead.send_signal(signal.SIGCONT)  # paused by a page on this machine: let it stop
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
