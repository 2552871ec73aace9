"""Playlists from selected segments: the tracks they belong to, as Extended M3U8 text and files."""

from __future__ import annotations

import logging
import math
import os
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explore_dash.formatting import whole_seconds
from extraction.contract import library_file_path, segment_track

log = logging.getLogger(__name__)

PLAYLIST_DIR = "playlists"
PLAYLIST_SUFFIX = ".m3u8"
#: A file name holds 255 bytes on most file systems: the name, its suffix and a "_" fit.
MAX_NAME_BYTES = 200
#: A saved playlist's size: about 100,000 tracks with long paths. An export is written to the
#: data folder and sent to the page, so a forged one must not fill either.
MAX_PLAYLIST_BYTES = 32 * 2**20
#: Playlists kept in the playlists folder; a new name past this is refused, a known one replaced.
MAX_SAVED_PLAYLISTS = 1_000


class PlaylistError(Exception):
    """A playlist that cannot be saved: too long, or no room for another; the message says so."""


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
        :attr:`explore_dash.data.collection.Collection.tracks`.
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


# What may end a line for some reader: a path holding one cannot be written as one line. A tab is
# no line break, and real file names have them.
_PATH_BREAKING = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return " ".join(_LINE_BREAKING.sub(" ", text).split())


def _path_bytes(stored: str, library: Path, relative_to_library: bool) -> bytes:
    """A track's playlist line: the file's real name bytes, absolute or from the library root.

    Players open the line's bytes as a file name, so a name that is not UTF-8 (stored as
    private-use characters) is written as its original bytes, not as its stored text.
    """
    root = Path(os.path.abspath(library))
    on_disk = library_file_path(root, stored)
    if not relative_to_library:
        return os.fsencode(on_disk)
    relative = os.fsencode(on_disk.relative_to(root).as_posix())
    # A line starting with "#" is a comment or directive in M3U.
    return b"./" + relative if relative.startswith(b"#") else relative


#: VLC's per-entry option for where playback starts, in seconds (other players ignore it).
VLC_START_TIME = "#EXTVLCOPT:start-time="


def to_m3u8(
    entries: Iterable[PlaylistEntry],
    library: Path,
    relative_to_library: bool = False,
    starts: Mapping[int, float] | None = None,
) -> bytes:
    """An Extended M3U8 playlist of ``entries``.

    ``#EXTM3U``, then per entry ``#EXTINF:<seconds>,<artist> - <title>`` and its path, each line
    ending with ``\n``. Seconds are rounded half up, as the page shows them (-1 when unknown,
    as M3U readers expect). Paths are absolute by default, so the playlist opens wherever it is
    saved; ``relative_to_library`` writes them from the library root with POSIX separators, for
    a playlist kept there. Text is UTF-8 and paths are the files' own name bytes (the same, but
    for names that are not UTF-8). Line breaks and control characters in tags become spaces; an
    entry whose *path* holds one cannot be written faithfully and is left out. ``starts`` (track
    id → seconds) adds ``#EXTVLCOPT:start-time=<seconds>`` before the path of each track that
    has one, so VLC starts it at that moment (a radio's or path's).
    """
    lines = [b"#EXTM3U"]
    for entry in entries:
        if _PATH_BREAKING.search(entry.path):
            log.warning("left out of playlist, path has a line break: %r", entry.path)
            continue
        seconds = whole_seconds(entry.duration) if math.isfinite(entry.duration) else -1
        name = " - ".join(
            part for part in (_one_line(entry.artist), _one_line(entry.title)) if part
        )
        lines.append(f"#EXTINF:{seconds},{name}".encode())
        start = (starts or {}).get(entry.track)
        if start is not None and math.isfinite(start) and start > 0:
            lines.append(f"{VLC_START_TIME}{start:.3f}".encode())
        lines.append(_path_bytes(entry.path, library, relative_to_library))
    return b"\n".join(lines) + b"\n"


_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w\-. ()]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in "123456789"
}


def _cut_to_bytes(text: str, most: int) -> str:
    """``text``'s longest start that is at most ``most`` bytes in UTF-8 (whole characters)."""
    return text.encode("utf-8")[:most].decode("utf-8", errors="ignore")


def safe_playlist_name(name: str) -> str:
    """A file name for a playlist called ``name``: no separators, no leading dots, ``.m3u8``.

    Letters and digits of any script, spaces, ``-``, ``_``, ``.`` and parentheses are kept; every
    other character becomes ``_``. Empty or all-unsafe names give ``playlist.m3u8``. A long name
    is cut to :data:`MAX_NAME_BYTES` bytes of UTF-8 (not characters: a CJK one is 3 bytes).
    """
    text = unicodedata.normalize("NFC", name or "")
    for suffix in (PLAYLIST_SUFFIX, ".m3u"):
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
    text = _UNSAFE_NAME_CHARACTERS.sub("_", _one_line(text))
    # Leading dots hide the file (and ".." climbs); trailing dots and spaces vanish on Windows.
    text = _cut_to_bytes(text.lstrip(". ").rstrip(". "), MAX_NAME_BYTES).rstrip(". ")
    if not text.strip("_"):
        text = "playlist"
    if text.split(".")[0].lower() in _WINDOWS_RESERVED:
        text = f"_{text}"
    return text + PLAYLIST_SUFFIX


def save_playlist(content: bytes, data_dir: Path, name: str) -> Path:
    """Write ``content`` to ``<data_dir>/playlists/<safe name>.m3u8``, replacing a namesake.

    The file is written under a temporary name and renamed, so it is never seen half written.

    Returns
    -------
    Path
        Where the playlist was saved.

    Raises
    ------
    PlaylistError
        ``content`` is over :data:`MAX_PLAYLIST_BYTES`, or the name is new and the folder
        already holds :data:`MAX_SAVED_PLAYLISTS` playlists.
    """
    if len(content) > MAX_PLAYLIST_BYTES:
        raise PlaylistError(
            f"This playlist is too long to save ({len(content) / 2**20:.0f} MB, at most "
            f"{MAX_PLAYLIST_BYTES // 2**20} MB): make it shorter."
        )
    directory = Path(data_dir) / PLAYLIST_DIR
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / safe_playlist_name(name)
    if target.parent != directory:  # defence in depth: the name sanitizer must prevent this
        raise ValueError(f"unsafe playlist name {name!r}")
    if not target.exists() and saved_playlists(directory) >= MAX_SAVED_PLAYLISTS:
        raise PlaylistError(
            f"The playlists folder ({directory}) already holds {MAX_SAVED_PLAYLISTS} playlists: "
            "delete some there, or save under the name of one to replace it."
        )
    temporary = directory / f".tmp-{uuid.uuid4().hex}{PLAYLIST_SUFFIX}"
    try:
        with open(temporary, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def saved_playlists(directory: Path) -> int:
    """How many playlists ``directory`` holds (temporary files of a save under way too)."""
    with os.scandir(directory) as entries:
        return sum(1 for entry in entries if entry.name.endswith(PLAYLIST_SUFFIX))


@dataclass(frozen=True)
class Export:
    """What *Export M3U8* produces: the copy kept in the data folder and the download.

    Attributes
    ----------
    saved : Path
        ``<data>/playlists/<name>.m3u8``, with absolute paths (it lives outside the library).
    download : bytes
        The downloaded file: absolute paths, or from the library root when asked.
    filename : str
        The download's file name.
    """

    saved: Path
    download: bytes
    filename: str


def export_playlist(
    entries: list[PlaylistEntry],
    library: Path,
    data_dir: Path,
    name: str,
    relative_to_library: bool = False,
    starts: Mapping[int, float] | None = None,
) -> Export:
    """Save ``entries`` under the data folder and make the download (never in the library).

    ``starts`` as in :func:`to_m3u8`.
    """
    saved = save_playlist(to_m3u8(entries, library, starts=starts), data_dir, name)
    download = (
        to_m3u8(entries, library, relative_to_library=True, starts=starts)
        if relative_to_library
        else saved.read_bytes()
    )
    return Export(saved, download, safe_playlist_name(name))
