"""The maps computed ahead step aside while someone uses the page.

At the lowest priority on a core of its own, the process computing the maps ahead still made
hover-to-audio 1.34-1.62x and a 10k selection 1.5x as long on a 2-core machine (the browser
renders WebGL in software and wants both cores; UMAP's neighbour search also loads the shared
cache). Priorities cannot fix that, so the server pauses the process (``SIGSTOP``) when a
request shows someone at the page, and lets it go on (``SIGCONT``) once the page has been quiet
for :data:`QUIET_SECONDS`. A paused process keeps its place: numba and BLAS code stops
mid-loop and resumes where it was.

Much of using the page never reaches the server (a box or lasso drag, a zoom, reading the map),
so the page also says so itself: on pointer, wheel and key events and after a panel is drawn it
posts to :data:`PRESENCE_PATH`, at most every :data:`PRESENCE_EVERY_SECONDS`
(assets/explore-presence.js). Without it the maps went on in the middle of a 2-s box drag, 3 s
after the hover before it, and took 1.1 s of CPU while the selection was computed and mirrored.

What is not interaction: the page's own timers (polls of the extraction's progress and of a
background job), which would otherwise keep the maps paused forever. A panel waiting for a map
the process is computing resumes it at once (:func:`want_map`), and the process is never
paused while such a wait lasts.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from explore_dash.maps.ahead_status import read_ahead_status
from explore_dash.maps.locks import LOCK_DIR, map_lock
from explore_dash.routes import AUDIO_PREFIX

log = logging.getLogger(__name__)

#: The maps go on once the page has sent no interactive request for this long (seconds).
QUIET_SECONDS = 3.0
#: How often the server looks whether to let the maps go on (seconds).
TICK_SECONDS = 0.25
#: A panel waiting for a map refreshes its mark this often; an older mark is a finished wait.
WANT_FRESH_SECONDS = 2.0
WANT_SUFFIX = ".wanted"
#: Where Dash's callbacks are posted (the request a timer sends too).
CALLBACK_PATH = "/_dash-update-component"
#: Where the page says someone is at it, and how often at most (less than QUIET_SECONDS, so a
#: person using the page without a request of its own keeps the maps paused).
PRESENCE_PATH = "/_presence"
PRESENCE_EVERY_SECONDS = 1.0
#: Query parameters of a background job's progress poll.
JOB_POLL_PARAMS = ("cacheKey", "job")


def is_interaction(path: str, args: dict, body: bytes | dict) -> bool:
    """Whether a request shows a person at the page (not one of its timers).

    Parameters
    ----------
    path : str
        The request's path, relative to the app's prefix.
    args : mapping
        Its query parameters.
    body : bytes or dict
        Its body: a callback's JSON, or that JSON already parsed.
    """
    if path.startswith(AUDIO_PREFIX) or path in ("/", "/_dash-layout", PRESENCE_PATH):
        return True
    if path != CALLBACK_PATH or any(name in args for name in JOB_POLL_PARAMS):
        return False
    try:
        payload = json.loads(body or b"null") if isinstance(body, bytes | str) else body
        changed = payload.get("changedPropIds") or []
    except (ValueError, UnicodeDecodeError, AttributeError):
        return False
    # A callback fired by a timer alone is the page polling; anything else a person did.
    return not all(isinstance(prop, str) and prop.endswith(".n_intervals") for prop in changed)


def _is_maps_ahead(pid: int) -> bool:
    """Whether ``pid`` runs the maps ahead (a pid reused by another program is left alone)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"explore_dash.maps.ahead" in command


def maps_ahead_pid(cache_dir: Path) -> int | None:
    """The maps-ahead process of this data folder while it computes a map (an idle one, waiting
    for an analysis or done, is left alone)."""
    status = read_ahead_status(cache_dir)
    if status is None or not status.computing or not _is_maps_ahead(status.pid):
        return None
    return status.pid


def map_wanted(cache_dir: Path, now: float | None = None) -> bool:
    """Whether a panel is waiting for a map now (a fresh mark in the lock folder)."""
    now = time.time() if now is None else now
    try:
        marks = list((Path(cache_dir) / LOCK_DIR).glob("*" + WANT_SUFFIX))
    except OSError:
        return False
    for mark in marks:
        try:
            if now - mark.stat().st_mtime < WANT_FRESH_SECONDS:
                return True
        except OSError:
            continue  # the wait just ended
    return False


def want_map(cache_dir: Path, key: str) -> None:
    """Mark (or refresh the mark) that a panel waits for the map ``key``, and resume the maps."""
    folder = Path(cache_dir) / LOCK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (key + WANT_SUFFIX)).touch()
    pid = maps_ahead_pid(cache_dir)
    if pid is not None:
        _signal(pid, signal.SIGCONT)


def unwant_map(cache_dir: Path, key: str) -> None:
    (Path(cache_dir) / LOCK_DIR / (key + WANT_SUFFIX)).unlink(missing_ok=True)


@contextmanager
def waiting_for_map(cache_dir: Path, key: str, poll_seconds: float = 0.25) -> Iterator[None]:
    """Hold the lock of the map ``key``, waiting for whoever computes it now; while waiting,
    the maps ahead are resumed and kept going (the map may be theirs)."""
    try:
        while True:
            with map_lock(cache_dir, key, wait=False) as held:
                if held:
                    unwant_map(cache_dir, key)
                    yield
                    return
            want_map(cache_dir, key)
            time.sleep(poll_seconds)
    finally:
        unwant_map(cache_dir, key)


def _signal(pid: int, signum: int) -> bool:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class MapsYield:
    """Pauses the maps-ahead process while the page is in use, resumes it when it is quiet.

    Parameters
    ----------
    cache_dir : Path
        The data folder's cache (where the process writes its status).
    clock : callable
        Seconds, monotonic (a parameter for the tests).
    send : callable
        ``send(pid, signum)``; :func:`os.kill` by default.
    """

    def __init__(
        self,
        cache_dir: Path,
        clock: Callable[[], float] = time.monotonic,
        send: Callable[[int, int], object] = _signal,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self._clock = clock
        self._send = send
        self._lock = threading.Lock()
        self._paused: int | None = None
        self._last_interaction = float("-inf")
        self._pid_looked = float("-inf")
        self._pid: int | None = None

    @property
    def paused(self) -> bool:
        return self._paused is not None

    def _current_pid(self) -> int | None:
        # The status file is read at most once a second, not on every request.
        now = self._clock()
        if now - self._pid_looked >= 1.0:
            self._pid, self._pid_looked = maps_ahead_pid(self.cache_dir), now
        return self._pid

    def interaction(self) -> None:
        """Someone is at the page: pause the maps (unless a panel waits for one)."""
        with self._lock:
            self._last_interaction = self._clock()
            if self._paused is not None:
                return
            pid = self._current_pid()
            if pid is None or map_wanted(self.cache_dir):
                return
            self._send(pid, signal.SIGSTOP)
            self._paused = pid

    def tick(self) -> None:
        """Resume the maps when the page has been quiet long enough or a panel waits for one."""
        with self._lock:
            if self._paused is None:
                return
            quiet = self._clock() - self._last_interaction >= QUIET_SECONDS
            if quiet or map_wanted(self.cache_dir):
                self._resume()

    def release(self) -> None:
        """Let the maps go on now (the server is stopping)."""
        with self._lock:
            if self._paused is not None:
                self._resume()

    def _resume(self) -> None:
        self._send(self._paused, signal.SIGCONT)
        self._paused = None

    def start(self) -> threading.Thread:
        """Tick in a daemon thread for as long as the server runs."""

        def loop() -> None:
            while True:
                time.sleep(TICK_SECONDS)
                try:
                    self.tick()
                except Exception:  # a failed tick must not end the loop and leave it paused
                    log.exception("maps ahead: could not resume")

        thread = threading.Thread(target=loop, name="maps-yield", daemon=True)
        thread.start()
        return thread


def install_maps_yield(server, cache_dir: Path, prefix: str = "/") -> MapsYield:
    """Pause the maps ahead on each interactive request to ``server`` (a Flask app), and add
    ``POST`` :data:`PRESENCE_PATH`, by which the page says someone is at it."""
    import flask

    maps_yield = MapsYield(cache_dir)
    root = prefix.rstrip("/")

    @server.before_request
    def pause_maps_ahead():
        path = flask.request.path
        path = path[len(root) :] if root and path.startswith(root) else path
        body = b""
        if path == CALLBACK_PATH:  # parsed by the callback guard, which runs first
            body = flask.g.get("callback_body") or flask.request.get_data(cache=True)
        if is_interaction(path or "/", flask.request.args, body):
            maps_yield.interaction()

    @server.post(PRESENCE_PATH, endpoint="explore_dash_presence")
    def presence() -> flask.Response:
        return flask.Response(status=204)  # the hook above has seen it

    maps_yield.start()
    return maps_yield
