"""Drawing a panel (stored, cached, or left to its background job in :mod:`.map_jobs`), and
re-colouring, re-captioning and highlighting the drawn ones.

Plain functions of (snapshot, inputs) -> outputs; :func:`register` wires them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from dash import ALL, MATCH, Dash, Input, Output, Patch, State, ctx, html, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.clientside import browser
from explore_dash.callbacks.groups import HIGHLIGHT, LOOK, MUSIC, controls, panel_menus
from explore_dash.callbacks.panel_captions import map_captions
from explore_dash.data.colouring import (
    COLOUR_BY,
    NONE,
    POSITION,
    category_marker,
    legend,
    point_labels,
    position_marker,
    track_positions,
)
from explore_dash.data.options import PROJECTION_LABELS
from explore_dash.data.progress import extraction_alive
from explore_dash.data.snapshot import Snapshot
from explore_dash.data.state import AppState
from explore_dash.data.windows import SEGMENT_LENGTHS, WHOLE_TRACK
from explore_dash.maps.figures import (
    PanelPoints,
    base_marker,
    highlight_rows,
    panel_figure,
    trace_arrays,
    trajectory_arrays,
    trajectory_paths,
    typed_array,
)
from explore_dash.maps.points import visible_points
from explore_dash.maps.settings import PLAIN_LOOK, MapLook, PanelSettings
from extraction.contract import SEGMENT_SECONDS

#: (artists, albums, tracks, tags) picked in the Highlight card.
Highlight = Sequence[Sequence]


def highlight_spec(artists, albums, tracks, tags) -> dict:
    return {"artists": artists, "albums": albums, "tracks": tracks, "tags": tags}


def point_colours(snapshot: Snapshot, points: PanelPoints, by: str) -> tuple[dict | None, list]:
    """(marker colour fields or None for grey, legend entries) of ``points`` coloured ``by``."""
    if by not in COLOUR_BY or by == NONE or not len(points.rows):
        return None, []
    point_tracks = points.space.track[points.rows]
    if by == POSITION:
        offsets = points.space.offset[points.rows]
        where = track_positions(point_tracks, offsets, snapshot.tracks, SEGMENT_SECONDS)
        return position_marker(where, typed_array), []
    palette = snapshot.palette(by)
    labels = point_labels(by, point_tracks, snapshot.tracks, points.tags, points.labels)
    codes = palette.codes(labels)
    return category_marker(palette, codes, typed_array), legend(palette, codes)


def legend_children(entries: list[tuple[str, str]]) -> list:
    """The legend under a panel: a swatch and a name per category."""
    return [
        html.Span(
            [html.Span("●", style={"color": colour}, className="me-1"), name],
            className="legend-entry text-nowrap",
            title=name,
        )
        for name, colour in entries
    ]


def panel_title(settings: PanelSettings, anonymize: bool) -> str:
    if anonymize:
        return ""
    projection = PROJECTION_LABELS.get(settings.projection, settings.projection)
    return f"{settings.model} · {settings.layer} · {projection}"


def draw(
    snapshot: Snapshot,
    settings: PanelSettings,
    points: PanelPoints,
    highlight: Highlight,
    anonymize: bool,
    look: MapLook = PLAIN_LOOK,
    cache_dir: Path | None = None,
):
    """Figure, count text and legend of a panel whose coordinates are known.

    Region captions (``look.captions``) are cached under ``cache_dir`` with the map.
    """
    spec = highlight_spec(*highlight)
    red = highlight_rows(points, snapshot.tracks, snapshot.tags_by_track, spec)
    colour, entries = point_colours(snapshot, points, look.colour_by)
    figure = panel_figure(
        points, red, title=panel_title(settings, anonymize), uirevision=f"{settings}",
        colour=colour, trajectories=look.trajectories,
    )  # fmt: skip
    if look.captions and cache_dir is not None:
        figure["layout"]["annotations"] = map_captions(snapshot, cache_dir, settings, points)
    if points.subset:
        figure["layout"]["meta"] = {"subset": True}
    count = point_count(points)
    if points.subset:
        count += " · placed on the whole collection's map"
    return figure, count, legend_children(entries)


def point_count(points: PanelPoints) -> str:
    """The panel's count line: segments, windows or tracks."""
    n = len(points.segment_ids)
    if points.window == WHOLE_TRACK:
        return f"{n:,} tracks (whole-track averages)"
    if points.windowed:
        return f"{n:,} windows of {SEGMENT_LENGTHS[str(points.window)]}"
    return f"{n:,} segments"


def draw_panel(
    snapshot: Snapshot,
    cache_dir: Path,
    settings: PanelSettings,
    artists,
    tags,
    every_n,
    highlight: Highlight,
    *,
    window: int = 1,
    new_tables: bool,
    view: dict | None,
    extraction_running: Callable[[], bool],
    anonymize: bool = False,
    look: MapLook = PLAIN_LOOK,
):
    """(figure, count text, job, legend) of one panel.

    Parameters
    ----------
    new_tables : bool
        The redraw comes from new tables (a running extraction merged tracks): keep the user's
        zoom, and keep a computed map instead of recomputing it at every merge.
    view : dict or None
        The zoom, tool and selection outline the browser remembers for this panel.
    extraction_running : callable
        Whether an extraction is still running (asked only when it matters).
    """
    points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n, window)
    if points.ready:
        figure, count, legend_ = draw(
            snapshot, settings, points, highlight, anonymize, look, cache_dir
        )
        if new_tables:
            figure = with_view(figure, view)
        return figure, count, no_update, legend_
    if new_tables and extraction_running():
        # This t-SNE/UMAP map shows the earlier tracks; it is redone once the extraction is over.
        return (
            no_update,
            (
                f"{point_count(points)} now; this map shows the earlier ones "
                "and is redrawn when extraction ends"
            ),
            no_update,
            no_update,
        )
    # Not computed yet: the panel's background job takes over (map_jobs.compute_panel_map).
    job = map_job(settings, artists, tags, every_n, window, look)
    return no_update, f"computing {job_title(settings, points)}…", job, []


def job_title(settings: PanelSettings, points: PanelPoints) -> str:
    """What a map job computes, as the count line and the progress label both say it."""
    name = PROJECTION_LABELS.get(settings.projection, settings.projection)
    return f"{name} for {point_count(points)}"


def map_job(settings: PanelSettings, artists, tags, every_n, window: int, look: MapLook,
            fresh: bool = False) -> dict:  # fmt: skip
    """What a panel's background job computes: its map, with how to draw it.

    ``fresh``: a map of these points of their own, even where the whole collection's map could
    place them (the panel's *Recompute for this selection*). ``request`` makes each job unique:
    Dash keeps a job's result under a hash of its inputs and deletes it once read, so two pages
    asking for the same map at once would otherwise share one result, and one would never draw.
    """
    return {
        "request": secrets.token_hex(8),
        "settings": [settings.architecture, settings.dataset, settings.layer, settings.projection],
        "artists": artists,
        "tags": tags,
        "every_n": every_n,
        "window": window,
        "look": look.as_job(),
        **({"fresh": True} if fresh else {}),
    }


def recolour(
    snapshot: Snapshot,
    cache_dir: Path,
    highlight: Highlight,
    panel_settings: Sequence[PanelSettings],
    artists,
    tags,
    every_n,
    window: int = 1,
    trajectories: bool = False,
) -> list:
    """A Patch of each panel's highlight and trajectory traces (the points are not sent again)."""
    patches = []
    spec = highlight_spec(*highlight)
    for settings in panel_settings:
        points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n, window)
        if not points.ready:
            patches.append(no_update)  # its background job draws with the highlight
            continue
        red = highlight_rows(points, snapshot.tracks, snapshot.tags_by_track, spec)
        patch = Patch()
        for key, value in trace_arrays(points, red).items():
            patch["data"][1][key] = value
        paths = trajectory_paths(points, red) if trajectories else []
        for trace, arrays in zip((2, 3), trajectory_arrays(points, paths), strict=True):
            for key, value in arrays.items():
                patch["data"][trace][key] = value
        patches.append(patch)
    return patches


def colour_panels(
    snapshot: Snapshot,
    cache_dir: Path,
    colour_by: str,
    panel_settings: Sequence[PanelSettings],
    artists,
    tags,
    every_n,
    window: int = 1,
) -> tuple[list, list]:
    """(a Patch of each panel's segment colours, each panel's legend); coordinates stay."""
    patches, legends = [], []
    for settings in panel_settings:
        points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n, window)
        if not points.ready:
            patches.append(no_update)  # its background job draws with the colours
            legends.append(no_update)
            continue
        colour, entries = point_colours(snapshot, points, colour_by)
        patch = Patch()
        patch["data"][0]["marker"] = base_marker(colour)
        patches.append(patch)
        legends.append(legend_children(entries))
    return patches, legends


def caption_panels(
    snapshot: Snapshot,
    cache_dir: Path,
    shown: bool,
    panel_settings: Sequence[PanelSettings],
    artists,
    tags,
    every_n,
    window: int = 1,
) -> list:
    """A Patch of each panel's captions (shown or taken away); the points stay."""
    patches = []
    for settings in panel_settings:
        points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n, window)
        if not points.ready:
            patches.append(no_update)  # its background job draws them
            continue
        patch = Patch()
        patch["layout"]["annotations"] = (
            map_captions(snapshot, cache_dir, settings, points) if shown else []
        )
        patches.append(patch)
    return patches


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
    """Each panel drawn for its menus and the Music card, its view kept, and the drawn maps
    re-highlighted, re-coloured and re-captioned in place."""
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
    app.clientside_callback(
        browser("wholeText"),
        Output(ids.panel(ids.PANEL_COUNT, MATCH), "title"),
        Input(ids.panel(ids.PANEL_COUNT, MATCH), "children"),
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
    def draw_this_panel(settings, music, _version, view, look, highlight):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        chosen = inputs.music(bounds, **music)
        return draw_panel(
            snapshot, state.cache_dir, inputs.panel_settings(**settings), chosen.artists,
            chosen.tags, chosen.every_n, inputs.highlight(bounds, **highlight),
            window=chosen.window, new_tables=ctx.triggered_id == ids.DATA_VERSION,
            view=inputs.mapping(view), anonymize=state.config.anonymize,
            extraction_running=lambda: extraction_alive(state.extraction),
            look=inputs.map_look(**look),
        )  # fmt: skip

    every_panel = dict(settings=panel_menus(ALL, State), music=controls(MUSIC, State))

    def patch_every_panel(patch: Callable, snapshot: Snapshot, choice, settings, music, *more):
        """``patch`` (:func:`recolour`, :func:`colour_panels`, :func:`caption_panels`) of every
        panel, for its menus and the Music card."""
        chosen = inputs.music(inputs.page_bounds(snapshot), **music)
        return patch(snapshot, state.cache_dir, choice, inputs.every_panel_settings(**settings),
                     chosen.artists, chosen.tags, chosen.every_n, chosen.window, *more)  # fmt: skip

    @app.callback(
        output=Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        inputs=dict(highlight=controls(HIGHLIGHT, Input),
                    trajectories=Input(ids.TRAJECTORIES, "value")),  # fmt: skip
        state=dict(every_panel),
        prevent_initial_call=True,
    )
    def highlight_panels(highlight, trajectories, settings, music):
        snapshot = state.snapshot
        checked = inputs.highlight(inputs.page_bounds(snapshot), **highlight)
        return patch_every_panel(recolour, snapshot, checked, settings, music,
                                 inputs.flag(trajectories))  # fmt: skip

    @app.callback(
        output=[
            Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
            Output(ids.panel(ids.PANEL_LEGEND, ALL), "children", allow_duplicate=True),
        ],
        inputs=dict(colour_by=Input(ids.COLOUR_BY, "value")),
        state=dict(every_panel),
        prevent_initial_call=True,
    )
    def colour_every_panel(colour_by, settings, music):
        return patch_every_panel(colour_panels, state.snapshot,
                                 inputs.choice(colour_by, COLOUR_BY), settings, music)  # fmt: skip

    @app.callback(
        output=Output(ids.panel(ids.PANEL_GRAPH, ALL), "figure", allow_duplicate=True),
        inputs=dict(shown=Input(ids.CAPTIONS, "value")),
        state=dict(every_panel),
        prevent_initial_call=True,
    )
    def caption_every_panel(shown, settings, music):
        return patch_every_panel(caption_panels, state.snapshot, inputs.flag(shown), settings,
                                 music)  # fmt: skip
