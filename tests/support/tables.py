"""Checks on the extraction's tables in a data folder, shared by the tests that stop a run
(a kill, Ctrl-C, a worker shut down) and read what it left."""

from __future__ import annotations

from pathlib import Path

from extraction.contract import STATUS_OK
from extraction.store import DataStore


def assert_consistent(data: Path) -> None:
    """Every segment table holds exactly the tracks the tracks table calls ok."""
    store = DataStore(data)
    tracks = store.read_tracks()
    ok = set(tracks.loc[tracks["status"] == STATUS_OK, "track"].astype(int))
    for space in store.segment_spaces():
        assert store.segment_tracks(*space) == ok, space
    assert not store.staged_batches()
