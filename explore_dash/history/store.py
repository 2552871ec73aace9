"""The listens table in the data folder (``listens.parquet``): every listen imported, matched
or not, kept once (the same time, artist and title are one listen), and only ever added to.

The music folder is never touched, and the extraction never reads or writes this file: a
rescan or re-analysis keeps the history.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from explore_dash.history.exports import Listen

#: The listens table's file in the data folder.
LISTENS_FILE = "listens.parquet"
COLUMNS = ("time", "artist", "title", "album", "source", "track")
#: What makes two listens the same listen.
SAME_LISTEN = ["time", "artist", "title"]


def read_listens_table(data_dir: Path) -> pd.DataFrame:
    """The kept listens (columns :data:`COLUMNS`; ``track`` -1 where unmatched), oldest first."""
    path = data_dir / LISTENS_FILE
    if not path.exists():
        return pd.DataFrame({name: pd.Series(dtype="int64" if name in ("time", "track") else str)
                             for name in COLUMNS})  # fmt: skip
    return pd.read_parquet(path)


def listens_frame(listens: Sequence[Listen], tracks: np.ndarray) -> pd.DataFrame:
    """``listens`` and their matched track ids as rows of the table."""
    frame = pd.DataFrame(
        [(one.time, one.artist, one.title, one.album, one.source) for one in listens],
        columns=list(COLUMNS[:-1]),
    )
    frame["time"] = frame["time"].astype(np.int64)
    frame["track"] = np.asarray(tracks, np.int64)
    return frame


def add_listens(data_dir: Path, new: pd.DataFrame) -> int:
    """Add ``new`` listens to the table, each listen once; how many were not there before.

    Written to a temporary file and renamed over the table: a crash leaves the old table whole.
    """
    old = read_listens_table(data_dir)
    together = pd.concat([old, new], ignore_index=True).drop_duplicates(SAME_LISTEN)
    added = len(together) - len(old)
    if added:
        together = together.sort_values("time", kind="stable").reset_index(drop=True)
        path = data_dir / LISTENS_FILE
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        together.to_parquet(temporary, index=False)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    return added
