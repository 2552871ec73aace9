"""Panel figures: which segments a panel shows, and the Plotly figure dict that draws them.

A panel's figure has three traces, always in this order:

0. every visible segment (one WebGL trace, grey), carrying segment ids in ``customdata``;
1. the highlighted segments drawn again in red on top (so they are never hidden);
2. reserved for the linked-hover marker drawn client side.

Arrays go to the browser as base64 typed arrays (``{"dtype", "bdata"}``, understood by
plotly.js ≥ 2.28): a 100k-point panel is ~1 MB of coordinates instead of ~4 MB of JSON text.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explore_dash.data import (
    Collection,
    Space,
    highlight_mask,
    hover_texts,
    model_name,
    project,
    visible_mask,
)

BASE_COLOR = "#8a97a8"
HIGHLIGHT_COLOR = "#e0242b"
SELECTED_OPACITY = 0.95
UNSELECTED_OPACITY = 0.15


@dataclass(frozen=True)
class PanelSettings:
    """The four dropdowns of one panel."""

    architecture: str
    dataset: str
    layer: str
    projection: str

    @property
    def model(self) -> str:
        return model_name(self.architecture, self.dataset)


@dataclass
class PanelPoints:
    """The segments one panel shows.

    Attributes
    ----------
    rows : np.ndarray, shape (n,), int64
        Rows of the panel's space.
    segment_ids : np.ndarray, shape (n,), int64
    xy : np.ndarray, shape (n, 2), float32
    """

    space: Space
    rows: np.ndarray
    segment_ids: np.ndarray
    xy: np.ndarray
    segment_tags: Sequence[str] | None = None


def panel_points(
    collection: Collection,
    settings: PanelSettings,
    track_ids: np.ndarray,
    every_n: int,
    segment_tags: Sequence[str] | None = None,
) -> PanelPoints:
    """The visible segments of one panel: chosen tracks, thinned, projected to 2-D.

    ``segment_tags`` (one string per row of the space) go into the hover labels.
    """
    space = collection.space(settings.model, settings.layer)
    rows = np.flatnonzero(visible_mask(space, track_ids, every_n))
    xy = project(space, settings.projection, rows) if len(rows) else np.zeros((0, 2), np.float32)
    return PanelPoints(space, rows, space.segment_ids[rows], xy, segment_tags)


def typed_array(values: np.ndarray) -> dict:
    """A numpy array as a plotly.js typed-array spec (little-endian, base64)."""
    values = np.ascontiguousarray(values)
    dtype = {np.dtype(np.float32): "f4", np.dtype(np.float64): "f8", np.dtype(np.int32): "i4"}[
        values.dtype
    ]
    return {
        "dtype": dtype,
        "bdata": base64.b64encode(values.astype(values.dtype.newbyteorder("<")).tobytes()).decode(
            "ascii"
        ),
    }


def id_array(segment_ids: np.ndarray) -> dict:
    """Segment ids as a typed array: float64 holds every id exactly (ids < 2**53)."""
    return typed_array(np.asarray(segment_ids, dtype=np.float64))


def selected_indices(segment_ids: np.ndarray, selected: Sequence[int] | None) -> list[int] | None:
    """Point indices of ``selected`` ids among ``segment_ids``; None when nothing is selected."""
    if not selected:
        return None
    return np.flatnonzero(np.isin(segment_ids, np.asarray(selected, np.int64))).tolist()


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


def highlight_arrays(points: PanelPoints, indices: np.ndarray, tracks: pd.DataFrame) -> dict:
    """The data arrays of the red overlay trace (trace 1) for the highlighted ``indices``."""
    return {
        "x": typed_array(points.xy[indices, 0]),
        "y": typed_array(points.xy[indices, 1]),
        "customdata": id_array(points.segment_ids[indices]),
        "hovertext": _hover(points, indices, tracks),
    }


def _hover(points: PanelPoints, indices: np.ndarray | None, tracks: pd.DataFrame) -> list[str]:
    mask = np.zeros(len(points.space), bool)
    rows = points.rows if indices is None else points.rows[indices]
    mask[rows] = True
    texts = hover_texts(points.space, tracks, mask, points.segment_tags)
    if indices is None or np.all(np.diff(rows) > 0):
        return texts
    # hover_texts answers in row order; the overlay's indices may not be sorted.
    order = np.argsort(np.argsort(rows))
    return [texts[i] for i in order]


def panel_figure(
    points: PanelPoints,
    tracks: pd.DataFrame,
    highlighted: np.ndarray,
    selected: Sequence[int] | None,
    *,
    title: str,
    uirevision: str,
) -> dict:
    """The figure dict of one panel.

    Parameters
    ----------
    highlighted : np.ndarray, shape (k,), int64
        Indices into ``points`` to draw in red.
    selected : sequence of int, optional
        Selected segment ids (the linked selection), or None.
    uirevision : str
        Plotly keeps zoom while this stays the same; it changes with the panel's space, so a
        new map starts unzoomed and a highlight or selection change keeps the user's zoom.
    """
    hover = _hover(points, None, tracks)
    base = {
        "type": "scattergl",
        "mode": "markers",
        "name": "segments",
        "x": typed_array(points.xy[:, 0]),
        "y": typed_array(points.xy[:, 1]),
        "customdata": id_array(points.segment_ids),
        "hovertext": hover,
        "hovertemplate": "%{hovertext}<extra></extra>",
        "marker": {"size": 5, "color": BASE_COLOR, "opacity": 0.75},
        "selectedpoints": selected_indices(points.segment_ids, selected),
        "selected": {"marker": {"opacity": SELECTED_OPACITY}},
        "unselected": {"marker": {"opacity": UNSELECTED_OPACITY}},
        "showlegend": False,
    }
    red = {
        "type": "scattergl",
        "mode": "markers",
        "name": "highlight",
        **highlight_arrays(points, highlighted, tracks),
        "selectedpoints": selected_indices(points.segment_ids[highlighted], selected),
        "selected": {"marker": {"opacity": SELECTED_OPACITY}},
        "unselected": {"marker": {"opacity": UNSELECTED_OPACITY}},
        "hovertemplate": "%{hovertext}<extra></extra>",
        "marker": {"size": 6, "color": HIGHLIGHT_COLOR, "opacity": 0.9},
        "showlegend": False,
    }
    marker = {
        "type": "scatter",
        "mode": "markers",
        "name": "linked hover",
        "x": [],
        "y": [],
        "hoverinfo": "skip",
        "marker": {"size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#111"}},
        "showlegend": False,
    }
    return {
        "data": [base, red, marker],
        "layout": {
            "title": {"text": title, "font": {"size": 13}, "x": 0.01},
            "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "dragmode": "lasso",
            "hovermode": "closest",
            "uirevision": uirevision,
            "plot_bgcolor": "#fbfbfd",
            "paper_bgcolor": "#ffffff",
            "annotations": [],
            "clickmode": "event+select",
        },
    }
