"""Playlists from selected segments: the tracks they belong to, as Extended M3U8 text and files."""

from __future__ import annotations

import logging
import math
import os
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from explore_dash.data import segment_track

log = logging.getLogger(__name__)

PLAYLIST_DIR = "playlists"
PLAYLIST_SUFFIX = ".m3u8"
MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class PlaylistEntry:
    """One track of a playlist.

    Attributes
    ----------
    track : int
        Id in ``tracks.parquet``.
    path : str
        Relative to the library root, POSIX separators.
    duration : float
        Seconds; NaN when unknown.
    """

    track: int
    path: str
    artist: str
    title: str
    duration: float


def playlist_from_segments(
    segment_ids: Iterable[int] | np.ndarray, tracks: pd.DataFrame
) -> list[PlaylistEntry]:
    """The tracks of the selected segments, each once, the most selected first.

    A track with more segments in a selection lies more squarely in the selected region, so it
    comes first; ties keep the order in which the tracks first appear in ``segment_ids``. Ids of
    tracks that are not in ``tracks`` (no longer playable) are skipped.

    Parameters
    ----------
    segment_ids : array-like, shape (n,), int
    tracks : pd.DataFrame
        :attr:`explore_dash.data.Collection.tracks`.
    """
    ids = np.asarray(list(segment_ids) if not isinstance(segment_ids, np.ndarray) else segment_ids)
    counts = Counter(int(t) for t in segment_track(ids.astype(np.int64)))
    # Counter keeps first-appearance order and sorted() is stable, so ties keep that order.
    ordered = sorted(counts, key=lambda track: -counts[track])
    return entries_for_tracks(ordered, tracks)


def entries_for_tracks(track_ids: Iterable[int], tracks: pd.DataFrame) -> list[PlaylistEntry]:
    """Playlist entries for ``track_ids`` in that order; ids no longer playable are skipped."""
    entries = []
    for track in track_ids:
        track = int(track)
        if track not in tracks.index:
            continue
        row = tracks.loc[track]
        entries.append(
            PlaylistEntry(
                track=track,
                path=str(row["path"]),
                artist=str(row["artist"]),
                title=str(row["title"]),
                duration=float(row["duration"]),
            )
        )
    return entries


# Control characters and Unicode line/paragraph separators: anything a reader might take as a
# line break, so a hostile tag cannot add lines (directives, paths) to the playlist.
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return " ".join(_LINE_BREAKING.sub(" ", text).split())


def _playlist_path(path: str, library: Path, absolute: bool) -> str:
    if absolute:
        return str(Path(os.path.abspath(library)) / PurePosixPath(path))
    relative = PurePosixPath(path).as_posix()
    # A line starting with "#" is a comment or directive in M3U.
    return f"./{relative}" if relative.startswith("#") else relative


def to_m3u8(entries: Iterable[PlaylistEntry], library: Path, absolute: bool = True) -> str:
    """An Extended M3U8 playlist of ``entries``.

    ``#EXTM3U``, then per entry ``#EXTINF:<seconds>,<artist> - <title>`` and its path, each line
    ending with ``\\n``. Seconds are rounded (-1 when unknown, as M3U readers expect). Paths are
    absolute (inside ``library``) or relative to the library root with POSIX separators. Line
    breaks and control characters in tags become spaces; an entry whose *path* holds one cannot be
    written faithfully and is left out.
    """
    lines = ["#EXTM3U"]
    for entry in entries:
        if _LINE_BREAKING.search(entry.path):
            log.warning("left out of playlist, path has a line break: %r", entry.path)
            continue
        seconds = round(entry.duration) if math.isfinite(entry.duration) else -1
        name = " - ".join(
            part for part in (_one_line(entry.artist), _one_line(entry.title)) if part
        )
        lines.append(f"#EXTINF:{seconds},{name}")
        lines.append(_playlist_path(entry.path, library, absolute))
    return "\n".join(lines) + "\n"


_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w\-. ()]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in "123456789"
}


def safe_playlist_name(name: str) -> str:
    """A file name for a playlist called ``name``: no separators, no leading dots, ``.m3u8``.

    Letters and digits of any script, spaces, ``-``, ``_``, ``.`` and parentheses are kept; every
    other character becomes ``_``. Empty or all-unsafe names give ``playlist.m3u8``.
    """
    text = unicodedata.normalize("NFC", name or "")
    for suffix in (PLAYLIST_SUFFIX, ".m3u"):
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
    text = _UNSAFE_NAME_CHARACTERS.sub("_", _one_line(text))
    # Leading dots hide the file (and ".." climbs); trailing dots and spaces vanish on Windows.
    text = text.lstrip(". ").rstrip(". ")[:MAX_NAME_LENGTH].rstrip(". ")
    if not text.strip("_"):
        text = "playlist"
    if text.split(".")[0].lower() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text + PLAYLIST_SUFFIX


def save_playlist(text: str, data_dir: Path, name: str) -> Path:
    """Write playlist ``text`` to ``<data_dir>/playlists/<safe name>.m3u8``, replacing a namesake.

    The file is written under a temporary name and renamed, so it is never seen half written.

    Returns
    -------
    Path
        Where the playlist was saved.
    """
    directory = Path(data_dir) / PLAYLIST_DIR
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / safe_playlist_name(name)
    if target.parent != directory:  # defence in depth: the name sanitizer must prevent this
        raise ValueError(f"unsafe playlist name {name!r}")
    temporary = directory / f".tmp-{uuid.uuid4().hex}{PLAYLIST_SUFFIX}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
