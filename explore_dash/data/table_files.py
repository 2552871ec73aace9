"""The data folder's tables of one version, opened together and checked against ``state.json``.

A merge writes the tables, then ``state.json``. :func:`open_version` opens every table and
checks that none is newer than ``state.json``'s version (a merge halfway), and the open files
then stay that version whatever a merge writes meanwhile. :func:`file_stamp` tells later
whether ``state.json`` changed (a new version to load).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from extraction.contract import (
    STATE_FILE,
    TRACKS_FILE,
    read_version,
    segment_path,
    segment_spaces,
    table_version,
)


class TableFile(io.RawIOBase):
    """A table opened once, read at positions (``os.pread``) from a position of its own.

    The background jobs are forked from the server: an ordinary file object there would share
    its offset with the server's, and a read in one process would move the other's.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.name = str(path)
        self._fd = os.open(path, os.O_RDONLY)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position,
                io.SEEK_END: os.fstat(self._fd).st_size}[whence]  # fmt: skip
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def open_table(path: Path) -> TableFile | None:
    """``path``, opened; None when it is not there (removed meanwhile: not in this version)."""
    try:
        return TableFile(path)
    except FileNotFoundError:
        return None


def opened_version(handle: BinaryIO) -> int | None:
    """The version an open table was written for (footer metadata); None if unmarked/unreadable."""
    try:
        version = table_version(pq.ParquetFile(handle).schema_arrow)
    except (OSError, pa.ArrowException):
        return None  # a damaged table is reported when it is read
    handle.seek(0)
    return version


def close_all(handles: Iterable[BinaryIO]) -> None:
    for handle in handles:
        handle.close()


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime) of ``path``: a different one means a rewritten file; None if absent."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass
class OpenedVersion:
    """The tables of one version of a data folder, open.

    Attributes
    ----------
    version : int
        ``state.json``'s version.
    state_stamp : tuple or None
        :func:`file_stamp` of ``state.json`` when ``version`` was read.
    tracks : TableFile or None
        ``tracks.parquet``; None when there is none.
    spaces : dict of (model, layer) to TableFile
        Every segment table.
    settled : bool
        False when a table is newer than ``version``: a merge stopped (or still is) halfway.
    """

    version: int
    state_stamp: tuple[int, int, int] | None
    tracks: TableFile | None
    spaces: dict[tuple[str, str], TableFile]
    settled: bool


def open_version(data_dir: Path, wait_seconds: float) -> OpenedVersion:
    """Open every table of ``data_dir``'s current version.

    Loaded while a merge is halfway, tables newer than state.json's version would mix with
    older ones: this waits (up to ``wait_seconds``) for state.json, and then gives what there
    is, with ``settled`` False (0: at once).
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        # Stamp, then version, then tables: a merge landing meanwhile is seen by the next
        # check, or by the tables' own versions.
        stamp = file_stamp(data_dir / STATE_FILE)
        version = read_version(data_dir)
        tracks_file = open_table(data_dir / TRACKS_FILE)
        opened = {space: open_table(segment_path(data_dir, *space))
                  for space in segment_spaces(data_dir)}  # fmt: skip
        spaces = {space: table for space, table in opened.items() if table is not None}
        everything = [*spaces.values(), *([tracks_file] if tracks_file else [])]
        settled = all(v is None or v <= version for v in map(opened_version, everything))
        if settled or time.monotonic() >= deadline:
            return OpenedVersion(version, stamp, tracks_file, spaces, settled)
        close_all(everything)
        time.sleep(0.05)
