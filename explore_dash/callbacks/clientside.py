"""Callbacks that run in the browser only: hover-to-play and linked labels, and the linked
selection; and :func:`browser`, which names a function of ``assets/explore-*.js`` for every
module's clientside callbacks."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from explore_dash import ids
from explore_dash.layouts.client import NAMESPACE


def browser(function_name: str) -> ClientsideFunction:
    """A clientside function of ``assets/explore-*.js``."""
    return ClientsideFunction(namespace=NAMESPACE, function_name=function_name)


def register(app: Dash) -> None:
    """Hover-to-play (explore-listening.js), linked labels (explore-labels.js) and the linked
    selection (explore-selection.js)."""
    app.clientside_callback(
        browser("listen"),
        Output(ids.NOW_PLAYING, "children"),
        Output(ids.LAST_SEGMENT, "data"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "hoverData"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "clickData"),
        State(ids.LISTEN_MODE, "value"),
        State(ids.TRACK_NAMES, "data"),
        State(ids.SEGMENT_LENGTH, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("labelHover"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "hoverData"),
        # An input, and called at load: a radio or path started before any hover (a path
        # from the two boxes) names its tracks too.
        Input(ids.TRACK_NAMES, "data"),
    )
    # All in the browser: a server round trip that patched the other panel's `selectedpoints`
    # made Plotly redraw its 100k WebGL points: seconds in software WebGL.
    app.clientside_callback(
        browser("collectSelection"),
        Output(ids.SELECTION, "data"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "selectedData"),
        State(ids.SELECTION, "data"),
        prevent_initial_call=True,
    )
