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

import math

from dash import ALL, MATCH, Dash, Input, Output, State, ctx, no_update

from explore_dash import ids
from explore_dash.callbacks import clientside, flow, inputs, library, panels, playlist
from explore_dash.callbacks.clientside import browser
from explore_dash.callbacks.groups import HIGHLIGHT, LOOK, MUSIC, controls, panel_menus
from explore_dash.callbacks.request_guard import guard_callback_requests, max_body_bytes
from explore_dash.data.colouring import COLOUR_BY
from explore_dash.data.progress import extraction_alive
from explore_dash.data.search import find_answer, search_tracks
from explore_dash.data.state import AppState
from explore_dash.layouts.sidebar import REDUCTION_MAX


def register_callbacks(app: Dash, state: AppState) -> None:
    """Every callback of the page, on ``app`` serving ``state``'s tables."""
    guard_callback_requests(
        app, lambda: max_body_bytes(inputs.page_bounds(state.snapshot).segments)
    )
    register_music_inputs(app)
    register_panels(app, state)
    clientside.register(app)
    flow.register(app, state)
    playlist.register(app, state)
    library.register(app, state)


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
        output=[
            Output(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
            Output(ids.panel(ids.PANEL_COUNT, MATCH), "children"),
            Output(ids.panel(ids.PANEL_JOB, MATCH), "data"),
            Output(ids.panel(ids.PANEL_LEGEND, MATCH), "children"),
        ],
        inputs=dict(settings=panel_menus(MATCH, Input), music=controls(MUSIC, Input),
                    _version=Input(ids.DATA_VERSION, "data")),  # fmt: skip
        state=dict(view=State(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
                   look=controls(LOOK, State), highlight=controls(HIGHLIGHT, State)),  # fmt: skip
    )
    def draw_panel(settings, music, _version, view, look, highlight):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        chosen = inputs.music(bounds, **music)
        return panels.draw_panel(
            snapshot,
            state.cache_dir,
            inputs.panel_settings(**settings),
            chosen.artists,
            chosen.tags,
            chosen.every_n,
            inputs.highlight(bounds, **highlight),
            window=chosen.window,
            new_tables=ctx.triggered_id == ids.DATA_VERSION,
            view=inputs.mapping(view),
            extraction_running=lambda: extraction_alive(state.extraction),
            anonymize=anonymize,
            look=inputs.map_look(**look),
        )

    @app.callback(
        output=Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        inputs=dict(highlight=controls(HIGHLIGHT, Input),
                    trajectories=Input(ids.TRAJECTORIES, "value")),  # fmt: skip
        state=dict(settings=panel_menus(ALL, State), music=controls(MUSIC, State)),
        prevent_initial_call=True,
    )
    def recolour(highlight, trajectories, settings, music):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        every_settings = inputs.every_panel_settings(**settings)
        chosen = inputs.music(bounds, **music)
        return panels.recolour(
            snapshot, state.cache_dir, inputs.highlight(bounds, **highlight), every_settings,
            chosen.artists, chosen.tags, chosen.every_n, chosen.window, inputs.flag(trajectories),
        )  # fmt: skip

    @app.callback(
        output=[
            Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
            Output(ids.panel(ids.PANEL_LEGEND, ALL), "children", allow_duplicate=True),
        ],
        inputs=dict(colour_by=Input(ids.COLOUR_BY, "value")),
        state=dict(settings=panel_menus(ALL, State), music=controls(MUSIC, State)),
        prevent_initial_call=True,
    )
    def colour_panels(colour_by, settings, music):
        snapshot = state.snapshot
        chosen = inputs.music(inputs.page_bounds(snapshot), **music)
        return panels.colour_panels(
            snapshot, state.cache_dir, inputs.choice(colour_by, COLOUR_BY),
            inputs.every_panel_settings(**settings),
            chosen.artists, chosen.tags, chosen.every_n, chosen.window,
        )  # fmt: skip

    @app.callback(
        output=Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        inputs=dict(shown=Input(ids.CAPTIONS, "value")),
        state=dict(settings=panel_menus(ALL, State), music=controls(MUSIC, State)),
        prevent_initial_call=True,
    )
    def caption_panels(shown, settings, music):
        snapshot = state.snapshot
        chosen = inputs.music(inputs.page_bounds(snapshot), **music)
        return panels.caption_panels(
            snapshot, state.cache_dir, inputs.flag(shown),
            inputs.every_panel_settings(**settings),
            chosen.artists, chosen.tags, chosen.every_n, chosen.window,
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
        output=[
            Output(ids.panel(ids.PANEL_JOB, MATCH), "data", allow_duplicate=True),
            Output(ids.panel(ids.PANEL_COUNT, MATCH), "children", allow_duplicate=True),
        ],
        inputs=dict(_clicks=Input(ids.panel(ids.PANEL_RECOMPUTE, MATCH), "n_clicks")),
        state=dict(settings=panel_menus(MATCH, State), music=controls(MUSIC, State),
                   look=controls(LOOK, State)),  # fmt: skip
        prevent_initial_call=True,
    )
    def recompute(_clicks, settings, music, look):
        chosen = inputs.music(inputs.page_bounds(state.snapshot), **music)
        job = panels.recompute_job(
            inputs.panel_settings(**settings), chosen.artists, chosen.tags, chosen.every_n,
            chosen.window, inputs.map_look(**look),
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
        return panels.say_cancelled(inputs.panel_job(inputs.page_bounds(state.snapshot), job))

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
        checked = inputs.panel_job(inputs.page_bounds(snapshot), job)
        again = panels.retry_job(inputs.whole(clicks, 0, inputs.MAX_ID, default=0), checked)
        return again, panels.computing_line(snapshot, state.cache_dir, again)

    app.clientside_callback(
        browser("hideRetry"),
        Output(ids.panel(ids.PANEL_RETRY, panel), "style"),
        Input(ids.panel(ids.PANEL_JOB, panel), "data"),
        Input(ids.panel(ids.PANEL_GRAPH, panel), "figure"),
        prevent_initial_call=True,
    )

    @app.callback(
        output=[
            Output(ids.panel(ids.PANEL_GRAPH, panel), "figure", allow_duplicate=True),
            Output(ids.panel(ids.PANEL_COUNT, panel), "children", allow_duplicate=True),
            Output(ids.panel(ids.PANEL_LEGEND, panel), "children", allow_duplicate=True),
        ],
        inputs=dict(job=Input(ids.panel(ids.PANEL_JOB, panel), "data")),
        state=dict(highlight=controls(HIGHLIGHT, State)),
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
    def compute_map(set_progress, job, highlight):
        # A worker of its own (explore_dash/worker.py) loaded the tables when it started.
        state.refresh()
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        return panels.compute_panel_map(
            snapshot, state.cache_dir, inputs.panel_job(bounds, job),
            inputs.highlight(bounds, **highlight), set_progress, state.config.anonymize,
        )  # fmt: skip
