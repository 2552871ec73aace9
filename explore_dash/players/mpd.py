"""MPD (Music Player Daemon) as the user's player: what explore-dash sends to its queue.

Every call opens its own short connection (python-mpd2) and closes it: MPD answers in
milliseconds on a LAN, a restarted MPD needs no reconnection logic, and two callbacks never share
a socket. Moments keep their place: each queued song gets a range (``rangeid``, MPD >= 0.20), so
the speakers play "15 s from this moment", not the whole track.

The library sits somewhere inside MPD's ``music_directory``, which MPD only tells clients on its
local socket; so the prefix of the library's paths in MPD's database is found by searching for a
few of the library's files (:func:`library_prefix`), unless the user gave it (``--mpd-root``).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import mpd

from explore_dash.formatting import format_time

#: Where MPD listens unless told otherwise.
DEFAULT_PORT = 6600
#: The environment variable holding MPD's password: never a command-line argument (other
#: users of the machine see those) and never written to the page or a log line.
PASSWORD_VARIABLE = "EXPLORE_DASH_MPD_PASSWORD"
#: Seconds before a silent MPD counts as gone.
TIMEOUT_SECONDS = 5.0
#: How many of the library's files are looked up to find where the library sits in MPD.
PROBE_FILES = 8
#: The first MPD that plays a song's range (``rangeid``).
RANGES_SINCE = (0, 20)


class PlayerError(Exception):
    """MPD cannot be reached, refuses, or lacks what was asked; the message is for the page."""


@dataclass(frozen=True)
class MpdAddress:
    """Where MPD listens: a host name or address and a TCP port, or a Unix socket's path."""

    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        if self.host.startswith("/"):
            return self.host
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(text: str) -> MpdAddress:
    """``HOST``, ``HOST:PORT``, ``[IPv6]:PORT`` or a socket's absolute path, as ``--mpd`` takes it.

    Raises
    ------
    ValueError
        For an empty host or a port that is not a number in 1..65535.
    """
    text = text.strip()
    if text.startswith("/"):
        return MpdAddress(text, 0)
    host, port = text, str(DEFAULT_PORT)
    if text.startswith("["):  # [::1]:6600
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT for MPD, got {text!r}")
    return MpdAddress(host, int(port))


@dataclass(frozen=True)
class QueueItem:
    """One song to queue: its path relative to the library, and the part of it to play.

    Attributes
    ----------
    path : str
        POSIX path relative to the library root, as ``tracks.parquet`` stores it.
    start : float
        Seconds into the song where it starts playing (0: from the top).
    end : float or None
        Seconds where it stops; None plays to the song's end.
    """

    path: str
    start: float = 0.0
    end: float | None = None

    def range_text(self) -> str | None:
        """MPD's ``START:END`` range, or None for the whole song."""
        if self.start <= 0 and self.end is None:
            return None
        end = "" if self.end is None else f"{self.end:.3f}"
        return f"{max(0.0, self.start):.3f}:{end}"


def library_prefix(found: dict[str, list[str]]) -> str | None:
    """Where the library sits in MPD's database, from the URIs MPD found for some of its files.

    Parameters
    ----------
    found : dict of str to list of str
        For each library path looked up, the URIs of MPD's songs whose path contains it.

    Returns
    -------
    str or None
        The prefix ("" when the library is MPD's music_directory, else ending in "/") that the
        most looked-up files share, or None when none of them is in MPD.
    """
    votes: Counter[str] = Counter()
    for path, uris in found.items():
        prefixes = {uri[: -len(path)] for uri in uris if uri.endswith(path)}
        # A file name found under several folders (two copies of the library) says nothing.
        votes.update(p for p in prefixes if p == "" or p.endswith("/"))
    if not votes:
        return None
    return votes.most_common(1)[0][0]


def play_position(status: dict[str, str], replace: bool, first_added: int) -> int | None:
    """Where to start playing after a queue change: the first song added when the queue was
    replaced or MPD was stopped; None leaves what MPD plays, or holds paused, alone (songs were
    appended)."""
    if replace or status.get("state") == "stop":
        return first_added
    return None


@dataclass
class MpdPlayer:
    """The MPD explore-dash sends music to.

    Attributes
    ----------
    address : MpdAddress
    root : str or None
        The library's folder inside MPD's music_directory ("" for the music_directory itself);
        None: found on first use by :func:`library_prefix`.
    password : str or None
        From :data:`PASSWORD_VARIABLE`; kept out of ``repr``.
    """

    address: MpdAddress
    root: str | None = None
    password: str | None = field(default=None, repr=False)
    _found_root: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_options(cls, address: str, root: str | None = None) -> MpdPlayer:
        """The player ``--mpd`` and ``--mpd-root`` name, its password from the environment."""
        if root is not None:
            root = root.strip("/")
            root = f"{root}/" if root else ""
        return cls(parse_address(address), root, os.environ.get(PASSWORD_VARIABLE) or None)

    @contextmanager
    def client(self) -> Iterator[mpd.MPDClient]:
        """A connected client, closed after use; every failure as a :class:`PlayerError`."""
        client = mpd.MPDClient()
        client.timeout = TIMEOUT_SECONDS
        try:
            try:
                client.connect(self.address.host, self.address.port or None)
            except (OSError, mpd.ConnectionError) as error:
                raise PlayerError(f"MPD at {self.address} does not answer "
                                  f"({_reason(error)})") from None  # fmt: skip
            if self.password:
                try:
                    client.password(self.password)
                except mpd.CommandError:
                    raise PlayerError(f"MPD at {self.address} refused the password "
                                      f"({PASSWORD_VARIABLE})") from None  # fmt: skip
            try:
                yield client
            except mpd.CommandError as error:
                raise PlayerError(f"MPD refused: {_reason(error)}") from None
            except (OSError, mpd.ConnectionError) as error:
                raise PlayerError(f"MPD at {self.address} went away ({_reason(error)})") from None
        finally:
            with suppress(OSError, mpd.ConnectionError):
                client.disconnect()

    def library_root(self, client: mpd.MPDClient, sample: Sequence[str]) -> str:
        """The library's folder in MPD (given, or found once from ``sample`` paths and kept)."""
        if self.root is not None:
            return self.root
        with self._lock:
            if self._found_root is None:
                found = {path: [song["file"] for song in client.search("file", path)]
                         for path in sample[:PROBE_FILES]}  # fmt: skip
                prefix = library_prefix(found)
                if prefix is None:
                    raise PlayerError(
                        "MPD's database has none of this library's files: add the library to "
                        "MPD's music_directory and update it (mpc update), or give --mpd-root"
                    )
                self._found_root = prefix
            return self._found_root

    def queue(self, items: Sequence[QueueItem], *, replace: bool, sample: Sequence[str]
              ) -> Queued:  # fmt: skip
        """Put ``items`` in MPD's queue (instead of what is there, or after it) and play.

        Parameters
        ----------
        sample : sequence of str
            Some of the library's paths, to find where the library sits in MPD.

        Raises
        ------
        PlayerError
            MPD does not answer or refuses, or has none of the songs (the queue is unchanged).
        """
        if not items:
            raise PlayerError("nothing to send to MPD")
        with self.client() as client:
            root = self.library_root(client, [*sample, *(item.path for item in items)])
            ranges = plays_ranges(client)
            status = client.status()
            before = int(status.get("playlistlength", 0))
            # Added after what is queued, and only then is the old part taken out: a failure
            # (no such song, MPD gone) leaves the user's queue as it was.
            song_ids = add_items(client, root, items, ranges)
            missing = [item.path for item, song in zip(items, song_ids, strict=True)
                       if song is None]  # fmt: skip
            if len(missing) == len(items):
                raise PlayerError(f"MPD has none of these {len(missing)} songs: update its "
                                  "database (mpc update), or check --mpd-root")  # fmt: skip
            if replace and before:
                # Stopped first: MPD 0.23 can hang for good when the songs it plays and has
                # queued next (a range being opened) are deleted under it (seen here 1 time in
                # 2; never once stopped, in 8 tries).
                client.stop()
                client.delete((0, before))
            position = play_position(status, replace, 0 if replace else before)
            if position is not None:
                client.play(position)
        added = len(items) - len(missing)
        return Queued(tuple(song_ids), queued_message(added, missing, replace, ranges))


    def play_from(self, path: str, seconds: float) -> str:
        """MPD plays the library's file ``path`` from ``seconds`` in, if that is the song it
        plays now: a seek within the song's range, else the song again, from there, for as
        long as its range lasted (to its end for a whole song), in its place in the queue.

        Returns
        -------
        str
            What the page says; "" when MPD plays another song (nothing is done).
        """
        with self.client() as client:
            uri = self.library_root(client, [path]) + path
            song, status = client.currentsong(), client.status()
            if song.get("file") != uri or status.get("state") == "stop":
                return ""
            start_text, _, end_text = song.get("range", "").partition("-")
            start = float(start_text) if start_text else 0.0
            end = float(end_text) if end_text else None
            if start <= seconds and (end is None or seconds < end - 0.5):
                client.seekcur(f"{seconds - start:.3f}")
            else:
                again = QueueItem(path, seconds, None if end is None else seconds + end - start)
                [new] = add_items(client, self.library_root(client, [path]), [again],
                                  plays_ranges(client))  # fmt: skip
                client.moveid(new, int(status["song"]) + 1)
                # Stopped before the old song is deleted, then the new one played: deleting a
                # song MPD plays or has opened can hang MPD 0.23 for good (see queue()).
                client.stop()
                client.deleteid(int(song["id"]))
                client.playid(new)
        return f"MPD plays from {format_time(seconds)}"


@dataclass(frozen=True)
class Queued:
    """What :meth:`MpdPlayer.queue` did: MPD's song id of each item (None where MPD's database
    lacks the song), and what the page says of it."""

    song_ids: tuple[int | None, ...]
    message: str


def plays_ranges(client: mpd.MPDClient) -> bool:
    """Whether this MPD plays a song's range (``rangeid``)."""
    return tuple(int(n) for n in client.mpd_version.split(".")[:2]) >= RANGES_SINCE


def add_items(client: mpd.MPDClient, root: str, items: Sequence[QueueItem], ranges: bool
              ) -> list[int | None]:  # fmt: skip
    """Append ``items`` to MPD's queue, each with its range where MPD plays ranges; the new
    songs' ids, None for a song MPD's database lacks."""
    song_ids: list[int | None] = []
    for item in items:
        try:
            song = int(client.addid(root + item.path))
        except mpd.CommandError:
            song_ids.append(None)
            continue
        if ranges and item.range_text() is not None:
            client.rangeid(song, item.range_text())
        song_ids.append(song)
    return song_ids


def queued_message(added: int, missing: list[str], replace: bool, ranges: bool) -> str:
    """What the page says after sending songs to MPD (``added`` of them, at least one)."""
    text = f"{'Playing' if replace else 'Added'} {added} song{'s' * (added != 1)} in MPD"
    if missing:
        text += f"; {len(missing)} not in MPD's database (mpc update): {', '.join(missing[:3])}"
        text += "…" if len(missing) > 3 else ""
    if not ranges:
        text += " (whole songs: this MPD is older than 0.20 and cannot play a moment's range)"
    return text


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__
