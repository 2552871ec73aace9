"""Staging finished tracks and merging them into the tables the app reads, and when to merge.

Crash safety comes from the order of writes: finished tracks go to staging in small batches
(segments first, then the tracks file that marks the batch complete); merging rewrites each
segment table atomically, then the tracks table, then drops the merged staging files. Merging is
idempotent, so a run killed at any point is finished by the next one without redoing a track.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from extraction.contract import STATUS_OK, segment_ids
from extraction.pca import matching_signs, pca_columns
from extraction.store import DataStore, SegmentBlock, tracks_frame
from extraction.task import Space, TrackResult


def stage_results(store: DataStore, results: Sequence[TrackResult]) -> None:
    """Write finished tracks to staging: from here on, a crash loses none of them."""
    tracks = tracks_frame([r.row for r in results])
    segments: dict[Space, list[SegmentBlock]] = {}
    for result in results:
        for space, block in result.segments.items():
            segments.setdefault(space, []).append(block)
    store.stage(tracks, {space: SegmentBlock.concat(blocks) for space, blocks in segments.items()})


def merge_staged(
    store: DataStore,
    removed: set[int] | None = None,
    backend: str | None = None,
    tracks: pd.DataFrame | None = None,
) -> bool:
    """Merge staged batches into the tables and drop removed tracks; refit PCA where changed.

    Idempotent: running it again after a crash at any point gives the same tables. ``backend``,
    the inference backend of the run, is recorded as ``state.json``'s ``"backend"``: for
    information only, since backends give equal outputs and no track is redone for it.
    ``tracks``: the tracks table to merge into, as a library scan left it (missing tracks
    marked, moved paths updated: :func:`extraction.missing.reconcile`); it is written even with
    nothing staged. Default: the stored one.

    Returns
    -------
    bool
        Whether any table changed.
    """
    removed = set(removed or ())
    batches = store.staged_batches()
    old_tracks = store.read_tracks() if tracks is None else tracks
    if not batches and tracks is None and not (removed & set(old_tracks["track"].astype(int))):
        store.clear_staged([])
        return False
    staged_tracks, staged_segments = store.read_staged(batches)
    staged_ids = set(staged_tracks["track"].astype(int))

    # A track whose file changed since its old row was written: all its old segments are stale.
    old_files = old_tracks.set_index("track")[["size", "mtime_ns"]]
    new_files = staged_tracks.set_index("track")[["size", "mtime_ns"]]
    common = old_files.index.intersection(new_files.index)
    differs = (old_files.loc[common] != new_files.loc[common]).any(axis=1)
    stale = {int(t) for t in common[differs.to_numpy()]}

    kept_old = old_tracks[~old_tracks["track"].isin(staged_ids | removed)]
    merged = pd.concat([kept_old, staged_tracks[~staged_tracks["track"].isin(removed)]])
    merged = merged.astype(kept_old.dtypes.to_dict()) if len(kept_old) else merged
    ok_ids = np.array(sorted(merged.loc[merged["status"] == STATUS_OK, "track"].astype(int)))
    # Every table written below says which version it belongs to; state.json, written last,
    # makes that version current (readers never mix two: see contract.VERSION_METADATA).
    state = store.read_state()
    version = int(state.get("version", 0)) + 1

    for space in sorted(set(store.segment_spaces()) | set(staged_segments)):
        old = store.read_segments(*space)
        new = staged_segments.get(space)
        parts = []
        if old is not None:
            drop = np.array(sorted(stale | removed | (set(new.track.tolist()) if new else set())))
            keep = np.isin(old.track, ok_ids) & ~np.isin(old.track, drop)
            if new is None and keep.all():
                continue
            parts.append(old.select(keep))
        if new is not None:
            parts.append(new.select(np.isin(new.track, ok_ids)))
        block = SegmentBlock.concat(parts).sorted()
        pca, std_pca = pca_columns(block.vector)
        previous = store.read_projection_columns(*space)
        if previous is not None:
            pca, std_pca = keep_orientation(block, (pca, std_pca), previous)
        store.write_segments(*space, block, pca, std_pca, version)

    store.write_tracks(merged, version)
    state["version"] = version
    # An empty table (every track pruned) has no largest id: NaN must not reach int().
    largest = int(merged["track"].max()) if len(merged) else -1
    state["next_track_id"] = max(int(state.get("next_track_id", 0)), largest + 1)
    if backend is not None:
        state["backend"] = backend
    store.write_state(state)
    store.clear_staged(batches)
    return True


def keep_orientation(
    block: SegmentBlock,
    columns: tuple[np.ndarray, np.ndarray],
    previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Flip refitted ``pca``/``std_pca`` axes to agree with the table they replace.

    Parameters
    ----------
    block : SegmentBlock
        The merged segments (n rows).
    columns : (pca, std_pca), each np.ndarray, shape (n, width)
    previous : (track, offset, pca, std_pca) of the old table

    Returns
    -------
    pca, std_pca : np.ndarray, shape (n, width)
    """
    old_track, old_offset, *old_columns = previous
    _, new_rows, old_rows = np.intersect1d(
        segment_ids(block.track, block.offset),
        segment_ids(old_track, old_offset),
        assume_unique=True,
        return_indices=True,
    )
    if len(new_rows) == 0:
        return columns
    aligned = []
    for new, old in zip(columns, old_columns, strict=True):
        width = min(new.shape[1], old.shape[1])
        signs = np.ones(new.shape[1], dtype=np.float32)
        signs[:width] = matching_signs(new[new_rows, :width], old[old_rows, :width])
        aligned.append(new * signs)
    return aligned[0], aligned[1]


class MergeSchedule:
    """When a running extraction merges finished tracks into the tables the app reads.

    The first merge comes as soon as ``first_seconds`` of audio are finished (the user's first
    map: enough segments for a picture, see :func:`extraction.plan.quick_start_order`); later ones
    at least ``every_seconds`` apart, and at least four times as far apart as the last merge
    took, so merging never costs more than a fifth of the run however big the tables grow.
    """

    def __init__(self, every_seconds: float | None, first_seconds: float = 0.0) -> None:
        self.every_seconds = every_seconds
        self.first_seconds = first_seconds
        self.last_end: float | None = None
        self.last_cost = 0.0

    def due(self, audio_done: float = float("inf")) -> bool:
        """Whether to merge now, with ``audio_done`` seconds of audio finished so far."""
        if self.every_seconds is None:
            return False
        if self.last_end is None:
            return audio_done >= self.first_seconds
        gap = max(self.every_seconds, 4.0 * self.last_cost)
        return time.monotonic() - self.last_end >= gap

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.last_end = time.monotonic()
            self.last_cost = self.last_end - start
