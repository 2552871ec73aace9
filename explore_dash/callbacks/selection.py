"""Linked selection: a box or lasso in one panel selects the same segments in the other."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, Patch, State, no_update

from explore_dash import ids
from explore_dash.callbacks.panels import (
    HIGHLIGHT_INPUTS,
    SETTING_KINDS,
    highlight_spec,
    visible_points,
)
from explore_dash.figures import PanelSettings, highlight_rows, selected_indices
from explore_dash.state import AppState


def register(app: Dash, state: AppState) -> None:
    # Collecting ids from the selection event is per-event work: done in the browser, so only
    # the ids (not Plotly's point objects with coordinates) travel to the server.
    app.clientside_callback(
        "function(selections, current) {"
        " return window.exploreDash.collectSelection(selections, current); }",
        Output(ids.SELECTION, "data"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "selectedData"),
        State(ids.SELECTION, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        Input(ids.SELECTION, "data"),
        *(State(ids.panel(kind, ALL), "value") for kind in SETTING_KINDS),
        State(ids.ARTISTS, "value"),
        State(ids.TAGS, "value"),
        State(ids.REDUCTION, "value"),
        *(State(component, "value") for component in HIGHLIGHT_INPUTS),
        prevent_initial_call=True,
    )
    def mirror_selection(
        selection, architectures, datasets, layers, projections, artists, tags, every_n, *highlight
    ):
        selection = selection or {}
        selected = selection.get("ids") or []
        patches = []
        all_settings = map(PanelSettings, architectures, datasets, layers, projections)
        for index, settings in enumerate(all_settings):
            if index == selection.get("source"):
                # Plotly already shows the user's own selection there (kept across redraws by
                # uirevision); patching it would redraw the panel and drop the lasso outline.
                patches.append(no_update)
                continue
            points = visible_points(state, settings, artists, tags, every_n)
            patch = Patch()
            patch["data"][0]["selectedpoints"] = selected_indices(points.segment_ids, selected)
            red = highlight_rows(
                points, state.collection.tracks, state.tags_by_track, highlight_spec(*highlight)
            )
            overlay_ids = points.segment_ids[red]
            patch["data"][1]["selectedpoints"] = selected_indices(overlay_ids, selected)
            # This panel's own earlier box/lasso outline no longer describes the selection.
            patch["layout"]["selections"] = []
            patches.append(patch)
        return patches
