"""Drawing a panel (stored, cached or computed in the background), and re-colouring highlights.

Plain functions of (snapshot, inputs) -> outputs; :mod:`explore_dash.callbacks` wires them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from dash import Patch, html, no_update

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
from explore_dash.data.snapshot import Snapshot
from explore_dash.data.tags import AUTO_TAG_SPACES
from explore_dash.data.windows import SEGMENT_LENGTHS, WHOLE_TRACK
from explore_dash.maps.captions import (
    cached_captions,
    caption_annotations,
    captions,
    find_regions,
    region_count,
    store_captions,
)
from explore_dash.maps.compute import compute_once
from explore_dash.maps.figures import (
    PLAIN_LOOK,
    MapLook,
    PanelPoints,
    PanelSettings,
    base_marker,
    highlight_rows,
    panel_figure,
    trace_arrays,
    trajectory_arrays,
    trajectory_paths,
    typed_array,
)
from explore_dash.maps.points import points_key, visible_points
from explore_dash.maps.projections import STORED_PROJECTIONS
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


def caption_inputs(snapshot: Snapshot, segment_ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(the auto-tag taggrams of ``segment_ids`` side by side, their labels) for captions.

    Returns
    -------
    activations : np.ndarray, shape (n, t), float32
        Zero where a segment is missing from a taggram.
    """
    blocks, labels = [], []
    for model, layer in AUTO_TAG_SPACES.values():
        names = list(snapshot.labels_by_model.get(model, ()))
        space = snapshot.collection.space(model, layer)
        if not names or not len(space):
            continue
        rows = space.rows_of(segment_ids)
        block = np.zeros((len(segment_ids), len(names)), np.float32)
        block[rows >= 0] = space.vector[rows[rows >= 0]][:, : len(names)]
        blocks.append(block)
        labels += names
    if not blocks:
        return np.zeros((len(segment_ids), 0), np.float32), []
    return np.concatenate(blocks, axis=1), labels


def map_captions(snapshot: Snapshot, cache_dir: Path, settings: PanelSettings,
                 points: PanelPoints) -> list[dict]:  # fmt: skip
    """The region captions of a drawn map as annotations, cached with the map."""
    if not points.ready or not len(points.rows):
        return []
    key = points_key(snapshot, settings, points)
    found = cached_captions(cache_dir, key)
    if found is None:
        found = region_captions(snapshot, points)[1]
        store_captions(cache_dir, key, found)
    return caption_annotations(found)


def region_captions(snapshot: Snapshot, points: PanelPoints) -> tuple[np.ndarray, list]:
    """(the region of each point, found in the space; the regions' captions on the map)."""
    activations, labels = caption_inputs(snapshot, points.segment_ids)
    k = region_count(len(points.rows))
    if k == 0:
        return np.zeros(len(points.rows), np.int64), []
    regions = find_regions(points.space_features(), k)
    return regions, captions(points.xy, activations, labels, regions)


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
    # Not computed yet: the panel's background job takes over (see compute_panel_map).
    job = map_job(settings, artists, tags, every_n, window, look)
    return no_update, f"computing {job_title(settings, points)}…", job, []


def every_n_shown(typed: bool, slider: int, box: float | None, most: int) -> tuple:
    """(slider value, number box value) after one of them changed; ``typed``: the box did.

    A number typed in the box (applied on Enter or when it loses focus) moves the slider,
    rounded into [1, ``most``]; the slider moved shows its value in the box. An emptied box
    gets the slider's value back.
    """
    if not typed:
        return no_update, slider
    if box is None:
        return no_update, slider
    every_n = int(min(most, max(1, round(box))))
    return (no_update if every_n == slider else every_n), (no_update if every_n == box
                                                           else every_n)  # fmt: skip


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
