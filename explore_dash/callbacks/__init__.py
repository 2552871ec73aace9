"""Every callback of the page, wired in one place.

Server callbacks are plain functions of (snapshot, inputs) -> outputs in :mod:`.panels`,
:mod:`.playlist` and :mod:`.library`, unit-tested directly; the wrappers below only take the
current snapshot (once per call), read Dash's trigger, and pass what they need. Browser
callbacks are named functions in ``assets/explore-*.js`` (namespace ``explore``): hover-to-play
in explore-listening.js, linked labels in explore-labels.js, the linked selection in
explore-selection.js, zoom and panel set-up in explore-view.js.
"""

from __future__ import annotations

import math
from dataclasses import astuple

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from explore_dash import ids
from explore_dash.callbacks import flow, inputs, library, panels, playlist
from explore_dash.callbacks.library import EXTRACTION_OUTPUTS, LIBRARY_OUTPUTS
from explore_dash.data.colouring import COLOUR_BY, NONE
from explore_dash.data.options import (
    ARCHITECTURES,
    DATASETS,
    LAYER_LABELS,
    PROJECTION_LABELS,
    model_name,
)
from explore_dash.data.progress import extraction_alive
from explore_dash.data.search import find_answer, search_tracks
from explore_dash.data.state import AppState
from explore_dash.data.windows import SEGMENT_LENGTHS
from explore_dash.layouts.client import NAMESPACE
from explore_dash.layouts.sidebar import REDUCTION_MAX
from explore_dash.listening.radio import MAX_PATH_STEPS, diversity_from
from explore_dash.maps.ahead import read_ahead_status
from explore_dash.maps.figures import MapLook, PanelSettings

SETTING_KINDS = (ids.PANEL_ARCHITECTURE, ids.PANEL_DATASET, ids.PANEL_LAYER, ids.PANEL_PROJECTION)
HIGHLIGHT_INPUTS = (
    ids.HIGHLIGHT_ARTISTS,
    ids.HIGHLIGHT_ALBUMS,
    ids.HIGHLIGHT_TRACKS,
    ids.HIGHLIGHT_TAGS,
)
MUSIC_INPUTS = (ids.ARTISTS, ids.TAGS, ids.REDUCTION, ids.SEGMENT_LENGTH)
LOOK_INPUTS = (ids.COLOUR_BY, ids.TRAJECTORIES, ids.CAPTIONS)


def panel_settings(architecture, dataset, layer, projection) -> PanelSettings:
    return PanelSettings(
        inputs.choice(architecture, ARCHITECTURES),
        inputs.choice(dataset, DATASETS),
        inputs.choice(layer, LAYER_LABELS),
        inputs.choice(projection, PROJECTION_LABELS),
    )


def map_look(colour_by, trajectories, captions) -> MapLook:
    return MapLook(inputs.choice(colour_by, COLOUR_BY, default=NONE), inputs.flag(trajectories),
                   inputs.flag(captions))  # fmt: skip


def every_panel_settings(architectures, datasets, layers, projections) -> list[PanelSettings]:
    """Each panel's settings, from the ALL-panel states of its four dropdowns."""
    columns = [inputs.each(values, lambda v: v)
               for values in (architectures, datasets, layers, projections)]  # fmt: skip
    return list(map(panel_settings, *columns))


def music_selection(bounds: inputs.PageBounds, artists, tags, every_n,
                    window) -> tuple[list[str], list[str], int, int]:  # fmt: skip
    """(artists, tags, every n-th, segments per point) of the Music card."""
    return (
        inputs.texts(artists, bounds.choices),
        inputs.texts(tags, bounds.choices),
        inputs.whole(every_n, 1, REDUCTION_MAX, default=1),
        int(inputs.choice(window, SEGMENT_LENGTHS, default="1")),
    )


def panel_job(bounds: inputs.PageBounds, job) -> dict | None:
    """A panel's job store (:func:`panels.map_job`) with every field checked; None: no job.

    The store comes back from the page, so a hand-made one must end as no update, not as an
    error inside the background job.
    """
    job = inputs.mapping(job)
    if not job:
        return None
    settings, look = job.get("settings"), job.get("look")
    if not (isinstance(settings, list) and len(settings) == 4):
        raise inputs.InvalidInput("expected a panel's four settings")
    if not (isinstance(look, list) and len(look) == 3):
        raise inputs.InvalidInput("expected a map's look")
    artists, tags, every_n, window = music_selection(
        bounds, job.get("artists"), job.get("tags"), job.get("every_n"), str(job.get("window", 1))
    )
    checked = {
        "request": inputs.text(job.get("request")),
        "settings": list(astuple(panel_settings(*settings))),
        "artists": artists,
        "tags": tags,
        "every_n": every_n,
        "window": window,
        "look": map_look(*look).as_job(),
    }
    return {**checked, "fresh": True} if inputs.flag(job.get("fresh")) else checked


def highlight_values(bounds: inputs.PageBounds, artists, albums, tracks, tags) -> tuple:
    return (inputs.texts(artists, bounds.choices), inputs.texts(albums, bounds.choices),
            inputs.track_ids(tracks, bounds), inputs.texts(tags, bounds.choices))  # fmt: skip


def browser(function_name: str) -> ClientsideFunction:
    """A clientside function of ``assets/explore-*.js``."""
    return ClientsideFunction(namespace=NAMESPACE, function_name=function_name)


def extraction_running(state: AppState) -> bool:
    return extraction_alive(state.extraction)


def register_callbacks(app: Dash, state: AppState) -> None:
    inputs.guard_callback_requests(
        app, lambda: inputs.max_body_bytes(inputs.page_bounds(state.snapshot).segments)
    )
    register_music_inputs(app)
    register_panels(app, state)
    register_listening(app)
    register_selection(app)
    register_flow(app, state)
    register_playlist(app, state)
    register_library(app, state)


def register_music_inputs(app: Dash) -> None:
    @app.callback(
        Output(ids.REDUCTION, "value"),
        Output(ids.REDUCTION_BOX, "value"),
        Input(ids.REDUCTION, "value"),
        Input(ids.REDUCTION_BOX, "value"),
        prevent_initial_call=True,
    )
    def every_n_shown(slider, box):
        if box is not None and (isinstance(box, bool) or not isinstance(box, int | float)
                                or not math.isfinite(box)):  # fmt: skip
            raise inputs.InvalidInput("expected a number")
        return panels.every_n_shown(
            ctx.triggered_id == ids.REDUCTION_BOX,
            inputs.whole(slider, 1, REDUCTION_MAX, default=1),
            box,
            REDUCTION_MAX,
        )


def register_panels(app: Dash, state: AppState) -> None:
    anonymize = state.config.anonymize
    app.clientside_callback(
        browser("setUpPanel"),
        Output(ids.panel(ids.PANEL_GRAPH, MATCH), "config"),
        Input(ids.panel(ids.PANEL_GRAPH, MATCH), "id"),
        State(ids.panel(ids.PANEL_GRAPH, MATCH), "config"),
    )
    app.clientside_callback(
        browser("keepView"),
        Output(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
        Input(ids.panel(ids.PANEL_GRAPH, MATCH), "relayoutData"),
        State(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
        State(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("resetZoom"),
        Input(ids.panel(ids.PANEL_RESET, MATCH), "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
        Output(ids.panel(ids.PANEL_COUNT, MATCH), "children"),
        Output(ids.panel(ids.PANEL_JOB, MATCH), "data"),
        Output(ids.panel(ids.PANEL_LEGEND, MATCH), "children"),
        *(Input(ids.panel(kind, MATCH), "value") for kind in SETTING_KINDS),
        *(Input(component, "value") for component in MUSIC_INPUTS),
        Input(ids.DATA_VERSION, "data"),
        State(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
        *(State(component, "value") for component in LOOK_INPUTS),
        *(State(component, "value") for component in HIGHLIGHT_INPUTS),
    )
    def draw_panel(architecture, dataset, layer, projection, artists, tags, every_n, window,
                   _version, view, colour_by, trajectories, captions, *highlight):  # fmt: skip
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        *music, segments = music_selection(bounds, artists, tags, every_n, window)
        return panels.draw_panel(
            snapshot,
            state.cache_dir,
            panel_settings(architecture, dataset, layer, projection),
            *music,
            highlight_values(bounds, *highlight),
            window=segments,
            new_tables=ctx.triggered_id == ids.DATA_VERSION,
            view=inputs.mapping(view),
            extraction_running=lambda: extraction_running(state),
            anonymize=anonymize,
            look=map_look(colour_by, trajectories, captions),
        )

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        *(Input(component, "value") for component in HIGHLIGHT_INPUTS),
        Input(ids.TRAJECTORIES, "value"),
        *(State(ids.panel(kind, ALL), "value") for kind in SETTING_KINDS),
        *(State(component, "value") for component in MUSIC_INPUTS),
        prevent_initial_call=True,
    )
    def recolour(h_artists, h_albums, h_tracks, h_tags, trajectories, architectures, datasets,
                 layers, projections, artists, tags, every_n, window):  # fmt: skip
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        settings = every_panel_settings(architectures, datasets, layers, projections)
        highlight = highlight_values(bounds, h_artists, h_albums, h_tracks, h_tags)
        return panels.recolour(
            snapshot, state.cache_dir, highlight, settings,
            *music_selection(bounds, artists, tags, every_n, window), inputs.flag(trajectories),
        )  # fmt: skip

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_LEGEND, ALL), "children", allow_duplicate=True),
        Input(ids.COLOUR_BY, "value"),
        *(State(ids.panel(kind, ALL), "value") for kind in SETTING_KINDS),
        *(State(component, "value") for component in MUSIC_INPUTS),
        prevent_initial_call=True,
    )
    def colour_panels(colour_by, architectures, datasets, layers, projections, artists, tags,
                      every_n, window):  # fmt: skip
        snapshot = state.snapshot
        return panels.colour_panels(
            snapshot, state.cache_dir, inputs.choice(colour_by, COLOUR_BY),
            every_panel_settings(architectures, datasets, layers, projections),
            *music_selection(inputs.page_bounds(snapshot), artists, tags, every_n, window),
        )  # fmt: skip

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        Input(ids.CAPTIONS, "value"),
        *(State(ids.panel(kind, ALL), "value") for kind in SETTING_KINDS),
        *(State(component, "value") for component in MUSIC_INPUTS),
        prevent_initial_call=True,
    )
    def caption_panels(shown, architectures, datasets, layers, projections, artists, tags,
                       every_n, window):  # fmt: skip
        snapshot = state.snapshot
        return panels.caption_panels(
            snapshot, state.cache_dir, inputs.flag(shown),
            every_panel_settings(architectures, datasets, layers, projections),
            *music_selection(inputs.page_bounds(snapshot), artists, tags, every_n, window),
        )  # fmt: skip

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

    app.clientside_callback(
        browser("wholeText"),
        Output(ids.panel(ids.PANEL_COUNT, MATCH), "title"),
        Input(ids.panel(ids.PANEL_COUNT, MATCH), "children"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("showRecompute"),
        Output(ids.panel(ids.PANEL_RECOMPUTE, MATCH), "style"),
        Input(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
    )

    @app.callback(
        Output(ids.panel(ids.PANEL_JOB, MATCH), "data", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_COUNT, MATCH), "children", allow_duplicate=True),
        Input(ids.panel(ids.PANEL_RECOMPUTE, MATCH), "n_clicks"),
        *(State(ids.panel(kind, MATCH), "value") for kind in SETTING_KINDS),
        *(State(component, "value") for component in MUSIC_INPUTS),
        *(State(component, "value") for component in LOOK_INPUTS),
        prevent_initial_call=True,
    )
    def recompute(_clicks, architecture, dataset, layer, projection, artists, tags, every_n,
                  window, colour_by, trajectories, captions):  # fmt: skip
        bounds = inputs.page_bounds(state.snapshot)
        *music, segments = music_selection(bounds, artists, tags, every_n, window)
        job = panels.recompute_job(
            panel_settings(architecture, dataset, layer, projection), *music, segments,
            map_look(colour_by, trajectories, captions),
        )  # fmt: skip
        return job, panels.computing_line(state.snapshot, state.cache_dir, job)

    for panel in ids.PANELS:
        register_map_job(app, state, panel)


def register_map_job(app: Dash, state: AppState, panel: int) -> None:
    """t-SNE / UMAP of one panel as a Dash background job: progress, cancel, page stays live.

    One callback per panel (fixed ids, not pattern matching) so each panel has its own job,
    progress bar and cancel button, and the other panel stays usable meanwhile.
    """
    @app.callback(
        Output(ids.panel(ids.PANEL_COUNT, panel), "children", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_RETRY, panel), "style", allow_duplicate=True),
        Input(ids.cancel_button(panel), "n_clicks"),
        State(ids.panel(ids.PANEL_JOB, panel), "data"),
        prevent_initial_call=True,
    )
    def say_cancelled(_clicks, job):
        return panels.say_cancelled(panel_job(inputs.page_bounds(state.snapshot), job))

    @app.callback(
        Output(ids.panel(ids.PANEL_JOB, panel), "data", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_COUNT, panel), "children", allow_duplicate=True),
        Input(ids.panel(ids.PANEL_RETRY, panel), "n_clicks"),
        State(ids.panel(ids.PANEL_JOB, panel), "data"),
        prevent_initial_call=True,
    )
    def retry(clicks, job):
        # The job store comes back from the page: checked here, as the job itself checks it.
        snapshot = state.snapshot
        checked = panel_job(inputs.page_bounds(snapshot), job)
        again = panels.retry_job(inputs.whole(clicks, 0, 2**53, default=0), checked)
        return again, panels.computing_line(snapshot, state.cache_dir, again)

    app.clientside_callback(
        browser("hideRetry"),
        Output(ids.panel(ids.PANEL_RETRY, panel), "style"),
        Input(ids.panel(ids.PANEL_JOB, panel), "data"),
        Input(ids.panel(ids.PANEL_GRAPH, panel), "figure"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, panel), "figure", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_COUNT, panel), "children", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_LEGEND, panel), "children", allow_duplicate=True),
        Input(ids.panel(ids.PANEL_JOB, panel), "data"),
        *(State(component, "value") for component in HIGHLIGHT_INPUTS),
        background=True,
        running=[
            (
                Output(ids.panel(ids.PANEL_PROGRESS_BOX, panel), "style"),
                {"display": "flex"},
                {"display": "none"},
            ),
            # Until the job's first report: not the label of the job before.
            (Output(ids.panel(ids.PANEL_PROGRESS_TEXT, panel), "children"), "starting…", ""),
        ],
        progress=[
            Output(ids.panel(ids.PANEL_PROGRESS, panel), "value"),
            Output(ids.panel(ids.PANEL_PROGRESS, panel), "label"),
            Output(ids.panel(ids.PANEL_PROGRESS_TEXT, panel), "children"),
        ],
        cancel=[Input(ids.cancel_button(panel), "n_clicks")],
        prevent_initial_call=True,
    )
    def compute_map(set_progress, job, *highlight):
        # A worker of its own (explore_dash/worker.py) loaded the tables when it started.
        state.refresh()
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        return panels.compute_panel_map(
            snapshot, state.cache_dir, panel_job(bounds, job), highlight_values(bounds, *highlight),
            set_progress, state.config.anonymize,
        )  # fmt: skip


def register_listening(app: Dash) -> None:
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


def register_selection(app: Dash) -> None:
    # All in the browser: a server round trip that patched the other panel's `selectedpoints`
    # made Plotly redraw its 100k WebGL points: seconds in software WebGL.
    app.clientside_callback(
        browser("collectSelection"),
        Output(ids.SELECTION, "data"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "selectedData"),
        State(ids.SELECTION, "data"),
        prevent_initial_call=True,
    )


DIVERSITY_STATES = (ids.ARTIST_GAP, ids.DISTINCT_ALBUMS, ids.EXCLUDE_ARTISTS, ids.EXCLUDE_TAGS)
SPACE_KINDS = (ids.PANEL_ARCHITECTURE, ids.PANEL_DATASET, ids.PANEL_LAYER)


def diversity_values(bounds: inputs.PageBounds, artist_gap, albums, artists, tags):
    return diversity_from(
        inputs.whole(artist_gap, 0, 50, default=0),
        inputs.flag(albums),
        inputs.texts(artists, bounds.choices),
        inputs.texts(tags, bounds.choices),
    )


def panel_spaces(architectures, datasets, layers) -> list[tuple[str, str]]:
    """Each panel's (model, layer), from its dropdowns."""
    columns = [inputs.each(values, lambda v: v) for values in (architectures, datasets, layers)]
    return [
        (
            model_name(inputs.choice(a, ARCHITECTURES), inputs.choice(d, DATASETS)),
            inputs.choice(layer, LAYER_LABELS),
        )
        for a, d, layer in zip(*columns, strict=True)
    ]


def register_flow(app: Dash, state: AppState) -> None:
    @app.callback(
        Output(ids.CHAIN, "data"),
        Output(ids.FLOW_MESSAGE, "children"),
        Input(ids.RADIO_START, "n_clicks"),
        State(ids.LAST_SEGMENT, "data"),
        State(ids.SELECTION, "data"),
        *(State(ids.panel(kind, ALL), "value") for kind in SPACE_KINDS),
        *(State(component, "value") for component in DIVERSITY_STATES),
        prevent_initial_call=True,
    )
    def start_radio(_clicks, last, selection, architectures, datasets, layers, *diversity):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        last = inputs.mapping(last)
        if last is not None:
            last = {"segment": inputs.whole(last.get("segment"), 0, 2**53),
                    "panel": inputs.whole(last.get("panel"), 0, len(ids.PANELS) - 1)}  # fmt: skip
        chosen = inputs.mapping(selection) or {}
        picked = {"ids": inputs.selection(selection, bounds),
                  "source": inputs.whole(chosen.get("source", 0), 0, len(ids.PANELS) - 1,
                                         default=0)}  # fmt: skip
        return flow.start_radio(
            snapshot, last, picked,
            panel_spaces(architectures, datasets, layers), diversity_values(bounds, *diversity),
        )  # fmt: skip

    @app.callback(
        Output(ids.CHAIN, "data", allow_duplicate=True),
        Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True),
        Input(ids.CHAIN_MORE, "data"),
        State(ids.CHAIN, "data"),
        *(State(component, "value") for component in DIVERSITY_STATES),
        prevent_initial_call=True,
    )
    def more_radio(_asked, chain, *diversity):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        return flow.more_radio(
            snapshot, inputs.chain(chain, bounds), diversity_values(bounds, *diversity)
        )

    @app.callback(
        Output(ids.CHAIN, "data", allow_duplicate=True),
        Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True),
        Input(ids.PATH_BUTTON, "n_clicks"),
        State(ids.PATH_START, "value"),
        State(ids.PATH_END, "value"),
        State(ids.PATH_STEPS, "value"),
        State(ids.PATH_SPACE, "value"),
        *(State(ids.panel(kind, ALL), "value") for kind in SPACE_KINDS),
        *(State(component, "value") for component in DIVERSITY_STATES),
        prevent_initial_call=True,
    )
    def start_path(_clicks, start, end, steps, space, architectures, datasets, layers,
                   *diversity):  # fmt: skip
        if steps is None or not isinstance(steps, int | float) or not 2 <= steps <= MAX_PATH_STEPS:
            return no_update, f"A path has 2 to {MAX_PATH_STEPS} steps."
        snapshot = state.snapshot
        return flow.start_path(
            snapshot,
            None if start is None else inputs.whole(start, 0, 2**53),
            None if end is None else inputs.whole(end, 0, 2**53),
            int(steps),
            int(inputs.choice(space, [str(panel) for panel in ids.PANELS])),
            panel_spaces(architectures, datasets, layers),
            diversity_values(inputs.page_bounds(snapshot), *diversity),
        )

    @app.callback(
        Output(ids.PATH_START, "value"),
        Output(ids.PATH_END, "value"),
        Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True),
        Input(ids.PATH_START_FROM_MAP, "n_clicks"),
        Input(ids.PATH_END_FROM_MAP, "n_clicks"),
        State(ids.LAST_SEGMENT, "data"),
        prevent_initial_call=True,
    )
    def path_end_from_map(_start_clicks, _end_clicks, last):
        last = inputs.mapping(last)
        segment = None if last is None else inputs.whole(last.get("segment"), 0, 2**53)
        track, message = flow.track_from_map(
            state.snapshot, None if segment is None else {"segment": segment}
        )
        if ctx.triggered_id == ids.PATH_START_FROM_MAP:
            return track, no_update, message
        return no_update, track, message

    @app.callback(Output(ids.CHAIN_LIST, "children"), Input(ids.CHAIN, "data"))
    def show_chain(chain):
        return flow.chain_list(inputs.chain(chain, inputs.page_bounds(state.snapshot)))

    app.clientside_callback(
        browser("playChain"),
        Output(ids.FLOW_STATUS, "children"),
        Input(ids.CHAIN, "data"),
        State(ids.ITEM_LENGTH, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("itemLength"),
        Input(ids.ITEM_LENGTH, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("controlFlow"),
        Output(ids.FLOW_STATUS, "children", allow_duplicate=True),
        Input(ids.FLOW_SKIP, "n_clicks"),
        Input(ids.FLOW_PAUSE, "n_clicks"),
        Input(ids.FLOW_STOP, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("playWhole"),
        Output(ids.FLOW_STATUS, "children", allow_duplicate=True),
        Input({"type": ids.PLAY_MOMENT, "segment": ALL}, "n_clicks"),
        Input({"type": ids.PLAY_TRACK, "track": ALL}, "n_clicks"),
        Input({"type": ids.PLAYLIST_PLAY, "track": ALL}, "n_clicks"),
        Input(ids.PIN_MOMENT, "n_clicks"),
        Input(ids.PIN_START, "n_clicks"),
        State(ids.LAST_SEGMENT, "data"),
        State(ids.TRACK_NAMES, "data"),
        prevent_initial_call=True,
    )


def register_playlist(app: Dash, state: AppState) -> None:
    @app.callback(
        Output(ids.PLAYLIST, "data"),
        Output(ids.PLAYLIST_STARTS, "data"),
        Output(ids.PLAYLIST_EDITS, "data"),
        Output(ids.PLAYLIST_OFFER_TEXT, "children"),
        Output(ids.PLAYLIST_OFFER, "hidden"),
        Output(ids.PLAYLIST_MESSAGE, "children", allow_duplicate=True),
        Input(ids.SELECTION, "data"),
        Input({"type": ids.PLAYLIST_UP, "track": ALL}, "n_clicks"),
        Input({"type": ids.PLAYLIST_DOWN, "track": ALL}, "n_clicks"),
        Input({"type": ids.PLAYLIST_REMOVE, "track": ALL}, "n_clicks"),
        Input({"type": ids.PLAYLIST_RESTORE, "index": ALL}, "n_clicks"),
        Input(ids.CHAIN_TO_PLAYLIST, "n_clicks"),
        Input(ids.PLAYLIST_ADD, "n_clicks"),
        Input(ids.PLAYLIST_REPLACE, "n_clicks"),
        Input(ids.PLAYLIST_UNDO, "n_clicks"),
        Input(ids.PLAYLIST_REDO, "n_clicks"),
        Input(ids.PLAYLIST_EXPORT, "n_clicks"),
        State(ids.PLAYLIST, "data"),
        State(ids.PLAYLIST_STARTS, "data"),
        State(ids.PLAYLIST_EDITS, "data"),
        State(ids.CHAIN, "data"),
        prevent_initial_call=True,
    )
    def edit_playlist(selection, *buttons_and_stores):
        current, starts, edits, chain = buttons_and_stores[-4:]
        snapshot = state.snapshot
        clicked = bool(ctx.triggered and ctx.triggered[0]["value"])
        return playlist.edit(snapshot.tracks, inputs.page_bounds(snapshot), ctx.triggered_id,
                             clicked, selection, current, starts, edits, chain)  # fmt: skip

    @app.callback(
        Output(ids.PLAYLIST_UNDO, "disabled"),
        Output(ids.PLAYLIST_REDO, "disabled"),
        Output(ids.PLAYLIST_KEPT, "children"),
        Output(ids.PLAYLIST_KEPT, "disabled"),
        Input(ids.PLAYLIST_EDITS, "data"),
    )
    def show_kept(edits):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        return playlist.kept_items(snapshot.tracks, playlist.checked_edits(edits, bounds))

    @app.callback(Output(ids.PLAYLIST_LIST, "children"), Input(ids.PLAYLIST, "data"))
    def show_playlist(track_ids):
        snapshot = state.snapshot
        return playlist.playlist_items(
            snapshot.tracks, inputs.track_ids(track_ids, inputs.page_bounds(snapshot))
        )

    @app.callback(
        Output(ids.PLAYLIST_DOWNLOAD, "data"),
        Output(ids.PLAYLIST_MESSAGE, "children"),
        Input(ids.PLAYLIST_EXPORT, "n_clicks"),
        State(ids.PLAYLIST, "data"),
        State(ids.PLAYLIST_NAME, "value"),
        State(ids.PLAYLIST_RELATIVE, "value"),
        State(ids.PLAYLIST_STARTS, "data"),
        State(ids.PLAYLIST_KEEP_MOMENTS, "value"),
        prevent_initial_call=True,
    )
    def export_playlist(_clicks, track_ids, name, relative, starts, keep_moments):
        config, snapshot = state.config, state.snapshot
        bounds = inputs.page_bounds(snapshot)
        return playlist.export(
            snapshot.tracks,
            config.library,
            config.data_dir,
            inputs.track_ids(track_ids, bounds),
            inputs.text(name),
            inputs.flag(relative),
            inputs.starts(starts, bounds) if inputs.flag(keep_moments) else None,
        )


def register_library(app: Dash, state: AppState) -> None:
    @app.callback(
        *(Output(component, prop) for component, prop in EXTRACTION_OUTPUTS),
        *(Output(component, prop) for component, prop in LIBRARY_OUTPUTS),
        Input(ids.LIBRARY_POLL, "n_intervals"),
        State(ids.DATA_VERSION, "data"),
    )
    def poll_library(_n, page_version):
        if page_version is not None:
            inputs.whole(page_version, 0, 2**53)
        state.refresh()
        return library.poll_library(
            state.snapshot, state.extraction, page_version, str(state.config.library),
            read_ahead_status(state.cache_dir),
        )  # fmt: skip
