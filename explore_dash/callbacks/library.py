"""The library poll: extraction progress in the page, and new tracks onto the map as they land."""

from __future__ import annotations

from dash import Dash, Input, Output, State, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.data.progress import (
    POLL_IDLE_MS,
    POLL_RUNNING_MS,
    ExtractionView,
    extraction_alive,
    extraction_view,
)
from explore_dash.data.snapshot import Snapshot, library_choices
from explore_dash.data.state import AppState
from explore_dash.layouts.page import extraction_props, library_summary
from explore_dash.maps.ahead_status import AheadStatus, read_ahead_status
from extraction.contract import ExtractionStatus

#: The Library box's outputs, in the order of extraction_props.
EXTRACTION_OUTPUTS = tuple(extraction_props(ExtractionView()))

CHOICE_OUTPUTS = (
    (ids.ARTISTS, "options", "artists"),
    (ids.TAGS, "options", "tags"),
    (ids.HIGHLIGHT_ARTISTS, "options", "artists"),
    (ids.HIGHLIGHT_ALBUMS, "options", "albums"),
    (ids.HIGHLIGHT_TRACKS, "options", "tracks"),
    (ids.HIGHLIGHT_TAGS, "options", "tags"),
    (ids.EXCLUDE_ARTISTS, "options", "artists"),
    (ids.EXCLUDE_TAGS, "options", "tags"),
    (ids.PATH_START, "options", "tracks"),
    (ids.PATH_END, "options", "tracks"),
    (ids.TRACK_NAMES, "data", "track_names"),
)
#: Outputs after the Library box's: poll interval, data version, empty state, summary, choices.
LIBRARY_OUTPUTS = (
    (ids.LIBRARY_POLL, "interval"),
    (ids.MAPS_AHEAD, "children"),
    (ids.DATA_VERSION, "data"),
    (ids.EMPTY_STATE, "style"),
    (ids.LIBRARY_SUMMARY, "children"),
    *((component, prop) for component, prop, _ in CHOICE_OUTPUTS),
)


def current_view(status: ExtractionStatus | None) -> ExtractionView:
    """The Library box for ``status`` (a status whose process died says so)."""
    return extraction_view(status, extraction_alive(status))


def poll_library(
    snapshot: Snapshot, status: ExtractionStatus | None, page_version, library: str,
    ahead: AheadStatus | None = None,
) -> tuple:  # fmt: skip
    """Progress (of the analysis and of the maps computed ahead), and when the page shows an
    older version, the new version and choices."""
    view = current_view(status)
    maps = ahead.text() if ahead is not None else ""
    progress = (
        *extraction_props(view).values(),
        POLL_RUNNING_MS if view.running or maps else POLL_IDLE_MS,
        maps,
    )
    if page_version == snapshot.version:
        return *progress, *(no_update,) * (3 + len(CHOICE_OUTPUTS))
    # New tables: the panels redraw on the version change; lists gain the new tracks.
    choices = library_choices(snapshot)
    return (
        *progress,
        snapshot.version,
        {"display": "none"} if not snapshot.empty else None,
        library_summary(len(snapshot.tracks), library),
        *(choices[key] for _, _, key in CHOICE_OUTPUTS),
    )


def register(app: Dash, state: AppState) -> None:
    """The poll: progress, and the page's lists and maps follow new tables."""

    @app.callback(
        *(Output(component, prop) for component, prop in EXTRACTION_OUTPUTS),
        *(Output(component, prop) for component, prop in LIBRARY_OUTPUTS),
        Input(ids.LIBRARY_POLL, "n_intervals"),
        State(ids.DATA_VERSION, "data"),
    )
    def poll(_n, page_version):
        if page_version is not None:
            inputs.whole(page_version, 0, inputs.MAX_ID)
        state.refresh()
        return poll_library(
            state.snapshot, state.extraction, page_version, str(state.config.library),
            read_ahead_status(state.cache_dir),
        )  # fmt: skip
