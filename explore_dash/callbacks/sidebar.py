"""Sidebar controls that set other controls: the thinning slider and its number box kept in
step (Music card), and Find, which picks tracks to highlight and flies to them (Highlight card).
"""

from __future__ import annotations

import math

from dash import Dash, Input, Output, State, ctx, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.clientside import browser
from explore_dash.data.search import find_answer, search_tracks
from explore_dash.data.state import AppState
from explore_dash.layouts.sidebar import REDUCTION_MAX


def every_n_shown(typed: bool, slider: int, box: float | None, most: int) -> tuple:
    """(slider value, number box value) after one of them changed; ``typed``: the box did.

    A number typed in the box (applied on Enter or when it loses focus) moves the slider,
    rounded into [1, ``most``]; the slider moved shows its value in the box. An emptied box
    gets the slider's value back.
    """
    if not typed:
        return no_update, slider
    if box is None:
        return no_update, slider
    every_n = int(min(most, max(1, round(box))))
    return (no_update if every_n == slider else every_n), (no_update if every_n == box
                                                           else every_n)  # fmt: skip


def register(app: Dash, state: AppState) -> None:
    """The slider and its box, and Find."""

    @app.callback(
        Output(ids.REDUCTION, "value"),
        Output(ids.REDUCTION_BOX, "value"),
        Input(ids.REDUCTION, "value"),
        Input(ids.REDUCTION_BOX, "value"),
        prevent_initial_call=True,
    )
    def slider_and_box(slider, box):
        if box is not None and (isinstance(box, bool) or not isinstance(box, int | float)
                                or not math.isfinite(box)):  # fmt: skip
            raise inputs.InvalidInput("expected a number")
        return every_n_shown(
            ctx.triggered_id == ids.REDUCTION_BOX,
            inputs.whole(slider, 1, REDUCTION_MAX, default=1),
            box,
            REDUCTION_MAX,
        )

    @app.callback(
        Output(ids.HIGHLIGHT_TRACKS, "value"),
        Output(ids.FLY_TO, "data"),
        Output(ids.SEARCH_MESSAGE, "children"),
        Input(ids.SEARCH, "value"),
        State(ids.HIGHLIGHT_TRACKS, "value"),
        State(ids.FLY_TO, "data"),
        prevent_initial_call=True,
    )
    def search(query, highlighted, last_find):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        query = inputs.text(query)
        last = inputs.mapping(last_find)
        answer = find_answer(
            search_tracks(snapshot.tracks, query), query, inputs.track_ids(highlighted, bounds),
            last and {key: inputs.track_ids(last.get(key), bounds) for key in ("tracks", "before")},
        )  # fmt: skip
        return tuple(no_update if value is None else value for value in answer)

    app.clientside_callback(browser("flyTo"), Input(ids.FLY_TO, "data"), prevent_initial_call=True)
