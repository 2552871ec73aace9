"""Tracks whose files are gone: kept and marked missing, found again when moved, dropped only on
``--prune``; and the check that refuses a run when most of the library vanished at once.

A library on a network share that is not mounted, or on a disk that is not plugged in, reads as
an empty folder. Its analysis is days of a machine's time, so a file that is not there is never
a reason to delete anything: its rows and segments stay, marked with the time it was first
found missing (``missing_since``); the app leaves it off the map, and it comes back without a
new analysis when its file does. A file moved or renamed inside the library keeps its track id
and its analysis when it can be recognised: the same size and modification time (``mv`` keeps
both) as exactly one missing track, and no other new file alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from extraction.errors import LibraryError
from extraction.library import LibraryFile

#: A run refuses to change anything when more than this share of the tracks that were there
#: disappears at once: an unmounted share or an unplugged disk, far more often than a user
#: deleting a quarter of their music (who says so with ``--prune``).
VANISHED_FRACTION = 0.25

PRUNE_HINT = "run with --prune to drop them for good"


class LibraryVanishedError(LibraryError):
    """The library looks unmounted or mostly gone: the run changed nothing (message: why)."""


@dataclass(frozen=True)
class LibraryChanges:
    """What a scan found against the tracks table, before anything is extracted.

    Attributes
    ----------
    tracks : pd.DataFrame
        The tracks table with moved files' paths updated and ``missing_since`` set: the Unix
        time a track was first found missing (kept from before), NaN for a present one.
    missing : frozenset of int
        Tracks whose files are not in the library now.
    newly_missing : frozenset of int
        Those of ``missing`` that were present before this scan.
    returned : frozenset of int
        Tracks marked missing before whose files are back.
    moved : dict of int to (str, str)
        Track id -> (old path, new path) of files recognised at another path.
    present_before : int
        Tracks that were not marked missing before this scan.
    """

    tracks: pd.DataFrame
    missing: frozenset[int] = frozenset()
    newly_missing: frozenset[int] = frozenset()
    returned: frozenset[int] = frozenset()
    moved: dict[int, tuple[str, str]] = field(default_factory=dict)
    present_before: int = 0

    @property
    def changed(self) -> bool:
        """Whether the tracks table must be written (a mark set or cleared, a path moved)."""
        return bool(self.newly_missing or self.returned or self.moved)


def _file_key(size: object, mtime_ns: object) -> tuple[int, int]:
    return int(size), int(mtime_ns)


def find_moves(
    absent: pd.DataFrame, new_files: Sequence[LibraryFile]
) -> dict[int, LibraryFile]:
    """Missing tracks recognised at a new path: one candidate each way, same size and mtime.

    Parameters
    ----------
    absent : pd.DataFrame
        Rows of the tracks table whose paths are not in the library now.
    new_files : sequence of LibraryFile
        Files at paths the tracks table does not know.

    Returns
    -------
    dict of int to LibraryFile
        Track id -> the file it moved to. Ambiguous keys (two missing tracks, or two new
        files, of the same size and mtime: copies of one file, say) match nothing: a wrong
        match would show one song's analysis under another's name.
    """
    by_key_tracks: dict[tuple[int, int], list[int]] = {}
    for track, size, mtime in zip(absent["track"], absent["size"], absent["mtime_ns"], strict=True):
        by_key_tracks.setdefault(_file_key(size, mtime), []).append(int(track))
    by_key_files: dict[tuple[int, int], list[LibraryFile]] = {}
    for file in new_files:
        by_key_files.setdefault(_file_key(file.size, file.mtime_ns), []).append(file)
    return {
        tracks[0]: by_key_files[key][0]
        for key, tracks in by_key_tracks.items()
        if len(tracks) == 1 and len(by_key_files.get(key, ())) == 1
    }


def reconcile(previous: pd.DataFrame, files: Sequence[LibraryFile], now: float) -> LibraryChanges:
    """Compare the tracks table with the files a scan found; nothing is dropped.

    Parameters
    ----------
    previous : pd.DataFrame
        The tracks table (``extraction.store.DataStore.read_tracks``), with ``missing_since``.
    files : sequence of LibraryFile
        What :func:`extraction.library.scan_library` found.
    now : float
        Unix time to record for tracks found missing in this scan.

    Returns
    -------
    LibraryChanges
    """
    tracks = previous.copy()
    was_missing = tracks["missing_since"].notna().to_numpy()
    present_paths = {f.path for f in files}
    known_paths = set(tracks["path"])
    absent = ~tracks["path"].isin(present_paths).to_numpy()

    ids = tracks["track"].astype(int).to_numpy()
    moves = find_moves(tracks[absent], [f for f in files if f.path not in known_paths])
    moved: dict[int, tuple[str, str]] = {}
    path_column = tracks.columns.get_loc("path")
    for index in np.flatnonzero(absent):
        file = moves.get(int(ids[index]))
        if file is not None:
            moved[int(ids[index])] = (str(tracks["path"].iloc[index]), file.path)
            tracks.iloc[index, path_column] = file.path
            absent[index] = False

    since = tracks["missing_since"].to_numpy(dtype=np.float64, copy=True)
    since[absent & ~was_missing] = now
    since[~absent] = np.nan
    tracks["missing_since"] = since
    return LibraryChanges(
        tracks=tracks,
        missing=frozenset(ids[absent].tolist()),
        newly_missing=frozenset(ids[absent & ~was_missing].tolist()),
        returned=frozenset(ids[~absent & was_missing].tolist()),
        moved=moved,
        present_before=int((~was_missing).sum()),
    )


def vanished_reason(
    changes: LibraryChanges, files_found: int, library: Path, prune: bool = False
) -> str | None:
    """One line saying why the run must change nothing, or None when it may go on.

    A library with no audio file at all, while the table holds tracks, is refused even with
    ``prune``: pruning against an empty folder would delete the whole analysis. More than
    :data:`VANISHED_FRACTION` of the present tracks gone at once is refused unless ``prune``.
    """
    gone = len(changes.newly_missing)
    if gone == 0:
        return None
    if files_found == 0:
        return (
            f"{library} holds no audio files, yet {changes.present_before} tracks were analysed "
            "there: is the share mounted or the disk plugged in? Nothing changed (to start "
            "over, delete the data folder)"
        )
    if prune or gone <= VANISHED_FRACTION * changes.present_before:
        return None
    return (
        f"{gone} of the {changes.present_before} analysed tracks are missing from {library}: "
        f"is part of it unmounted or unreadable? Nothing changed; if they are gone, "
        f"{PRUNE_HINT}"
    )
