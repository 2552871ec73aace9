"""Colouring the map's points: by artist, album, genre, strongest auto-tag, or place in the track.

A category keeps its colour in both panels and across redraws because colours are handed out
once per snapshot, over the whole collection (the categories with the most segments first), not
per panel or per visible subset. The browser gets one small integer per point and a stepped
colour scale, so a recolour is a Patch of ``marker`` alone: the coordinates are not sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explore_dash.data.tags import genre_list

NONE = "none"
POSITION = "position"
#: The "Colour by" choices (value -> label), in menu order.
COLOUR_BY = {
    NONE: "nothing",
    "artist": "artist",
    "album": "album",
    "genre": "genre tag",
    "autotag": "strongest auto-tag",
    POSITION: "position in the track",
}
#: Categorical colours (Tableau 10 without its red, kept for highlights, and its grey).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
#: The categories past the palette's, together.
OTHER = "other"
OTHER_COLOR = "#c9ced6"
#: Points with no category at all (a track with no artist, no genre tag): an entry of their own,
#: not lumped into "other", which only means "more categories than colours".
UNKNOWN_COLOR = "#7f7f7f"
UNKNOWN_NAMES = {
    "artist": "no artist",
    "album": "no album",
    "genre": "no genre tag",
    "autotag": "no auto-tag",
}
#: Position in the track, start to end.
POSITION_SCALE = "Viridis"
POSITION_STEPS = 255


@dataclass(frozen=True)
class Palette:
    """The colour of each of the collection's top categories for one "Colour by" choice.

    Attributes
    ----------
    categories : tuple of str
        The top categories, most segments first; ``PALETTE[i]`` is the colour of the i-th.
    """

    by: str
    categories: tuple[str, ...]

    @property
    def colours(self) -> tuple[str, ...]:
        return PALETTE[: len(self.categories)]

    @property
    def other_code(self) -> int:
        return len(self.categories)

    @property
    def unknown_code(self) -> int:
        return len(self.categories) + 1

    @property
    def unknown_name(self) -> str:
        return UNKNOWN_NAMES.get(self.by, "none")

    def codes(self, labels: np.ndarray) -> np.ndarray:
        """Each label's colour number: ``other_code`` for the categories past the palette's,
        ``unknown_code`` for no category (``""``).

        Parameters
        ----------
        labels : np.ndarray, shape (n,), object (str)

        Returns
        -------
        np.ndarray, shape (n,), uint8
        """
        out = np.full(len(labels), self.other_code, np.uint8)
        out[labels == ""] = self.unknown_code
        for code, category in enumerate(self.categories):
            out[labels == category] = code
        return out


def first_genre(genre: str) -> str:
    """The first of a genre field's tags (``"Ambient; Drone"`` -> ``"ambient"``), or ``""``."""
    genres = genre_list(genre)
    return genres[0] if genres else ""


def track_categories(tracks: pd.DataFrame, by: str) -> pd.Series:
    """Each track's category for ``by`` (artist, album or genre); ``""`` when it has none.

    An album is named with its artist, so two artists' "Greatest Hits" are two albums.
    """
    if by == "artist":
        return tracks["artist"].astype(str)
    if by == "album":
        album = tracks["album"].astype(str)
        named = tracks["artist"].astype(str).str.cat(album, sep=" – ").where(album != "", "")
        return named.str.lstrip(" –")
    if by == "genre":
        return tracks["genre"].astype(str).map(first_genre)
    raise ValueError(f"{by!r} is not a track category")


def point_labels(
    by: str,
    point_tracks: np.ndarray,
    tracks: pd.DataFrame,
    top_tags: np.ndarray | None = None,
    tag_labels: Sequence[str] = (),
) -> np.ndarray:
    """The category of each point, for a categorical ``by``.

    Parameters
    ----------
    point_tracks : np.ndarray, shape (n,), int
        The track of each point.
    top_tags : np.ndarray, shape (n, k), uint8, optional
        Each point's strongest tags as indices into ``tag_labels`` (``tags.NO_TAG``: none); for
        "autotag".

    Returns
    -------
    np.ndarray, shape (n,), object
    """
    if by == "autotag":
        names = np.array([*tag_labels, ""], dtype=object)
        if top_tags is None or not len(tag_labels):
            return np.full(len(point_tracks), "", dtype=object)
        first = top_tags[:, 0].astype(np.int64)
        return names[np.where(first < len(tag_labels), first, len(tag_labels))]
    per_track = track_categories(tracks, by)
    rows = per_track.index.get_indexer(np.asarray(point_tracks, np.int64))
    values = np.array([*per_track.to_numpy(dtype=object), ""], dtype=object)
    return values[np.where(rows >= 0, rows, len(per_track))]


def rank_categories(labels: np.ndarray, by: str) -> Palette:
    """The palette of ``by`` from every segment's category (``labels``, one per segment)."""
    counts = pd.Series(labels[labels != ""]).value_counts()
    # Most segments first; a tie goes to the name, so the order does not depend on row order.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return Palette(by, tuple(str(name) for name, _ in ranked[: len(PALETTE)]))


def legend(palette: Palette, codes: np.ndarray) -> list[tuple[str, str]]:
    """(label, colour) of the categories present in ``codes``, in palette order, then "other"
    (categories past the palette's), then no category ("no artist" and the like)."""
    present = set(np.unique(codes).tolist())
    entries = [(name, colour) for code, (name, colour)
               in enumerate(zip(palette.categories, palette.colours, strict=True))
               if code in present]  # fmt: skip
    if palette.other_code in present:
        entries.append((OTHER, OTHER_COLOR))
    if palette.unknown_code in present:
        entries.append((palette.unknown_name, UNKNOWN_COLOR))
    return entries


def stepped_scale(colours: Sequence[str]) -> list[list]:
    """A Plotly colour scale that gives integer ``i`` in [0, len(colours)) the colour ``i``."""
    n = len(colours)
    scale = []
    for i, colour in enumerate(colours):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


def track_positions(point_tracks: np.ndarray, offsets: np.ndarray, tracks: pd.DataFrame,
                    segment_seconds: float) -> np.ndarray:  # fmt: skip
    """Where each point lies in its track, 0 (start) to 1 (end).

    Parameters
    ----------
    offsets : np.ndarray, shape (n,), float
        Segment starts in seconds. A track of unknown duration is measured by its last segment.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    point_tracks = np.asarray(point_tracks, np.int64)
    offsets = np.asarray(offsets, np.float64)
    duration = tracks["duration"].reindex(point_tracks).to_numpy(np.float64)
    last = pd.Series(offsets + segment_seconds).groupby(point_tracks).transform("max").to_numpy()
    length = np.where(np.isfinite(duration) & (duration > 0), duration, last)
    middle = offsets + segment_seconds / 2
    return np.clip(middle / np.maximum(length, 1e-6), 0, 1).astype(np.float32)


def category_marker(palette: Palette, codes: np.ndarray, typed_array) -> dict:
    """The ``marker`` colour fields of a trace coloured by category."""
    colours = [*palette.colours, OTHER_COLOR, UNKNOWN_COLOR]
    return {
        "color": typed_array(codes.astype(np.uint8)),
        "colorscale": stepped_scale(colours),
        "cmin": 0,
        "cmax": len(colours),
        "showscale": False,
    }


def position_marker(positions: np.ndarray, typed_array) -> dict:
    """The ``marker`` colour fields of a trace coloured by place in the track, with a scale.

    Sent as 256 steps (one byte a point, a quarter of float32's size): finer than the eye tells
    apart on a colour scale.
    """
    steps = np.rint(np.clip(positions, 0, 1) * POSITION_STEPS).astype(np.uint8)
    return {
        "color": typed_array(steps),
        "colorscale": POSITION_SCALE,
        "cmin": 0,
        "cmax": POSITION_STEPS,
        "showscale": True,
        "colorbar": {
            "thickness": 8,
            "len": 0.5,
            "x": 1.0,
            "xpad": 2,
            "tickvals": [0, POSITION_STEPS],
            "ticktext": ["start", "end"],
            "tickfont": {"size": 10},
        },
    }
