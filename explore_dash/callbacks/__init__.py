"""Callback wiring. Bodies stay thin: they call the pure functions of data, figures, playlist."""

from __future__ import annotations

from dash import Dash

from explore_dash.callbacks import library, listening, panels, playlist, selection
from explore_dash.state import AppState


def register_callbacks(app: Dash, state: AppState) -> None:
    panels.register(app, state)
    selection.register(app, state)
    playlist.register(app, state)
    listening.register(app)
    library.register(app, state)
