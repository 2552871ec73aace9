"""The lock of each map: one computation of a map at a time, across threads and processes.

An ``flock`` on a file named after the map's cache key, in the cache's ``map-locks/`` folder: the
kernel releases it when its holder dies (a killed job, a stopped maps-ahead process), so a lock is
never left behind.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_DIR = "map-locks"


@contextmanager
def map_lock(cache_dir: Path, key: str, *, wait: bool) -> Iterator[bool]:
    """Hold the lock of the map ``key``; yields whether it is held (False: someone else has it).

    With ``wait``, blocks until it is free.
    """
    folder = Path(cache_dir) / LOCK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / key, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def map_being_computed(cache_dir: Path, key: str) -> bool:
    """Whether another process (or thread) holds the lock of the map ``key`` now."""
    with map_lock(cache_dir, key, wait=False) as held:
        return not held
