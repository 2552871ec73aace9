"""Drawing a panel, and re-colouring highlights in both panels."""

from __future__ import annotations

from dash import ALL, MATCH, Dash, Input, Output, Patch, State

from explore_dash import ids
from explore_dash.data import tracks_matching
from explore_dash.figures import (
    PanelPoints,
    PanelSettings,
    highlight_rows,
    panel_figure,
    panel_points,
    selected_indices,
    trace_arrays,
)
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
    collection = state.collection
    chosen = tracks_matching(collection.tracks, state.tags_by_track, artists or (), tags or ())
    tags = state.segment_tags(settings.model, settings.layer)
    labels = state.labels_by_model.get(settings.model, ())
    return panel_points(collection, settings, chosen, int(every_n or 1), tags, labels)


def panel_title(state: AppState, settings: PanelSettings) -> str:
    if state.config.anonymize:
        return ""
    return f"{settings.model} · {settings.layer} · {settings.projection.replace('_', '-')}"


def register(app: Dash, state: AppState) -> None:
    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, MATCH), "figure"),
        Output(ids.panel(ids.PANEL_COUNT, MATCH), "children"),
        *(Input(ids.panel(kind, MATCH), "value") for kind in SETTING_KINDS),
        Input(ids.ARTISTS, "value"),
        Input(ids.TAGS, "value"),
        Input(ids.REDUCTION, "value"),
        State(ids.SELECTION, "data"),
        *(State(component, "value") for component in HIGHLIGHT_INPUTS),
    )
    def draw_panel(
        architecture, dataset, layer, projection, artists, tags, every_n, selection, *highlight
    ):
        settings = PanelSettings(architecture, dataset, layer, projection)
        points = visible_points(state, settings, artists, tags, every_n)
        red = highlight_rows(
            points, state.collection.tracks, state.tags_by_track, highlight_spec(*highlight)
        )
        figure = panel_figure(
            points,
            red,
            (selection or {}).get("ids"),
            title=panel_title(state, settings),
            uirevision=f"{settings}",
        )
        return figure, f"{len(points.segment_ids):,} segments"

    @app.callback(
        Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        *(Input(component, "value") for component in HIGHLIGHT_INPUTS),
        *(State(ids.panel(kind, ALL), "value") for kind in SETTING_KINDS),
        State(ids.ARTISTS, "value"),
        State(ids.TAGS, "value"),
        State(ids.REDUCTION, "value"),
        State(ids.SELECTION, "data"),
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
        selection,
    ):
        patches = []
        spec = highlight_spec(h_artists, h_albums, h_tracks, h_tags)
        for settings in map(PanelSettings, architectures, datasets, layers, projections):
            points = visible_points(state, settings, artists, tags, every_n)
            red = highlight_rows(points, state.collection.tracks, state.tags_by_track, spec)
            patch = Patch()
            for key, value in trace_arrays(points, red).items():
                patch["data"][1][key] = value
            selected = (selection or {}).get("ids")
            patch["data"][1]["selectedpoints"] = selected_indices(points.segment_ids[red], selected)
            patches.append(patch)
        return patches

    app.clientside_callback(
        "function(n) { return window.exploreDash.resetZoom(n); }",
        Output(ids.panel(ids.PANEL_RESET, MATCH), "title"),
        Input(ids.panel(ids.PANEL_RESET, MATCH), "n_clicks"),
        prevent_initial_call=True,
    )
