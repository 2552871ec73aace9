"""Playing the hovered or clicked segment and labelling it in the other panel (all client side)."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State

from explore_dash import ids


def register(app: Dash) -> None:
    app.clientside_callback(
        "function(hovers, clicks, mode, names) {"
        " return window.exploreDash.listen(hovers, clicks, mode, names); }",
        Output(ids.NOW_PLAYING, "children"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "hoverData"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "clickData"),
        State(ids.LISTEN_MODE, "value"),
        State(ids.TRACK_NAMES, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function(hovers, names) { return window.exploreDash.labelHover(hovers, names); }",
        Output(ids.PLAYER_CUE, "children"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "hoverData"),
        State(ids.TRACK_NAMES, "data"),
        prevent_initial_call=True,
    )
