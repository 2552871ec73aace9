"""What the app loads once at start-up and shares with every callback."""

from __future__ import annotations

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
