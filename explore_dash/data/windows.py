"""Longer segments: windows of consecutive 3-s segments of a track, averaged into one point.

A window of ``size`` segments starts at every ``size``-th segment of its track (size 0: the whole
track). Its vector is the mean of its segments' vectors. The stored PCA and STD-PCA columns are
affine maps of the vectors, so the mean of a window's stored columns *is* its mean vector
projected on the stored axes: windows are built from the segment table on the fly, without the
vectors. t-SNE and UMAP, which run on the 32 stored components, get the windows' means too.

A window is named by its first segment's id, so playback, selection, playlists and the radio
take it as they take a segment: it starts there.
"""

from __future__ import annotations

import numpy as np

from extraction.contract import SEGMENT_SECONDS

#: The Segment length menu: segments per window (as the menu's string value) -> label.
SEGMENT_LENGTHS = {"1": "3 s", "2": "6 s", "4": "12 s", "10": "30 s", "0": "whole track"}
WHOLE_TRACK = 0


def window_starts(track: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """Where each window begins among rows sorted by track, then time.

    Parameters
    ----------
    track, index : np.ndarray, shape (n,), int
        Each row's track and position in it.
    size : int
        Segments per window; :data:`WHOLE_TRACK` (0) for one window per track.

    Returns
    -------
    np.ndarray, shape (w,), int64
        Index of each window's first row; windows run to the next start.
    """
    if len(track) == 0:
        return np.zeros(0, np.int64)
    window = index // size if size else np.zeros(len(index), np.int64)
    change = (track[1:] != track[:-1]) | (window[1:] != window[:-1])
    return np.flatnonzero(np.r_[True, change]).astype(np.int64)


def window_means(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The mean of ``values`` over each window.

    Parameters
    ----------
    values : np.ndarray, shape (n, d)
    starts : np.ndarray, shape (w,), int64
        From :func:`window_starts`.

    Returns
    -------
    np.ndarray, shape (w, d), float32
    """
    if len(starts) == 0:
        return np.zeros((0, values.shape[1]), np.float32)
    sums = np.add.reduceat(np.asarray(values, np.float64), starts, axis=0)
    counts = np.diff(np.r_[starts, len(values)])
    return (sums / counts[:, None]).astype(np.float32)


def kept_windows(index: np.ndarray, starts: np.ndarray, size: int, every_n: int) -> np.ndarray:
    """Which windows the thinning slider keeps: every ``every_n``-th of each track, from its first.

    Returns
    -------
    np.ndarray, shape (w,), bool
    """
    if size == WHOLE_TRACK or every_n <= 1:
        return np.ones(len(starts), bool)
    return (index[starts] // size) % every_n == 0


def window_seconds(size: int) -> float | None:
    """How long a window plays; None for a whole track (to its end)."""
    return None if size == WHOLE_TRACK else size * SEGMENT_SECONDS
