"""Drawing a panel (stored, cached or computed in the background), and re-colouring highlights.

Plain functions of (snapshot, inputs) -> outputs; :mod:`explore_dash.callbacks` wires them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dash import Patch, html, no_update

from explore_dash.colouring import (
    COLOUR_BY,
    NONE,
    POSITION,
    category_marker,
    legend,
    point_labels,
    position_marker,
    track_positions,
)
from explore_dash.figures import (
    PLAIN_LOOK,
    MapLook,
    PanelPoints,
    PanelSettings,
    base_marker,
    highlight_rows,
    panel_figure,
    panel_points,
    trace_arrays,
    trajectory_arrays,
    trajectory_paths,
    typed_array,
)
from explore_dash.filters import tracks_matching
from explore_dash.map_cache import cached_map, map_key, store_map
from explore_dash.options import PROJECTION_LABELS
from explore_dash.search import MAX_RESULTS, search_tracks
from explore_dash.snapshot import Snapshot
from extraction.contract import SEGMENT_SECONDS

#: (artists, albums, tracks, tags) picked in the Highlight card.
Highlight = Sequence[Sequence]


def highlight_spec(artists, albums, tracks, tags) -> dict:
    return {"artists": artists, "albums": albums, "tracks": tracks, "tags": tags}


def visible_points(
    snapshot: Snapshot, cache_dir: Path, settings: PanelSettings, artists, tags, every_n
) -> PanelPoints:
    """The panel's segments, with their coordinates when the map is known.

    For t-SNE/UMAP the map cache is looked up once; ``xy`` stays None when nothing is cached.
    """
    chosen = tracks_matching(snapshot.tracks, snapshot.tags_by_track, artists or (), tags or ())
    points = panel_points(
        snapshot.collection,
        settings,
        chosen,
        int(every_n or 1),
        snapshot.segment_tags(settings.model, settings.layer),
        snapshot.labels_by_model.get(settings.model, ()),
    )
    if not points.ready:
        key = map_key(
            settings.model, settings.layer, settings.projection, points.segment_ids,
            snapshot.version,
        )  # fmt: skip
        points.xy = cached_map(cache_dir, key, points.segment_ids)
    return points


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
):
    """Figure, count text and legend of a panel whose coordinates are known."""
    spec = highlight_spec(*highlight)
    red = highlight_rows(points, snapshot.tracks, snapshot.tags_by_track, spec)
    colour, entries = point_colours(snapshot, points, look.colour_by)
    figure = panel_figure(
        points, red, title=panel_title(settings, anonymize), uirevision=f"{settings}",
        colour=colour, trajectories=look.trajectories,
    )  # fmt: skip
    return figure, f"{len(points.segment_ids):,} segments", legend_children(entries)


def draw_panel(
    snapshot: Snapshot,
    cache_dir: Path,
    settings: PanelSettings,
    artists,
    tags,
    every_n,
    highlight: Highlight,
    *,
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
    points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n)
    if points.ready:
        figure, count, legend_ = draw(snapshot, settings, points, highlight, anonymize, look)
        if new_tables:
            figure = with_view(figure, view)
        return figure, count, no_update, legend_
    if new_tables and extraction_running():
        # This t-SNE/UMAP map shows the earlier tracks; it is redone once the extraction is over.
        return (
            no_update,
            (
                f"{len(points.segment_ids):,} segments now; this map shows the earlier ones "
                "and is redrawn when extraction ends"
            ),
            no_update,
            no_update,
        )
    # Not computed yet: the panel's background job takes over (see compute_panel_map).
    job = {
        "settings": [settings.architecture, settings.dataset, settings.layer, settings.projection],
        "artists": artists,
        "tags": tags,
        "every_n": every_n,
        "look": look.as_job(),
    }
    name = PROJECTION_LABELS.get(settings.projection, settings.projection)
    return no_update, f"computing {name} for {len(points.segment_ids):,} segments…", job, []


def compute_panel_map(
    snapshot: Snapshot,
    cache_dir: Path,
    job: dict | None,
    highlight: Highlight,
    set_progress: Callable[[tuple], None],
    anonymize: bool = False,
):
    """The background job of a panel: compute its t-SNE/UMAP map, store it, draw it."""
    from explore_dash.projections import compute_projection, projection_input

    if not job:
        return no_update, no_update, no_update
    settings = PanelSettings(*job["settings"])
    points = visible_points(
        snapshot, cache_dir, settings, job["artists"], job["tags"], job["every_n"]
    )
    if not points.ready:

        def report(fraction: float) -> None:
            set_progress((round(100 * fraction), f"{100 * fraction:.0f} %"))

        set_progress((0, "starting"))
        try:
            features = projection_input(points.space, points.rows, settings.projection)
            points.xy = compute_projection(settings.projection, features, progress=report)
        except ValueError as error:  # ProjectionError: too few points and the like
            return no_update, str(error), no_update
        key = map_key(
            settings.model, settings.layer, settings.projection, points.segment_ids,
            snapshot.version,
        )  # fmt: skip
        store_map(cache_dir, key, points.segment_ids, points.xy)
    return draw(snapshot, settings, points, highlight, anonymize, MapLook(*job["look"]))


def recolour(
    snapshot: Snapshot,
    cache_dir: Path,
    highlight: Highlight,
    panel_settings: Sequence[PanelSettings],
    artists,
    tags,
    every_n,
    trajectories: bool = False,
) -> list:
    """A Patch of each panel's highlight and trajectory traces (the points are not sent again)."""
    patches = []
    spec = highlight_spec(*highlight)
    for settings in panel_settings:
        points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n)
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
) -> tuple[list, list]:
    """(a Patch of each panel's segment colours, each panel's legend); coordinates stay."""
    patches, legends = [], []
    for settings in panel_settings:
        points = visible_points(snapshot, cache_dir, settings, artists, tags, every_n)
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


def say_cancelled(_clicks) -> str:
    return "map cancelled: choose a projection to try again"



def find(snapshot: Snapshot, query: str) -> tuple[object, object, str]:
    """(highlighted tracks, where both maps fly to, message) of the search box."""
    if not query.strip():
        return [], no_update, ""
    found = search_tracks(snapshot.tracks, query)
    if not found:
        return no_update, no_update, f"Nothing matches “{query.strip()}”."
    shown = "1 track" if len(found) == 1 else f"{len(found):,} tracks"
    more = f" (the first {MAX_RESULTS})" if len(found) == MAX_RESULTS else ""
    return found, {"tracks": found, "query": query}, f"{shown}{more}: highlighted, maps zoomed"
