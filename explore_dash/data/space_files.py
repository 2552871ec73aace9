"""A space's columns as memory-mapped ``.npy`` files: read from the parquet table once per version.

A million segments in each of the 8 spaces is about 2.2 GB of ids, offsets and principal
components, and 4.5 GB of network outputs. Decoded from parquet into the server's memory on
every start, that is neither fast nor small. So the first read of a space writes its arrays, as
the app uses them (rows restricted to the playable tracks, sorted by segment id), into
``cache/spaces/<model>-<layer>/<key>-<column>.npy``; every later read maps those files. The
operating system then pages in only what a request touches: with the principal components
stored column by column (Fortran order), a PCA map reads its two columns, not thirty-two.

The key names the version of the tables and the segment table file (inode, size, mtime), so a
merge, or a table rewritten under the same version, never meets arrays of another table. Files
of older keys are removed when a new key is written. Everything here is derived data: deleting
``cache/spaces`` costs one re-read of the tables.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SPACES_DIR = "spaces"


def space_key(version: int, stamp: tuple[int, int, int]) -> str:
    """The name of one version of a space's files: tables version and table file stamp."""
    inode, size, mtime_ns = stamp
    return f"v{version}-{inode}-{size}-{mtime_ns}"


class SpaceFiles:
    """The memory-mapped columns of one (model, layer) space, for one key.

    Parameters
    ----------
    cache_dir : Path
        The data folder's cache.
    model, layer : str
    key : str
        From :func:`space_key`.
    """

    def __init__(self, cache_dir: Path, model: str, layer: str, key: str) -> None:
        self.folder = Path(cache_dir) / SPACES_DIR / f"{model}-{layer}"
        self.key = key

    def path(self, column: str) -> Path:
        return self.folder / f"{self.key}-{column}.npy"

    def load(self, column: str, rows: int | None = None) -> np.ndarray | None:
        """The column, memory-mapped read-only; None when absent, unreadable or of other length."""
        try:
            array = np.load(self.path(column), mmap_mode="r")
        except (OSError, ValueError):
            return None
        if rows is not None and array.shape[0] != rows:
            return None
        return array

    def save(self, column: str, array: np.ndarray, by_column: bool = False) -> np.ndarray:
        """Write ``array`` atomically and return it memory-mapped (``array`` itself on failure).

        Parameters
        ----------
        by_column : bool
            Store a matrix column by column (Fortran order): reading a few columns of every
            row then touches only those columns' pages.
        """
        temporary = self.folder / f".tmp-{uuid.uuid4().hex}.npy"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            np.save(temporary, np.asfortranarray(array) if by_column else array)
            os.replace(temporary, self.path(column))
            self._remove_other_keys()
        except OSError as error:
            log.warning("cannot keep %s in %s (%s); reading the tables each time", column,
                        self.folder, error)  # fmt: skip
            with contextlib.suppress(OSError):  # never made: its folder could not be
                temporary.unlink(missing_ok=True)
            return array
        mapped = self.load(column, array.shape[0])
        return array if mapped is None else mapped

    def _remove_other_keys(self) -> None:
        for old in self.folder.glob("*.npy"):
            if not old.name.startswith(self.key + "-") and not old.name.startswith(".tmp-"):
                # A process still mapping it keeps its pages until it lets go (POSIX unlink).
                old.unlink(missing_ok=True)



def kept(files: SpaceFiles | None, column: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()``, kept in ``files`` as ``column``: computed once per version of the space.

    For arrays derived from a space (its hover tags, its tracks' top tags): a later start maps
    the file instead of reading the inputs again. Without files, just ``compute()``.
    """
    if files is None:
        return compute()
    found = files.load(column)
    return found if found is not None else files.save(column, compute())
