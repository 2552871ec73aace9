"""Panel figures: which segments a panel shows, and the Plotly figure dict that draws them.

A panel's figure has four WebGL traces, always in this order:

0. every visible segment (grey, or coloured: :mod:`explore_dash.data.colouring`), carrying segment
   ids in ``customdata``;
1. the highlighted segments drawn again in red on top (so they are never hidden);
2. the highlighted tracks' trajectories (their segments joined in time order), or nothing;
3. the start and end marks of those trajectories.

Hover labels are drawn by the browser (assets/explore-labels.js) from the segment id, a track-name
table sent once with the page, and each point's top-tag indices in the trace's ``meta``: that
keeps a 100k-point panel at ~3 MB instead of ~10 MB of label strings, and lets the same label
appear in the other panel. Arrays travel as base64 typed arrays (``{"dtype", "bdata"}``,
understood by plotly.js ≥ 2.28).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explore_dash.data.collection import Collection, Space
from explore_dash.data.filters import highlight_mask, visible_mask
from explore_dash.data.windows import kept_windows, window_means, window_starts
from explore_dash.maps.projections import STORED_PROJECTIONS, project_stored, projection_input

# DEFAULT_PANELS, PLAIN_LOOK and MapLook: re-exported (``as``) for callbacks/ (inputs.py,
# panels.py), which another change of issue 33 is restructuring; they go once callbacks/ imports
# them from explore_dash.maps.settings.
from explore_dash.maps.settings import DEFAULT_PANELS as DEFAULT_PANELS
from explore_dash.maps.settings import PLAIN_LOOK as PLAIN_LOOK
from explore_dash.maps.settings import MapLook as MapLook
from explore_dash.maps.settings import PanelSettings

BASE_COLOR = "#8a97a8"
HIGHLIGHT_COLOR = "#e0242b"
HIGHLIGHT_RIM = "#5c0a0d"
#: The numbered line of a radio or path drawn over both maps (assets/explore-flow.js).
CHAIN_COLOR = "#1d5fd0"
SELECTED_OPACITY = 0.95
UNSELECTED_OPACITY = 0.15
#: Marker diameters in px: the highlighted points a little larger, so they stand out.
BASE_SIZE = 5
HIGHLIGHT_SIZE = 6
#: Highlighted tracks' segments joined in time order (MapLook.trajectories).
TRAJECTORY_COLOR = "#1b1f24"
TRAJECTORY_START = "triangle-right"
TRAJECTORY_END = "square"
MAX_TRAJECTORIES = 12
#: The plot's background: the browser veils unselected points with it (assets/explore-selection.js).
PLOT_BACKGROUND = "#fbfbfd"
#: The names of a panel figure's traces, in their order (the module's first lines); the browser
#: code finds a trace by its place (explore_dash/layouts/client.py).
TRACES = ("segments", "highlight", "trajectories", "trajectory ends")


@dataclass
class PanelPoints:
    """The segments one panel shows.

    Attributes
    ----------
    rows : np.ndarray, shape (n,), int64
        Rows of the panel's space.
    segment_ids : np.ndarray, shape (n,), int64
    xy : np.ndarray, shape (n, 2), float32, or None
        Where each segment lies on the map; None while the map is not computed (t-SNE, UMAP).
    tags : np.ndarray, shape (n, 3), uint8, optional
        Indices into ``labels`` of each segment's top tags (255: none).
    labels : sequence of str
    members, starts : np.ndarray, int64, optional
        For windows of several segments: the rows of every segment of the shown windows, in
        order, and where each window begins in ``members``; ``rows`` are then each window's
        first row. None for single segments.
    window : int
        Segments per point (0: whole tracks).
    """

    space: Space
    rows: np.ndarray
    segment_ids: np.ndarray
    xy: np.ndarray | None
    tags: np.ndarray | None = None
    labels: Sequence[str] = ()
    members: np.ndarray | None = None
    starts: np.ndarray | None = None
    window: int = 1
    #: Placed with the whole collection's map (a subset of it), not a map of their own.
    subset: bool = False

    @property
    def windowed(self) -> bool:
        """Whether each point is a window of several segments (:mod:`explore_dash.data.windows`)."""
        return self.members is not None

    def features(self, projection: str) -> np.ndarray:
        """What t-SNE or UMAP of these points runs on: a window's mean for a window."""
        if self.members is None:
            return projection_input(self.space, self.rows, projection)
        return window_means(projection_input(self.space, self.members, projection), self.starts)

    def space_features(self) -> np.ndarray:
        """The points in their space: the 32 stored principal components (a window's mean).

        Returns
        -------
        np.ndarray, shape (n, 32), float32
        """
        if self.members is None:
            return np.asarray(self.space.pca[self.rows], np.float32)
        return window_means(self.space.pca[self.members], self.starts)

    @property
    def ready(self) -> bool:
        """Whether the map's coordinates are known (stored, cached or computed)."""
        return self.xy is not None


def panel_points(
    collection: Collection,
    settings: PanelSettings,
    track_ids: np.ndarray,
    every_n: int,
    tag_indices: np.ndarray | None = None,
    labels: Sequence[str] = (),
    coordinates: np.ndarray | None = None,
    window: int = 1,
) -> PanelPoints:
    """The visible segments (or windows) of one panel: chosen tracks, thinned, projected to 2-D.

    Parameters
    ----------
    tag_indices : np.ndarray, shape (len(space), 3), uint8, optional
        Top-tag label indices of every row of the panel's space, for hover labels.
    coordinates : np.ndarray, shape (n_visible, 2), optional
        Computed map (t-SNE, UMAP) of the visible rows; stored projections are read otherwise.
    window : int
        Segments per point (1: single segments; 0: whole tracks); see :mod:`windows`.
    """
    space = collection.space(settings.model, settings.layer)
    if window != 1:
        return _window_points(space, settings, track_ids, every_n, window, tag_indices, labels,
                              coordinates)  # fmt: skip
    rows = np.flatnonzero(visible_mask(space, track_ids, every_n))
    xy: np.ndarray | None = None
    if coordinates is not None:
        xy = np.asarray(coordinates, np.float32)
    elif settings.projection in STORED_PROJECTIONS:
        xy = project_stored(space, settings.projection, rows)
    tags = tag_indices[rows] if tag_indices is not None else None
    return PanelPoints(space, rows, space.segment_ids[rows], xy, tags, tuple(labels))


def _window_points(space: Space, settings: PanelSettings, track_ids: np.ndarray, every_n: int,
                   window: int, tag_indices, labels, coordinates) -> PanelPoints:  # fmt: skip
    """:func:`panel_points` for windows of ``window`` segments (0: whole tracks)."""
    chosen = np.flatnonzero(visible_mask(space, track_ids, 1))
    index = space.segment_index[chosen]
    starts = window_starts(space.track[chosen], index, window)
    kept = kept_windows(index, starts, window, every_n)
    lengths = np.diff(np.r_[starts, len(chosen)])
    members = chosen[np.repeat(kept, lengths)]
    member_starts = (np.cumsum(lengths[kept]) - lengths[kept]).astype(np.int64)
    rows = members[member_starts]
    xy: np.ndarray | None = None
    if coordinates is not None:
        xy = np.asarray(coordinates, np.float32)
    elif settings.projection in STORED_PROJECTIONS:
        xy = window_means(project_stored(space, settings.projection, members), member_starts)
    tags = tag_indices[rows] if tag_indices is not None else None
    return PanelPoints(space, rows, space.segment_ids[rows], xy, tags, tuple(labels),
                       members, member_starts, window)  # fmt: skip


_TYPED_ARRAY_CODES = {
    np.dtype(np.float32): "f4",
    np.dtype(np.float64): "f8",
    np.dtype(np.int32): "i4",
    np.dtype(np.uint8): "u1",
}


def typed_array(values: np.ndarray) -> dict:
    """A numpy array as a plotly.js typed-array spec (little-endian, base64)."""
    values = np.ascontiguousarray(values)
    code = _TYPED_ARRAY_CODES[values.dtype]
    little = values.astype(values.dtype.newbyteorder("<"), copy=False)
    return {"dtype": code, "bdata": base64.b64encode(little.tobytes()).decode("ascii")}


def id_array(segment_ids: np.ndarray) -> dict:
    """Segment ids as a typed array: float64 holds every id exactly (ids < 2**53)."""
    return typed_array(np.asarray(segment_ids, dtype=np.float64))


def highlight_rows(
    points: PanelPoints,
    tracks: pd.DataFrame,
    tags_by_track: Mapping[int, set[str]],
    highlight: dict,
) -> np.ndarray:
    """Indices into ``points`` of the highlighted segments."""
    if not any(highlight.values()):
        return np.zeros(0, np.int64)
    mask = highlight_mask(
        points.space,
        tracks,
        tags_by_track,
        artists=highlight.get("artists") or (),
        albums=highlight.get("albums") or (),
        track_ids=[int(t) for t in highlight.get("tracks") or ()],
        tags=highlight.get("tags") or (),
    )
    return np.flatnonzero(mask[points.rows])


def trace_arrays(points: PanelPoints, indices: np.ndarray | None = None) -> dict:
    """The data arrays of a trace showing ``points`` (or its ``indices``)."""
    chosen = slice(None) if indices is None else indices
    meta: dict = {"labels": list(points.labels)}
    if points.tags is not None:
        meta["tags"] = typed_array(np.ascontiguousarray(points.tags[chosen], np.uint8))
    return {
        "x": typed_array(points.xy[chosen, 0]),
        "y": typed_array(points.xy[chosen, 1]),
        "customdata": id_array(points.segment_ids[chosen]),
        "meta": meta,
    }


def trajectory_paths(
    points: PanelPoints, highlighted: np.ndarray, limit: int = MAX_TRAJECTORIES
) -> list[np.ndarray]:
    """Each highlighted track's points in time order (the first ``limit`` tracks).

    Parameters
    ----------
    highlighted : np.ndarray, shape (k,), int64
        Indices into ``points``.

    Returns
    -------
    list of np.ndarray, each shape (m,), int64: indices into ``points``
    """
    if not len(highlighted):
        return []
    tracks = points.space.track[points.rows]
    offsets = points.space.offset[points.rows]
    chosen = pd.unique(tracks[highlighted])[:limit]
    paths = []
    for track in chosen:
        mine = np.flatnonzero(tracks == track)
        paths.append(mine[np.argsort(offsets[mine], kind="stable")])
    return paths


def trajectory_arrays(points: PanelPoints, paths: list[np.ndarray]) -> tuple[dict, dict]:
    """The data arrays of the trajectory line trace and of its start and end marks.

    Tracks are joined in one line trace, NaN between them (Plotly leaves a gap there).
    """
    if not paths or points.xy is None:
        empty = typed_array(np.zeros(0, np.float32))
        return {"x": empty, "y": empty}, {"x": empty, "y": empty,
                                          "customdata": id_array(np.zeros(0, np.int64)),
                                          "marker": trajectory_ends_marker([])}  # fmt: skip
    gap = np.full((1, 2), np.nan, np.float32)
    joined = np.concatenate([part for path in paths for part in (points.xy[path], gap)][:-1])
    ends = np.array([index for path in paths for index in (path[0], path[-1])], np.int64)
    line = {"x": typed_array(joined[:, 0]), "y": typed_array(joined[:, 1])}
    marks = {
        "x": typed_array(points.xy[ends, 0]),
        "y": typed_array(points.xy[ends, 1]),
        "customdata": id_array(points.segment_ids[ends]),
        "marker": trajectory_ends_marker(["start", "end"] * len(paths)),
    }
    return line, marks


def trajectory_ends_marker(kinds: Sequence[str]) -> dict:
    """A trajectory's start (a triangle pointing on) and end (a square) marks."""
    symbols = [TRAJECTORY_START if kind == "start" else TRAJECTORY_END for kind in kinds]
    return {"size": 11, "color": TRAJECTORY_COLOR, "symbol": symbols,
            "line": {"color": "#ffffff", "width": 1}}  # fmt: skip


def base_marker(colour: dict | None = None) -> dict:
    """The segments' marker: grey, or coloured by ``colour`` (data/colouring.py)."""
    return {"size": BASE_SIZE, "opacity": 0.75, **(colour or {"color": BASE_COLOR})}


def panel_figure(
    points: PanelPoints,
    highlighted: np.ndarray,
    *,
    title: str,
    uirevision: str,
    colour: dict | None = None,
    trajectories: bool = False,
) -> dict:
    """The figure dict of one panel.

    The linked selection is not part of it: the browser draws it over the panel
    (assets/explore-selection.js), which costs no redraw of the WebGL points.

    Parameters
    ----------
    highlighted : np.ndarray, shape (k,), int64
        Indices into ``points`` to draw in red.
    uirevision : str
        Plotly keeps zoom while this stays the same; it changes with the panel's space, so a
        new map starts unzoomed and a highlight or selection change keeps the user's zoom.
    colour : dict, optional
        The segments' marker colour fields (:func:`base_marker`); grey without.
    trajectories : bool
        Join each highlighted track's segments in time order (traces 2 and 3; empty if not).
    """
    common = {
        "type": "scattergl",
        "mode": "markers",
        # Labels are drawn by assets/explore-labels.js; "none" still emits hover events, "skip" not.
        "hoverinfo": "none",
        "selected": {"marker": {"opacity": SELECTED_OPACITY}},
        "unselected": {"marker": {"opacity": UNSELECTED_OPACITY}},
        "showlegend": False,
    }
    base = {
        **common,
        "name": "segments",
        **trace_arrays(points),
        "marker": base_marker(colour),
    }
    red = {
        **common,
        "name": "highlight",
        **trace_arrays(points, highlighted),
        # The dark rim keeps red points apart from coloured ones.
        "marker": {"size": HIGHLIGHT_SIZE, "color": HIGHLIGHT_COLOR, "opacity": 0.9,
                   "line": {"color": HIGHLIGHT_RIM, "width": 1}},  # fmt: skip
    }
    line, marks = trajectory_arrays(
        points, trajectory_paths(points, highlighted) if trajectories else []
    )
    path = {
        "type": "scattergl",
        "mode": "lines",
        "name": "trajectories",
        "hoverinfo": "skip",
        "showlegend": False,
        "line": {"color": TRAJECTORY_COLOR, "width": 1.5},
        **line,
    }
    ends = {**common, "name": "trajectory ends", "hoverinfo": "skip", **marks}
    return {
        "data": [base, red, path, ends],
        "layout": {
            "title": {"text": title, "font": {"size": 13}, "x": 0.01},
            "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            # A drag moves the map (scroll zooms); box and lasso, which select, are in the mode
            # bar: a stray drag no longer changes the playlist.
            "dragmode": "pan",
            "hovermode": "closest",
            "uirevision": uirevision,
            "plot_bgcolor": PLOT_BACKGROUND,
            "paper_bgcolor": "#ffffff",
            "clickmode": "event",  # a click plays (Listen = Click); only a drag selects
        },
    }
