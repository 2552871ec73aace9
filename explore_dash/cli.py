"""``python -m explore_dash`` / ``explore-dash``: update a library's tables and serve the map."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode

from explore_dash.server.startup import (
    StartupError,
    access_token,
    allowed_hosts,
    check_data_dir,
    check_jobs_backend,
    check_library,
    check_subsonic,
    data_dir_for,
    is_loopback,
)
from extraction.signals import stops_blocked, stops_held

log = logging.getLogger("explore_dash")


def build_parser() -> argparse.ArgumentParser:
    """The command line, documented flag for flag in the README's usage block (tested)."""
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
    # Each option's dest is the keyword of run() it becomes: main() passes them all as they are.
    parser.add_argument(
        "--no-extract", dest="extract", action="store_false", help="serve the tables as they are"
    )
    parser.add_argument(
        "--no-maps-ahead",
        dest="maps_ahead",
        action="store_false",
        help="no whole-collection maps in the background",
    )
    parser.add_argument("--anonymize", action="store_true", help="neutral codes for model names")
    parser.add_argument(
        "--redis",
        dest="redis_url",
        default=None,
        metavar="URL",
        help="run t-SNE/UMAP jobs on Celery workers through Redis, e.g. redis://HOST:6379/0",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="access token every visitor needs (default: a new one when --host lets other "
        "machines in, none on loopback; or set EXPLORE_DASH_TOKEN)",
    )
    parser.add_argument(
        "--allow-host",
        dest="allow_hosts",
        action="append",
        default=[],
        metavar="NAME",
        help="without a token, answer requests for this host name too (a reverse proxy's); "
        "repeatable. Any other than localhost, 127.0.0.1 and [::1] gets a 403",
    )
    parser.add_argument(
        "--mpd",
        default=None,
        type=mpd_option,
        metavar="HOST:PORT",
        help="send playlists, radios and paths to this MPD (its password, if any, in "
        "EXPLORE_DASH_MPD_PASSWORD)",
    )
    parser.add_argument(
        "--mpd-root",
        default=None,
        metavar="FOLDER",
        help="the library's folder inside MPD's music_directory (default: found by looking "
        "up some of its files in MPD)",
    )
    parser.add_argument(
        "--subsonic",
        default=None,
        metavar="URL",
        help="save playlists, radios and paths on this Subsonic server, e.g. "
        "http://HOST:4533 (its password in EXPLORE_DASH_SUBSONIC_PASSWORD)",
    )
    parser.add_argument(
        "--subsonic-user", default=None, metavar="NAME", help="the Subsonic server's user"
    )
    parser.add_argument("--debug", action="store_true", help="Dash debug mode; log every request")
    return parser


def mpd_option(text: str) -> str:
    """``--mpd``'s value, checked now so a typo is one line at start, not an error later."""
    from explore_dash.players.mpd import parse_address

    try:
        return str(parse_address(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def exposure_warning(host: str) -> str | None:
    """The warning to log when serving on ``host`` lets other machines in, else None."""
    if is_loopback(host):
        return None
    return (
        f"serving on {host or 'every interface'}: anyone who can reach this address can "
        "browse and play your library once they have the address with its token (use --host "
        "127.0.0.1 to keep it to this machine)"
    )


def visitor_url(host: str, port: int, token: str | None) -> str:
    """The address to open: this machine's LAN address for a wildcard host, with the token."""
    from explore_dash.server.access import TOKEN_PARAMETER

    shown = host
    if host in ("", "0.0.0.0", "::", "[::]"):
        shown = lan_address()
    elif ":" in host and not host.startswith("["):
        shown = f"[{host}]"
    query = "?" + urlencode({TOKEN_PARAMETER: token}) if token else ""
    return f"http://{shown}:{port}/{query}"


def lan_address() -> str:
    """This machine's address on its default route (no packet is sent), else its host name."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def extraction_command(library: Path, data: Path) -> list[str]:
    """The extraction child process (Essentia never loads in the web process)."""
    return [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data)]


def start_extraction(library: Path, data: Path) -> subprocess.Popen:
    """Index and extract the library in a separate process, while the app serves.

    The child gets its own session, so a Ctrl-C in the terminal reaches this process only;
    :func:`stop_extraction` then stops the child once (a second SIGINT arriving during its
    final merge would cut the merge short: harmless, as the next start finishes it, but slow).
    It starts with stops blocked, so a stop sent while its interpreter still starts waits for its
    own handlers (extraction/__main__.py) instead of ending it with a traceback.
    """
    with stops_blocked():
        return subprocess.Popen(extraction_command(library, data), start_new_session=True)


def reaped_when_done(process: subprocess.Popen | None) -> subprocess.Popen | None:
    """Wait for ``process`` in a daemon thread, so that one finishing before the app (the numba
    warm-up does in seconds) leaves no zombie in the process table while the app serves."""
    if process is not None:
        threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    return process


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


def library_or_its_analysis(library: Path, data: Path | None) -> Path:
    """The library folder (:func:`check_library`); when it is missing or unreadable but was
    analysed before, its path all the same, with a warning: an unmounted share or an unplugged
    disk must not hide the map of days of analysis (the extraction beside the app then changes
    nothing and the page says why; the audio plays again once the library is back)."""
    try:
        return check_library(library)
    except StartupError as error:
        from extraction.contract import TRACKS_FILE

        resolved = library.expanduser().resolve()
        data_dir = data_dir_for(resolved, data)
        if not (data_dir / TRACKS_FILE).is_file():
            raise
        log.warning("%s: serving its analysis in %s; the audio plays once it is back", error,
                    data_dir)  # fmt: skip
        return resolved


def check_port(host: str, port: int) -> None:
    """:class:`StartupError` if ``host:port`` cannot be listened on (in use, not allowed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the server itself binds: a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except socket.gaierror as error:
            raise StartupError(f"unknown address --host {host}: {error.strerror}") from None
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"port {port} is in use (another explore-dash?): choose another with "
                    f"--port {port + 1}"
                ) from None
            if error.errno == errno.EACCES:
                raise StartupError(
                    f"not allowed to listen on port {port}: choose one above 1023 with --port"
                ) from None
            raise StartupError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def missing_package(error: ImportError) -> StartupError | ImportError:
    """A one-line message for a module the install should have brought; other errors as they are."""
    from extraction.errors import REINSTALL_HINT
    from extraction.signals import missing_module

    name = missing_module(error)
    if name is None:
        return error
    return StartupError(f"a required package is missing (no module {name}); {REINSTALL_HINT}")


def worker_command(library: Path, redis_url: str) -> str:
    return f"python -m explore_dash.worker --library {library} --redis {redis_url}"


def run(
    *,
    library: Path,
    data: Path | None,
    host: str,
    port: int,
    extract: bool = True,
    maps_ahead: bool = True,
    anonymize: bool = False,
    redis_url: str | None = None,
    token: str | None = None,
    allow_hosts: Sequence[str] = (),
    mpd: str | None = None,
    mpd_root: str | None = None,
    subsonic: str | None = None,
    subsonic_user: str | None = None,
    debug: bool = False,
) -> int:
    """Serve the app (and run the extraction beside it) until Ctrl-C or SIGTERM.

    The keywords are the command line's options (:func:`build_parser`'s dests). Everything that
    can fail at start (the library, the port, the data folder, the installed packages, Redis,
    loading the tables) is checked before the extraction process starts, so a failure is one
    line and leaves nothing running. With ``redis_url`` the maps are computed by Celery workers
    (``python -m explore_dash.worker``, which also computes the maps ahead).
    """
    # SIGTERM stops the app like Ctrl-C, so the extraction is stopped cleanly too. SIGINT is
    # set explicitly: a shell starting us in the background would have it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    extraction = None
    warm_up = None
    ahead = None
    built = None
    try:
        library = library_or_its_analysis(library, data)
        data_dir = data_dir_for(library, data)
        check_data_dir(data_dir)
        check_port(host, port)
        check_jobs_backend(redis_url)
        token = access_token(host, token, dict(os.environ))
        hosts = allowed_hosts(allow_hosts)
        check_subsonic(subsonic, subsonic_user, dict(os.environ))
        try:
            with stops_held():
                from explore_dash.config import AppConfig
                from explore_dash.maps.ahead import start_maps_ahead
                from explore_dash.maps.numba_cache import numba_cache_dir, start_warm_up
                from explore_dash.server.app import build_app
            config = AppConfig(
                library, data_dir, host=host, port=port, anonymize=anonymize,
                extract=extract, redis=redis_url, token=token, allow_hosts=hosts,
                mpd=mpd, mpd_root=mpd_root, subsonic=subsonic, subsonic_user=subsonic_user,
            )  # fmt: skip
            built = build_app(config)
        except ImportError as error:
            raise missing_package(error) from None
        extraction = start_extraction(library, data_dir) if extract else None
        if redis_url is None:
            # The whole collection's t-SNE and UMAP maps, once the analysis has finished.
            ahead = reaped_when_done(start_maps_ahead(data_dir)) if maps_ahead else None
            # Compile UMAP's numba code into the on-disk cache now, in its own (low-priority)
            # process, so the first UMAP a user asks for does not wait for it.
            warm_up = reaped_when_done(start_warm_up(numba_cache_dir(data_dir)))
        else:
            print(
                f"explore-dash: maps are computed by Celery workers through {redis_url}; "
                f"start one with: {worker_command(library, redis_url)}",
                flush=True,
            )
        warning = exposure_warning(host)
        if warning:
            log.warning(warning)
        print(f"explore-dash: serving {library} at {visitor_url(host, port, token)}", flush=True)
        built.dash.run(
            host=host, port=port, debug=debug, use_reloader=False,
            dev_tools_silence_routes_logging=not debug,
            # Werkzeug's debugger answers before any request hook, so before the token's.
            use_debugger=debug and token is None,
        )  # fmt: skip
    except StartupError as error:
        print(f"explore-dash: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if built is not None:
            # The maps may be paused for the page (explore_dash/maps/yielding.py): let them go on,
            # or the stop signal would wait.
            built.maps_yield.release()
        for helper in (warm_up, ahead):
            if helper is not None and helper.poll() is None:
                helper.terminate()
                helper.send_signal(signal.SIGCONT)  # a paused process acts on SIGTERM once resumed
        if extraction is not None and extraction.poll() is None:
            print("explore-dash: stopping extraction (finished tracks are kept)…", flush=True)
            stop_extraction(extraction)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["history"]:  # explore-dash history import FILE ...
        from explore_dash.history.command import main as history_main

        return history_main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Request lines only when debugging (explore_dash/server/access.py keeps the token out of them).
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.debug else logging.WARNING)
    logging.getLogger("dash").setLevel(logging.WARNING)
    return run(**vars(args))
