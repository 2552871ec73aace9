"""Which segments a panel shows and which it highlights: music selection, thinning, highlights."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from explore_dash.data.collection import Space
from extraction.contract import SEGMENT_SECONDS


def _tracks_with_tags(track_tags_: Mapping[int, set[str]], tags: Iterable[str]) -> set[int]:
    wanted = {tag.lower() for tag in tags}
    if not wanted:
        return set()
    return {track for track, own in track_tags_.items() if own & wanted}


def tracks_matching(
    tracks: pd.DataFrame,
    track_tags: Mapping[int, set[str]],
    artists: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> np.ndarray:
    """Ids of the tracks by any of ``artists`` or with any of ``tags``; all when both are empty.

    Returns
    -------
    np.ndarray, shape (k,), int64, sorted
    """
    ids = tracks.index.to_numpy(np.int64)
    if not artists and not tags:
        return np.sort(ids)
    chosen = tracks["artist"].isin(list(artists)).to_numpy()
    tagged = np.isin(ids, np.fromiter(_tracks_with_tags(track_tags, tags), np.int64))
    return np.sort(ids[chosen | tagged])


def reduction_mask(segments: np.ndarray, every_n: int) -> np.ndarray:
    """Keep every ``every_n``-th segment of each track, starting with its first.

    Parameters
    ----------
    segments : np.ndarray, shape (n,)
        Segment index within its track (integers), or segment start in seconds (floats).
    every_n : int
        1 keeps everything.

    Returns
    -------
    np.ndarray, shape (n,), bool
    """
    if every_n < 1:
        raise ValueError(f"every_n must be at least 1, got {every_n}")
    segments = np.asarray(segments)
    if np.issubdtype(segments.dtype, np.floating):
        segments = np.rint(segments / SEGMENT_SECONDS).astype(np.int64)
    return (segments % every_n) == 0


def visible_mask(
    space: Space, track_ids: np.ndarray | Sequence[int], every_n: int = 1
) -> np.ndarray:
    """Rows of ``space`` to plot: segments of ``track_ids``, thinned to every ``every_n``-th.

    Returns
    -------
    np.ndarray, shape (len(space),), bool
    """
    return np.isin(space.track, np.asarray(track_ids, np.int64)) & reduction_mask(
        space.segment_index, every_n
    )


def highlight_mask(
    space: Space,
    tracks: pd.DataFrame,
    track_tags: Mapping[int, set[str]],
    artists: Sequence[str] = (),
    albums: Sequence[str] = (),
    track_ids: Sequence[int] = (),
    tags: Sequence[str] = (),
) -> np.ndarray:
    """Rows of ``space`` whose track matches any of the criteria (a union); none when all are empty.

    ``albums`` are album names as tagged, so two artists' albums of the same name both match.

    Returns
    -------
    np.ndarray, shape (len(space),), bool
    """
    chosen: set[int] = {int(t) for t in track_ids}
    if artists:
        chosen.update(tracks.index[tracks["artist"].isin(list(artists))].tolist())
    if albums:
        chosen.update(tracks.index[tracks["album"].isin(list(albums))].tolist())
    chosen |= _tracks_with_tags(track_tags, tags)
    return np.isin(space.track, np.fromiter(chosen, np.int64, len(chosen)))


