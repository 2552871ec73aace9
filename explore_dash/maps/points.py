"""The points a panel shows, placed where a cached map has them, and the cache key of their map.

Shared by the panels (explore_dash/callbacks/panels.py, map_jobs.py) and the maps computed ahead
(:mod:`explore_dash.maps.ahead`), so both name a map by the same key.
"""

from __future__ import annotations

from pathlib import Path

from explore_dash.data.filters import tracks_matching
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.cache import cached_map, map_key
from explore_dash.maps.figures import PanelPoints, panel_points
from explore_dash.maps.settings import PanelSettings


def points_key(snapshot: Snapshot, settings: PanelSettings, points: PanelPoints) -> str:
    """The cache key of the map of ``points`` (and of its captions)."""
    # Windows are named by their first segment, so 12-s windows and every 4th segment share
    # ids: the window length keeps their maps apart.
    projection = settings.projection if points.window == 1 else (
        f"{settings.projection}/window{points.window}")  # fmt: skip
    return map_key(settings.model, settings.layer, projection, points.segment_ids,
                   snapshot.version)  # fmt: skip


def visible_points(
    snapshot: Snapshot, cache_dir: Path, settings: PanelSettings, artists, tags, every_n,
    window: int = 1, *, subset: bool = True,
) -> PanelPoints:  # fmt: skip
    """The panel's segments (or windows), with their coordinates when the map is known.

    For t-SNE/UMAP the map cache is looked up for these points; without one, and with
    ``subset``, they are placed where the whole collection's cached map has them (instant;
    ``points.subset`` says so). ``xy`` stays None when neither is cached.
    """
    chosen = tracks_matching(snapshot.tracks, snapshot.tags_by_track, artists or (), tags or ())
    points = panel_points(
        snapshot.collection,
        settings,
        chosen,
        int(every_n or 1),
        snapshot.segment_tags(settings.model, settings.layer),
        snapshot.labels_by_model.get(settings.model, ()),
        window=window,
    )
    if not points.ready:
        points.xy = cached_map(cache_dir, points_key(snapshot, settings, points),
                               points.segment_ids)  # fmt: skip
    if not points.ready and subset:
        whole = panel_points(snapshot.collection, settings, snapshot.tracks.index.to_numpy(),
                             1, window=window)  # fmt: skip
        if len(whole.segment_ids) > len(points.segment_ids):
            points.xy = cached_map(cache_dir, points_key(snapshot, settings, whole),
                                   points.segment_ids)  # fmt: skip
            points.subset = points.xy is not None
    return points
