"""What the app loads once at start-up and shares with every callback."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explore_dash.config import AppConfig
from explore_dash.data import (
    Collection,
    all_tags,
    load_model_labels,
    segment_tag_indices,
    track_tags,
)


@dataclass
class AppState:
    """The loaded collection and what is derived from it once (tags, option lists)."""

    config: AppConfig
    collection: Collection
    tags_by_track: dict[int, set[str]] = field(default_factory=dict)
    labels_by_model: dict[str, list[str]] = field(default_factory=dict)
    _segment_tags: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    @classmethod
    def load(cls, config: AppConfig) -> AppState:
        collection = Collection.load(Path(config.data_dir))
        state = cls(config, collection)
        state.refresh_tags()
        return state

    def refresh(self) -> bool:
        """Pick up tables a running extraction has merged since the last look.

        A stat call when nothing changed. On a new version the collection is read into a new
        object and swapped in whole, with its tags: a callback that took ``state.collection``
        keeps reading one consistent version.

        Returns
        -------
        bool
            Whether a new version was loaded.
        """
        current = self.collection
        if not current.changed_on_disk():
            return False
        fresh = Collection.load(Path(self.config.data_dir))
        if fresh.version == current.version:
            current.mark_seen(fresh)
            return False
        tags_by_track = track_tags(fresh, self.labels_by_model or load_model_labels())
        self.collection, self.tags_by_track = fresh, tags_by_track
        self._segment_tags = {}
        return True

    @property
    def extraction(self):
        """The running (or last) extraction's status, or None when none ever ran here."""
        from extraction.contract import read_status

        return read_status(Path(self.config.data_dir))

    def refresh_tags(self) -> None:
        self.labels_by_model = load_model_labels()
        self.tags_by_track = track_tags(self.collection, self.labels_by_model)
        self._segment_tags.clear()

    def segment_tags(self, model: str, layer: str) -> np.ndarray | None:
        """Each row's top-3 taggram label indices, shape (n, 3) uint8 (computed once per space)."""
        key = (model, layer)
        if key not in self._segment_tags:
            taggram = self.collection.space(model, "taggram")
            if model not in self.labels_by_model or len(taggram) == 0:
                return None
            space = self.collection.space(model, layer)
            self._segment_tags[key] = segment_tag_indices(space, taggram)
        return self._segment_tags[key]

    @property
    def cache_dir(self) -> Path:
        """Derived data of this library (projection maps, job state); safe to delete."""
        return Path(self.config.data_dir) / "cache"

    @contextlib.contextmanager
    def projection_cache(self):
        """The on-disk map cache, opened for one use and closed again.

        Background jobs are forked from this process; an SQLite connection (diskcache) open
        across a fork loses the child's writes, so no connection is ever left open here.
        """
        from explore_dash.projections import ProjectionCache

        cache = ProjectionCache(self.cache_dir / "projections")
        try:
            yield cache
        finally:
            cache.close()

    def map_key(self, settings, segment_ids: np.ndarray) -> str:
        from explore_dash.projections import ProjectionCache

        return ProjectionCache.key(
            settings.model,
            settings.layer,
            settings.projection,
            segment_ids,
            {"seed": 0},
            self.collection.version,
        )

    def cached_map(self, settings, segment_ids: np.ndarray) -> np.ndarray | None:
        """A stored t-SNE/UMAP map of exactly these segments, aligned to them, or None."""
        with self.projection_cache() as cache:
            stored = cache.get(self.map_key(settings, segment_ids))
        if stored is None:
            return None
        try:
            return stored.aligned_to(segment_ids)
        except KeyError:
            return None

    def compute_map(self, settings, points, progress=None) -> np.ndarray:
        """Compute (and store) the t-SNE/UMAP map of a panel's visible segments."""
        from explore_dash.projections import compute_projection, projection_input

        features = projection_input(points.space, points.rows, settings.projection)
        coordinates = compute_projection(settings.projection, features, progress=progress)
        with self.projection_cache() as cache:
            cache.set(self.map_key(settings, points.segment_ids), points.segment_ids, coordinates)
        return coordinates

    def preload(self, panels) -> None:
        """Load the spaces (and hover tags) of the first panels shown, before the first request."""
        for settings in panels:
            if (settings.model, settings.layer) in self.collection.available_spaces():
                self.segment_tags(settings.model, settings.layer)

    @property
    def tags(self) -> list[str]:
        return all_tags(self.tags_by_track)

    @property
    def empty(self) -> bool:
        return not self.collection.available_spaces() or self.collection.tracks.empty


def _track_label(artist: str, title: str) -> str:
    return " – ".join(part for part in (artist, title) if part)


def track_names(tracks) -> dict[int, str]:
    """Track id -> "artist – title" for every playable track."""
    return {
        int(t): _track_label(a, n)
        for t, a, n in zip(tracks.index, tracks["artist"], tracks["title"], strict=True)
    }


def library_choices(state: AppState) -> dict:
    """Options of every control that lists the library's artists, albums, tracks and tags."""
    tracks = state.collection.tracks
    labels = track_names(tracks)
    return {
        "artists": sorted(a for a in tracks["artist"].unique() if a),
        "albums": sorted(a for a in tracks["album"].unique() if a),
        "tracks": [{"label": labels[t], "value": t} for t in sorted(labels, key=labels.get)],
        "tags": state.tags,
        "track_names": {str(t): name for t, name in labels.items()},
    }
