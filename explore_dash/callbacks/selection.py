"""Linked selection: a box or lasso in one panel selects the same segments in the other."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State

from explore_dash import ids
from explore_dash.state import AppState


def register(app: Dash, _state: AppState) -> None:
    # All in the browser: collecting the ids from the selection event and drawing them over the
    # other panel (assets/explore.js). A server round trip that patched the other panel's
    # `selectedpoints` made Plotly redraw its 100k WebGL points: seconds in software WebGL.
    app.clientside_callback(
        "function(selections, current) {"
        " return window.exploreDash.collectSelection(selections, current); }",
        Output(ids.SELECTION, "data"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "selectedData"),
        State(ids.SELECTION, "data"),
        prevent_initial_call=True,
    )
