"""A panel's t-SNE/UMAP map as a Dash background job: started by :func:`.panels.draw_panel`
(or by *Recompute for this selection*), computed once (:func:`explore_dash.maps.compute.
compute_once`) with its progress in the panel, cancelled, retried; and the callbacks that wire
them, one set per panel.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from dash import MATCH, Dash, Input, Output, State, html, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.clientside import browser
from explore_dash.callbacks.groups import HIGHLIGHT, LOOK, MUSIC, controls, panel_menus
from explore_dash.callbacks.panels import Highlight, draw, job_title, map_job
from explore_dash.data.options import PROJECTION_LABELS
from explore_dash.data.snapshot import Snapshot
from explore_dash.data.state import AppState
from explore_dash.maps.compute import compute_once
from explore_dash.maps.points import points_key, visible_points
from explore_dash.maps.projections import STORED_PROJECTIONS
from explore_dash.maps.settings import MapLook, PanelSettings


def recompute_job(settings: PanelSettings, artists, tags, every_n, window: int,
                  look: MapLook) -> object:  # fmt: skip
    """The job of *Recompute for this selection*; no update for a stored projection."""
    if settings.projection in STORED_PROJECTIONS:
        return no_update
    return map_job(settings, artists, tags, every_n, window, look, fresh=True)


def compute_panel_map(
    snapshot: Snapshot,
    cache_dir: Path,
    job: dict | None,
    highlight: Highlight,
    set_progress: Callable[[tuple], None],
    anonymize: bool = False,
):
    """The background job of a panel: compute its t-SNE/UMAP map, store it, draw it."""
    if not job:
        return no_update, no_update, no_update
    settings = PanelSettings(*job["settings"])
    points = visible_points(
        snapshot, cache_dir, settings, job["artists"], job["tags"], job["every_n"],
        job.get("window", 1), subset=not job.get("fresh"),
    )  # fmt: skip
    if not points.ready:
        progress = JobProgress(set_progress, job_title(settings, points))
        progress.report(0.0)
        # The maps computed ahead, or another panel or app process, may be computing this map
        # now: then the job waits for it, saying so, instead of computing it a second time.
        try:
            points.xy = compute_once(
                cache_dir, points_key(snapshot, settings, points), settings.projection,
                points.segment_ids, partial(points.features, settings.projection),
                progress=progress.report, waiting=progress.waiting,
            )  # fmt: skip
        except ValueError as error:  # ProjectionError: too few points and the like
            # Wrapped, not cut to the count line's one line: the advice is at its end.
            return no_update, html.Span(str(error), className="panel-note-error"), no_update
    look = MapLook(*job["look"])
    return draw(snapshot, settings, points, highlight, anonymize, look, cache_dir)


class JobProgress:
    """A map job's progress bar and its label: what runs, on how many points, at what stage.

    The projections report a fraction done (0 until their neighbours are found, then rising
    with their iterations); ``set_progress`` is Dash's, taking (bar value, bar text, label).
    """

    def __init__(self, set_progress: Callable[[tuple], None], title: str) -> None:
        self.set_progress = set_progress
        self.title = title

    def report(self, fraction: float) -> None:
        stage = "finding neighbours" if fraction <= 0 else "placing the points"
        percent = round(100 * fraction)
        self.set_progress((percent, f"{percent} %" if percent else "",
                           f"{self.title} · {stage}"))  # fmt: skip

    def waiting(self) -> None:
        self.set_progress((0, "", f"{self.title} · being computed in the background: waiting"))


def say_cancelled(job: dict | None) -> tuple[str, object]:
    """(count line, style of the panel's *Try again*) once a map job is cancelled.

    The old map stays and the projection menu still names the cancelled one, so the line says
    how to try again: *Recompute* (shown beside it) for a selection's own map, else *Try again*.
    """
    if not job:
        return "map cancelled", no_update
    name = PROJECTION_LABELS.get(job["settings"][3], job["settings"][3])
    if job.get("fresh"):
        return f"{name} cancelled: Recompute to try again", no_update
    return f"{name} cancelled:", {"display": "inline"}


def retry_job(clicks, job: dict | None) -> object:
    """The panel's last job again (a new attempt: Dash runs a job whose input changed)."""
    if not job:
        return no_update
    return {**job, "attempt": clicks}


def computing_line(snapshot: Snapshot, cache_dir: Path, job: object) -> object:
    """The count line while ``job`` (a new one, or no update) computes: as :func:`draw_panel`
    says it, so that a retried or recomputed map does not keep "cancelled" or "placed on the
    whole collection's map" meanwhile."""
    if not isinstance(job, dict):
        return no_update
    settings = PanelSettings(*job["settings"])
    points = visible_points(snapshot, cache_dir, settings, job["artists"], job["tags"],
                            job["every_n"], job.get("window", 1), subset=False)  # fmt: skip
    return f"computing {job_title(settings, points)}…"


def register(app: Dash, state: AppState) -> None:
    """*Recompute for this selection*, and each panel's job (:func:`register_panel_job`)."""
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
        job = recompute_job(
            inputs.panel_settings(**settings), chosen.artists, chosen.tags, chosen.every_n,
            chosen.window, inputs.map_look(**look),
        )  # fmt: skip
        return job, computing_line(state.snapshot, state.cache_dir, job)

    for panel in ids.PANELS:
        register_panel_job(app, state, panel)


def register_panel_job(app: Dash, state: AppState, panel: int) -> None:
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
    def cancelled(_clicks, job):
        return say_cancelled(inputs.panel_job(inputs.page_bounds(state.snapshot), job))

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
        again = retry_job(inputs.whole(clicks, 0, inputs.MAX_ID, default=0), checked)
        return again, computing_line(snapshot, state.cache_dir, again)

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
        return compute_panel_map(
            snapshot, state.cache_dir, inputs.panel_job(bounds, job),
            inputs.highlight(bounds, **highlight), set_progress, state.config.anonymize,
        )  # fmt: skip
