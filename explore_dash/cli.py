"""``python -m explore_dash`` / ``explore-dash``: update a library's tables and serve the map."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("explore_dash")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="explore-dash", description="Explore a music collection as a map of its sound."
    )
    parser.add_argument("--library", required=True, type=Path, help="music folder")
    parser.add_argument(
        "--data", type=Path, default=None, help="data folder (default: per library)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8050, help="port (default: %(default)s)")
    parser.add_argument("--no-extract", action="store_true", help="serve the tables as they are")
    parser.add_argument("--anonymize", action="store_true", help="neutral codes for model names")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode")
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def exposure_warning(host: str) -> str | None:
    """The warning to log when serving on ``host`` lets other machines in, else None."""
    if is_loopback(host):
        return None
    return (
        f"serving on {host or 'every interface'}: anyone who can reach this address can "
        "browse and play your library (use --host 127.0.0.1 to keep it to this machine)"
    )


def data_dir_for(library: Path, data: Path | None) -> Path:
    """The data folder the extraction uses for ``library`` (same default as the extractor)."""
    if data is not None:
        return data.expanduser().resolve()
    # Only the small path helper; the extraction package's heavy modules stay unimported.
    from extraction.store import default_data_dir

    return default_data_dir(library)


def extraction_command(library: Path, data: Path) -> list[str]:
    """The extraction child process (Essentia never loads in the web process)."""
    return [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data)]


def start_extraction(library: Path, data: Path) -> subprocess.Popen:
    """Index and extract the library in a separate process, while the app serves.

    The child gets its own session, so a Ctrl-C in the terminal reaches this process only;
    :func:`stop_extraction` then stops the child once (a second SIGINT arriving during its
    final merge would cut the merge short: harmless, as the next start finishes it, but slow).
    """
    return subprocess.Popen(extraction_command(library, data), start_new_session=True)


def stop_extraction(process: subprocess.Popen, timeout: float = 120.0) -> int | None:
    """Ask the extraction to stop like Ctrl-C does (it stages and merges finished tracks)."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("extraction did not stop within %.0f s: terminating it", timeout)
        process.terminate()
        try:
            return process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(
    library: Path,
    data: Path | None,
    host: str,
    port: int,
    no_extract: bool,
    anonymize: bool,
    debug: bool = False,
) -> int:
    from explore_dash.app import create_app
    from explore_dash.config import AppConfig

    library = library.expanduser()
    if not library.is_dir():
        print(f"explore-dash: error: music library not found: {library}", file=sys.stderr)
        return 2
    library = library.resolve()
    data_dir = data_dir_for(library, data)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = AppConfig(
        library, data_dir, host=host, port=port, anonymize=anonymize, extract=not no_extract
    )
    # SIGTERM stops the app like Ctrl-C, so the extraction is stopped cleanly too. SIGINT is
    # set explicitly: a shell starting us in the background would have it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    extraction = None if no_extract else start_extraction(library, data_dir)
    warm_up = None
    try:
        app = create_app(config)
        # Compile UMAP's numba code into the on-disk cache now, in its own (low-priority)
        # process, so the first UMAP a user asks for does not wait for it.
        from explore_dash.projections import start_warm_up

        warm_up = start_warm_up(data_dir / "cache" / "numba")
        warning = exposure_warning(host)
        if warning:
            log.warning(warning)
        print(f"explore-dash: serving {library} at http://{host}:{port}/", flush=True)
        app.run(host=host, port=port, debug=debug, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        if warm_up is not None and warm_up.poll() is None:
            warm_up.terminate()
        if extraction is not None and extraction.poll() is None:
            print("explore-dash: stopping extraction (finished tracks are kept)…", flush=True)
            stop_extraction(extraction)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("dash").setLevel(logging.WARNING)
    return run(
        args.library, args.data, args.host, args.port, args.no_extract, args.anonymize, args.debug
    )
