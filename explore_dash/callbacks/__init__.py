"""Every callback of the page, each registered by the module of its concern.

Server callbacks are plain functions of (snapshot, checked inputs) -> outputs, unit-tested
directly; each module's ``register`` wires them, taking the current snapshot once per call and
checking what the page sends (:mod:`.inputs`) before any work. Browser callbacks are named
functions in ``assets/explore-*.js`` (:func:`.clientside.browser`): hover-to-play in
explore-listening.js, linked labels in explore-labels.js, the linked selection in
explore-selection.js, zoom and panel set-up in explore-view.js, radio and paths in
explore-flow.js.
"""

from __future__ import annotations

from dash import Dash

from explore_dash.callbacks import (
    clientside,
    flow,
    inputs,
    library,
    map_jobs,
    panels,
    player,
    playlist,
    sidebar,
    subsonic,
)
from explore_dash.callbacks.request_guard import guard_callback_requests, max_body_bytes
from explore_dash.data.state import AppState


def register_callbacks(app: Dash, state: AppState) -> None:
    """Every callback of the page, on ``app`` serving ``state``'s tables."""
    guard_callback_requests(
        app, lambda: max_body_bytes(inputs.page_bounds(state.snapshot).segments)
    )
    sidebar.register(app, state)  # the slider's box, and Find
    panels.register(app, state)
    map_jobs.register(app, state)
    clientside.register(app)  # hover-to-play, labels, the linked selection
    flow.register(app, state)  # radio and paths
    playlist.register(app, state)
    player.register(app, state)  # sending to MPD, with --mpd
    subsonic.register(app, state)  # saving on a Subsonic server, with --subsonic
    library.register(app, state)  # the extraction's progress and new tables
