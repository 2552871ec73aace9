"""The library poll: extraction progress in the page, and new tracks onto the map as they land."""

from __future__ import annotations

from dash import Dash, Input, Output, State, no_update

from explore_dash import ids
from explore_dash.layouts.page import extraction_props, library_summary
from explore_dash.progress import (
    POLL_IDLE_MS,
    POLL_RUNNING_MS,
    ExtractionView,
    extraction_view,
    process_alive,
)
from explore_dash.state import AppState, library_choices

#: The Library box's outputs, in the order of extraction_props.
EXTRACTION_OUTPUTS = tuple(extraction_props(ExtractionView()))

CHOICE_OUTPUTS = (
    (ids.ARTISTS, "options", "artists"),
    (ids.TAGS, "options", "tags"),
    (ids.HIGHLIGHT_ARTISTS, "options", "artists"),
    (ids.HIGHLIGHT_ALBUMS, "options", "albums"),
    (ids.HIGHLIGHT_TRACKS, "options", "tracks"),
    (ids.HIGHLIGHT_TAGS, "options", "tags"),
    (ids.TRACK_NAMES, "data", "track_names"),
)


def register(app: Dash, state: AppState) -> None:
    @app.callback(
        *(Output(component, prop) for component, prop in EXTRACTION_OUTPUTS),
        Output(ids.LIBRARY_POLL, "interval"),
        Output(ids.DATA_VERSION, "data"),
        Output(ids.EMPTY_STATE, "style"),
        Output(ids.LIBRARY_SUMMARY, "children"),
        *(Output(component, prop) for component, prop, _ in CHOICE_OUTPUTS),
        Input(ids.LIBRARY_POLL, "n_intervals"),
        State(ids.DATA_VERSION, "data"),
    )
    def poll_library(_n, page_version):
        state.refresh()
        status = state.extraction
        view = extraction_view(status, status is not None and process_alive(status.pid))
        progress = (
            *extraction_props(view).values(),
            POLL_RUNNING_MS if view.running else POLL_IDLE_MS,
        )
        collection = state.collection
        if page_version == collection.version:
            return *progress, *(no_update,) * (3 + len(CHOICE_OUTPUTS))
        # New tables: the panels redraw on the version change; lists gain the new tracks.
        choices = library_choices(state)
        return (
            *progress,
            collection.version,
            {"display": "none"} if not state.empty else None,
            library_summary(len(collection.tracks), str(state.config.library)),
            *(choices[key] for _, _, key in CHOICE_OUTPUTS),
        )
