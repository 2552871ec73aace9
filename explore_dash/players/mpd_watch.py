"""Following MPD: what it plays now and whether it answers, and a radio that lives in its queue.

One thread per app holds a connection to MPD and waits on MPD's ``idle`` (no busy poll): each
change of what plays or of the queue is read at once, and handed to the radio running in MPD,
which keeps :data:`AHEAD` moments queued after the playing one, whether or not a page is open.
MPD gone or restarted: the thread says so (:class:`PlayerView`) and tries again, every
:data:`RETRY_SECONDS`, until MPD answers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mpd

from explore_dash.players.mpd import MpdPlayer, PlayerError, QueueItem, add_items, plays_ranges

log = logging.getLogger(__name__)

#: Moments a radio in MPD keeps queued after the one playing.
AHEAD = 2
#: Seconds between tries while MPD does not answer.
RETRY_SECONDS = 2.0
#: Seconds of silence on the idle connection before it is opened anew (a link that died
#: without a word would otherwise hold the thread for good).
IDLE_SECONDS = 60.0
#: The MPD subsystems whose changes are followed; "message" wakes the thread to stop.
SUBSYSTEMS = ("player", "playlist", "message")


@dataclass(frozen=True)
class NowPlaying:
    """What MPD played when it was last read.

    Attributes
    ----------
    state : str
        ``"play"``, ``"pause"`` or ``"stop"``.
    uri : str or None
        The song's path in MPD's database; None when the queue has no current song.
    song_id : int or None
    range_start : float
        Where the song's range starts (0 for a whole song): MPD counts ``elapsed`` from there.
    elapsed : float
        Seconds into the range when read.
    read_at : float
        ``time.monotonic()`` when read.
    """

    state: str
    uri: str | None = None
    song_id: int | None = None
    range_start: float = 0.0
    elapsed: float = 0.0
    read_at: float = 0.0

    def position(self, now: float) -> float:
        """Seconds into the song at ``now`` (monotonic), counting on while it plays."""
        moving = now - self.read_at if self.state == "play" else 0.0
        return self.range_start + self.elapsed + max(0.0, moving)


def now_playing(status: dict[str, str], song: dict[str, str], read_at: float) -> NowPlaying:
    """:class:`NowPlaying` from MPD's ``status`` and ``currentsong`` answers."""
    state = status.get("state", "stop")
    if not song or "file" not in song:
        return NowPlaying(state, read_at=read_at)
    start = song.get("range", "").partition("-")[0]
    return NowPlaying(
        state,
        song["file"],
        int(song["id"]) if "id" in song else None,
        float(start) if start else 0.0,
        float(status.get("elapsed", 0.0)),
        read_at,
    )


@dataclass(frozen=True)
class PlayerView:
    """MPD as the page shows it: answering or why not, and what it plays."""

    answering: bool
    error: str = ""
    playing: NowPlaying | None = None
    radio: str = ""


#: The next moments of a radio after the segments it has played: ``more(segments, count)``
#: gives up to ``count`` (segment id, queue item) pairs, none when the radio has ended.
MoreMoments = Callable[[Sequence[int], int], list[tuple[int, QueueItem]]]


@dataclass
class MpdRadio:
    """A radio that lives in MPD's queue: the songs it added, its moments, and how it goes on.

    Filled from the page (:meth:`start`), topped up by the watcher's thread
    (:meth:`top_up`), so it goes on with no page open; it ends when it has nothing more to
    play, when MPD is stopped, or when its songs leave the queue (someone replaced it).
    """

    player: MpdPlayer
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _song_ids: list[int] = field(default_factory=list)
    _segments: list[int] = field(default_factory=list)
    _more: MoreMoments | None = None
    note: str = ""

    @property
    def active(self) -> bool:
        return self._more is not None

    def start(self, segments: Sequence[int], song_ids: Sequence[int | None],
              more: MoreMoments) -> None:  # fmt: skip
        """A radio sent to MPD: its moments' segments and the songs MPD queued for them."""
        with self._lock:
            self._segments = list(segments)
            self._song_ids = [song for song in song_ids if song is not None]
            self._more = more
            self.note = ""

    def stop(self, note: str = "") -> None:
        with self._lock:
            self._more = None
            self.note = note

    def top_up(self, client: mpd.MPDClient) -> None:
        """Keep :data:`AHEAD` of the radio's songs queued after the one playing."""
        with self._lock:
            if self._more is None:
                return
            more, segments = self._more, list(self._segments)
            queue = {int(song["id"]): int(song["pos"]) for song in client.playlistinfo()}
            ours = [song for song in self._song_ids if song in queue]
        if not ours:
            self.stop("The radio in MPD stopped: its songs left MPD's queue.")
            return
        status = client.status()
        if status.get("state") == "stop":
            self.stop("The radio in MPD stopped with MPD.")
            return
        current = int(status.get("song", -1))
        ahead = sum(1 for song in ours if queue[song] > current)
        if ahead >= AHEAD:
            return
        moments = more(segments, AHEAD - ahead)
        if not moments:
            self.stop("The radio in MPD has played every track it may.")
            return
        root = self.player.library_root(client, [])
        added = add_items(client, root, [item for _, item in moments], plays_ranges(client))
        with self._lock:
            if self._more is more:  # not stopped or replaced meanwhile
                self._segments += [segment for segment, _ in moments]
                self._song_ids += [song for song in added if song is not None]

    def describe(self) -> str:
        with self._lock:
            return "radio in MPD" if self._more is not None else self.note


class MpdWatcher:
    """The thread that follows MPD (started on first use) and keeps its radio going."""

    def __init__(self, player: MpdPlayer) -> None:
        self.player = player
        self.radio = MpdRadio(player)
        self._view = PlayerView(False, "connecting to MPD…")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Our own channel: a message on it wakes the idle connection (see stop()).
        self._channel = f"explore-dash-{uuid.uuid4().hex[:12]}"

    def ensure_started(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mpd-watch", daemon=True)
                self._thread.start()

    def view(self) -> PlayerView:
        self.ensure_started()
        with self._lock:
            view = self._view
        return PlayerView(view.answering, view.error, view.playing, self.radio.describe())

    def wake(self) -> None:
        """Have the thread look at MPD now (a radio just started in it), through a message on
        the thread's own channel, which ends its wait on ``idle``."""
        try:
            with self.player.client() as client:
                client.sendmessage(self._channel, "wake")
        except PlayerError:
            pass  # MPD is gone: the thread is waiting to try again

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def _set(self, view: PlayerView) -> None:
        with self._lock:
            self._view = view

    def _run(self) -> None:
        try:
            self._keep_following()
        except SystemExit:
            # Raised into this thread from outside: dash's test server ends every thread it did
            # not start that way. It means "stop", so stop without a traceback.
            return

    def _keep_following(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.player.client() as client:
                    client.idletimeout = IDLE_SECONDS
                    client.subscribe(self._channel)
                    self._follow(client)
            except PlayerError as error:
                self._set(PlayerView(False, f"{error}; trying again"))
                self._stopping.wait(RETRY_SECONDS)
            except Exception:  # never let the thread die: the page would freeze on old news
                log.exception("following MPD failed; trying again")
                self._stopping.wait(RETRY_SECONDS)

    def _follow(self, client: mpd.MPDClient) -> None:
        while not self._stopping.is_set():
            try:
                self.radio.top_up(client)
            except mpd.CommandError as error:
                self.radio.stop(f"The radio in MPD stopped: MPD refused ({error}).")
            playing = now_playing(client.status(), client.currentsong(), time.monotonic())
            self._set(PlayerView(True, "", playing))
            try:
                if "message" in client.idle(*SUBSYSTEMS):
                    client.readmessages()  # read, so the next idle waits again
            except TimeoutError:
                return  # quiet for a long time: open a fresh connection
