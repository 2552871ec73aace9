"""Planning a run: which files of the library to extract, under which track ids, and in what
order (the whole library sampled early, the first map's tracks first).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

import pandas as pd

from extraction.contract import STATUS_ERROR
from extraction.library import LibraryFile, assign_track_ids
from extraction.task import Space, TrackTask


def plan_work(
    files: Sequence[LibraryFile],
    previous: pd.DataFrame,
    done_by_space: dict[Space, set[int]],
    spaces: Sequence[Space],
    next_track_id: int,
    *,
    force: bool = False,
    pending_ids: dict[str, int] | None = None,
) -> tuple[dict[str, int], list[tuple[LibraryFile, int]], int, int]:
    """Decide which files need extraction.

    A file is redone when it is new, its size or modification time changed, or a requested
    (model, layer) lacks it. A file that failed before and has not changed is not retried.
    ``pending_ids`` are ids an interrupted run gave to files it had not finished. Tracks no
    longer in the library are :func:`extraction.missing.reconcile`'s concern.

    Returns
    -------
    ids : dict of path to track id
    todo : list of (LibraryFile, track id)
    unchanged : int
    next_track_id : int
    """
    # Ids handed out by an interrupted run are reused, so resuming gives the same tables.
    known = {
        **(pending_ids or {}),
        **dict(zip(previous["path"], previous["track"].astype(int), strict=True)),
    }
    next_track_id = max(next_track_id, int(previous["track"].max()) + 1 if len(previous) else 0)
    ids, next_track_id = assign_track_ids((f.path for f in files), known, next_track_id)
    by_path = previous.set_index("path") if len(previous) else None
    todo: list[tuple[LibraryFile, int]] = []
    unchanged = 0
    for file in files:
        track = ids[file.path]
        if not force and by_path is not None and file.path in by_path.index:
            old = by_path.loc[file.path]
            same_file = int(old["size"]) == file.size and int(old["mtime_ns"]) == file.mtime_ns
            if same_file and old["status"] == STATUS_ERROR:
                unchanged += 1
                continue
            if same_file and all(track in done_by_space.get(s, ()) for s in spaces):
                unchanged += 1
                continue
        todo.append((file, track))
    return ids, todo, unchanged, next_track_id


def spread_order(todo: Sequence[tuple[LibraryFile, int]]) -> list[tuple[LibraryFile, int]]:
    """Interleave folders so the first tracks done sample the whole library.

    The map is usable while extraction runs; taking one track from each album folder in turn
    (rather than finishing ``A/`` before starting ``Z/``) makes its first minutes show every
    corner of the collection. Within a folder the order is kept.

    Parameters
    ----------
    todo : sequence of (LibraryFile, track id)

    Returns
    -------
    list of (LibraryFile, track id)
        The same items, round-robin over parent folders (folders in sorted order).
    """
    by_folder: dict[str, list[tuple[LibraryFile, int]]] = {}
    for item in todo:
        by_folder.setdefault(PurePosixPath(item[0].path).parent.as_posix(), []).append(item)
    queues = [by_folder[folder] for folder in sorted(by_folder)]
    ordered: list[tuple[LibraryFile, int]] = []
    for rank in range(max((len(q) for q in queues), default=0)):
        ordered.extend(queue[rank] for queue in queues if rank < len(queue))
    return ordered


#: Audio the first map waits for: about 50 segments from a few tracks, a first picture.
FIRST_MAP_SECONDS = 150.0


def quick_start_order(
    tasks: Sequence[TrackTask], seconds: float = FIRST_MAP_SECONDS
) -> list[TrackTask]:
    """Put the shortest tracks first, until they hold ``seconds`` of audio; keep the rest's order.

    The first merge, and so the user's first map, waits for those tracks: a handful of short
    ones give a first picture after seconds, where one 10-minute track would take a minute.
    Tracks of unknown duration count as long.

    Parameters
    ----------
    tasks : sequence of TrackTask
    seconds : float
        Audio to gather at the front.

    Returns
    -------
    list of TrackTask
        The same tasks: the quick ones (shortest first), then the others in their order.
    """
    by_length = sorted(
        range(len(tasks)), key=lambda i: tasks[i].tags.get("duration") or float("inf")
    )
    quick: list[int] = []
    gathered = 0.0
    for index in by_length:
        if gathered >= seconds:
            break
        duration = tasks[index].tags.get("duration")
        if duration is None:
            break
        quick.append(index)
        gathered += duration
    chosen = set(quick)
    return [tasks[i] for i in quick] + [t for i, t in enumerate(tasks) if i not in chosen]
