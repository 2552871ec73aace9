"""Drawing a panel (stored, cached or computed in the background), and re-colouring highlights."""

from __future__ import annotations

from dash import ALL, MATCH, Dash, Input, Output, Patch, State, ctx, no_update

from explore_dash import ids
from explore_dash.data import PROJECTION_LABELS, tracks_matching
from explore_dash.data import PROJECTIONS as STORED_PROJECTIONS
from explore_dash.figures import (
    PanelPoints,
    PanelSettings,
    highlight_rows,
    panel_figure,
    panel_points,
    trace_arrays,
)
from explore_dash.progress import process_alive
from explore_dash.state import AppState

SETTING_KINDS = (ids.PANEL_ARCHITECTURE, ids.PANEL_DATASET, ids.PANEL_LAYER, ids.PANEL_PROJECTION)
HIGHLIGHT_INPUTS = (
    ids.HIGHLIGHT_ARTISTS,
    ids.HIGHLIGHT_ALBUMS,
    ids.HIGHLIGHT_TRACKS,
    ids.HIGHLIGHT_TAGS,
)


def highlight_spec(artists, albums, tracks, tags) -> dict:
    return {"artists": artists, "albums": albums, "tracks": tracks, "tags": tags}


def visible_points(state: AppState, settings: PanelSettings, artists, tags, every_n) -> PanelPoints:
    """The panel's segments; for t-SNE/UMAP with the cached map's coordinates when there is one
    (``xy`` is zeros otherwise: use :func:`map_ready` to tell)."""
    collection = state.collection
    chosen = tracks_matching(collection.tracks, state.tags_by_track, artists or (), tags or ())
    tag_indices = state.segment_tags(settings.model, settings.layer)
    labels = state.labels_by_model.get(settings.model, ())
    points = panel_points(collection, settings, chosen, int(every_n or 1), tag_indices, labels)
    if settings.projection not in STORED_PROJECTIONS:
        cached = state.cached_map(settings, points.segment_ids)
        if cached is not None:
            points.xy = cached
    return points


def extraction_running(state: AppState) -> bool:
    status = state.extraction
    return status is not None and status.running and process_alive(status.pid)


def map_ready(state: AppState, settings: PanelSettings, points: PanelPoints) -> bool:
    return (
        settings.projection in STORED_PROJECTIONS
        or state.cached_map(settings, points.segment_ids) is not None
    )


def panel_title(state: AppState, settings: PanelSettings) -> str:
    if state.config.anonymize:
        return ""
    projection = PROJECTION_LABELS.get(settings.projection, settings.projection)
    return f"{settings.model} · {settings.layer} · {projection}"


def draw(state: AppState, settings: PanelSettings, points: PanelPoints, selection, highlight):
    """Figure and count text of a panel whose coordinates are known."""
    red = highlight_rows(
        points, state.collection.tracks, state.tags_by_track, highlight_spec(*highlight)
    )
    figure = panel_figure(
        points,
        red,
        title=panel_title(state, settings),
        uirevision=f"{settings}",
    )
    return figure, f"{len(points.segment_ids):,} segments"


# Remembers the axis ranges a user zoomed or panned to (and forgets them on a reset), the drag
# tool and the selection outline, with the
# map's uirevision so a view is only ever re-applied to the same map. Plotly's own uirevision
# did not keep a zoom across figure replacements here (Dash 4, scattergl): tested in
# tests/test_live_app.py.
KEEP_VIEW = """
function(relayout, view, figure) {
  const noUpdate = window.dash_clientside.no_update;
  if (!relayout || !figure) { return noUpdate; }
  const revision = figure.layout && figure.layout.uirevision;
  const next = Object.assign({}, view && view.revision === revision ? view : {});
  next.revision = revision;
  let changed = false;
  for (const axis of ["xaxis", "yaxis"]) {
    const low = relayout[axis + ".range[0]"], high = relayout[axis + ".range[1]"];
    if (relayout[axis + ".autorange"]) { delete next[axis]; changed = true; }
    else if (low !== undefined && high !== undefined) { next[axis] = [low, high]; changed = true; }
    else if (Array.isArray(relayout[axis + ".range"])) {
      next[axis] = relayout[axis + ".range"]; changed = true;
    }
  }
  if (relayout.dragmode !== undefined) { next.dragmode = relayout.dragmode; changed = true; }
  if (relayout.selections !== undefined) { next.selections = relayout.selections; changed = true; }
  return changed ? next : noUpdate;
}
"""


def with_view(figure: dict, view: dict | None) -> dict:
    """``figure`` with the zoom, tool and selection outline of ``view``, if taken of this map."""
    if not view or view.get("revision") != figure["layout"].get("uirevision"):
        return figure
    for axis in ("xaxis", "yaxis"):
        if isinstance(view.get(axis), list) and len(view[axis]) == 2:
            figure["layout"][axis] = {
                **figure["layout"].get(axis, {}),
                "range": view[axis],
                "autorange": False,
            }
    # The user's tool and box/lasso outline, so the selection made on this map stays.
    if view.get("dragmode") in ("zoom", "pan", "select", "lasso"):
        figure["layout"]["dragmode"] = view["dragmode"]
    if isinstance(view.get("selections"), list):
        figure["layout"]["selections"] = view["selections"]
    return figure


def register(app: Dash, state: AppState) -> None:
    app.clientside_callback(
        KEEP_VIEW,
        Output(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
        Input(ids.panel(ids.PANEL_GRAPH, MATCH), "relayoutData"),
        State(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
        State(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
        Output(ids.panel(ids.PANEL_COUNT, MATCH), "children"),
        Output(ids.panel(ids.PANEL_JOB, MATCH), "data"),
        *(Input(ids.panel(kind, MATCH), "value") for kind in SETTING_KINDS),
        Input(ids.ARTISTS, "value"),
        Input(ids.TAGS, "value"),
        Input(ids.REDUCTION, "value"),
        Input(ids.DATA_VERSION, "data"),
        State(ids.SELECTION, "data"),
        State(ids.panel(ids.PANEL_VIEW, MATCH), "data"),
        *(State(component, "value") for component in HIGHLIGHT_INPUTS),
    )
    def draw_panel(
        architecture,
        dataset,
        layer,
        projection,
        artists,
        tags,
        every_n,
        _version,
        selection,
        view,
        *highlight,
    ):
        settings = PanelSettings(architecture, dataset, layer, projection)
        points = visible_points(state, settings, artists, tags, every_n)
        if map_ready(state, settings, points):
            figure, count = draw(state, settings, points, selection, highlight)
            if ctx.triggered_id == ids.DATA_VERSION:  # new tracks: keep the user's zoom
                figure = with_view(figure, view)
            return figure, count, no_update
        if ctx.triggered_id == ids.DATA_VERSION and extraction_running(state):
            # New tracks while extraction runs: keep this t-SNE/UMAP map rather than
            # recomputing it at every merge; it is redone once the extraction is over.
            return (
                no_update,
                (
                    f"{len(points.segment_ids):,} segments now; this map shows the earlier ones "
                    "and is redrawn when extraction ends"
                ),
                no_update,
            )
        # Not computed yet: the panel's background job takes over (see register_map_jobs).
        job = {
            "settings": [architecture, dataset, layer, projection],
            "artists": artists,
            "tags": tags,
            "every_n": every_n,
        }
        name = PROJECTION_LABELS.get(projection, projection)
        return no_update, f"computing {name} for {len(points.segment_ids):,} segments…", job

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        *(Input(component, "value") for component in HIGHLIGHT_INPUTS),
        *(State(ids.panel(kind, ALL), "value") for kind in SETTING_KINDS),
        State(ids.ARTISTS, "value"),
        State(ids.TAGS, "value"),
        State(ids.REDUCTION, "value"),
        prevent_initial_call=True,
    )
    def recolour(
        h_artists,
        h_albums,
        h_tracks,
        h_tags,
        architectures,
        datasets,
        layers,
        projections,
        artists,
        tags,
        every_n,
    ):
        patches = []
        spec = highlight_spec(h_artists, h_albums, h_tracks, h_tags)
        for settings in map(PanelSettings, architectures, datasets, layers, projections):
            points = visible_points(state, settings, artists, tags, every_n)
            if not map_ready(state, settings, points):
                patches.append(no_update)  # its background job draws with the highlight
                continue
            red = highlight_rows(points, state.collection.tracks, state.tags_by_track, spec)
            patch = Patch()
            for key, value in trace_arrays(points, red).items():
                patch["data"][1][key] = value
            patches.append(patch)
        return patches

    # Once per panel: Plotly draws WebGL at twice the screen's resolution by default (sharp image
    # export), four times the pixels to shade, which software WebGL pays for at every redraw:
    # match the screen. And the browser starts mirroring the panel's selections.
    app.clientside_callback(
        "function(id, config) { return window.exploreDash.setUpPanel(id, config); }",
        Output(ids.panel(ids.PANEL_GRAPH, MATCH), "config"),
        Input(ids.panel(ids.PANEL_GRAPH, MATCH), "id"),
        State(ids.panel(ids.PANEL_GRAPH, MATCH), "config"),
    )
    app.clientside_callback(
        "function(n) { return window.exploreDash.resetZoom(n); }",
        Output(ids.panel(ids.PANEL_RESET, MATCH), "title"),
        Input(ids.panel(ids.PANEL_RESET, MATCH), "n_clicks"),
        prevent_initial_call=True,
    )

    for panel in ids.PANELS:
        register_map_job(app, state, panel)


def register_map_job(app: Dash, state: AppState, panel: int) -> None:
    """t-SNE / UMAP of one panel as a Dash background job: progress, cancel, page stays live.

    One callback per panel (fixed ids, not pattern matching) so each panel has its own job,
    progress bar and cancel button, and the other panel stays usable meanwhile.
    """

    @app.callback(
        Output(ids.panel(ids.PANEL_COUNT, panel), "children", allow_duplicate=True),
        Input(ids.cancel_button(panel), "n_clicks"),
        prevent_initial_call=True,
    )
    def say_cancelled(_clicks):
        return "map cancelled: choose a projection to try again"

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, panel), "figure", allow_duplicate=True),
        Output(ids.panel(ids.PANEL_COUNT, panel), "children", allow_duplicate=True),
        Input(ids.panel(ids.PANEL_JOB, panel), "data"),
        State(ids.SELECTION, "data"),
        *(State(component, "value") for component in HIGHLIGHT_INPUTS),
        background=True,
        running=[
            (
                Output(ids.panel(ids.PANEL_PROGRESS_BOX, panel), "style"),
                {"display": "flex"},
                {"display": "none"},
            ),
        ],
        progress=[
            Output(ids.panel(ids.PANEL_PROGRESS, panel), "value"),
            Output(ids.panel(ids.PANEL_PROGRESS, panel), "label"),
        ],
        cancel=[Input(ids.cancel_button(panel), "n_clicks")],
        prevent_initial_call=True,
    )
    def compute_map(set_progress, job, selection, *highlight):
        if not job:
            return no_update, no_update
        settings = PanelSettings(*job["settings"])
        points = visible_points(state, settings, job["artists"], job["tags"], job["every_n"])

        def report(fraction: float) -> None:
            set_progress((round(100 * fraction), f"{100 * fraction:.0f} %"))

        set_progress((0, "starting"))
        try:
            points.xy = state.compute_map(settings, points, progress=report)
        except ValueError as error:  # ProjectionError: too few points and the like
            return no_update, str(error)
        return draw(state, settings, points, selection, highlight)
