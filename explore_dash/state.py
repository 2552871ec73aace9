"""What the app loads once at start-up and shares with every callback."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from explore_dash.config import AppConfig
from explore_dash.data import Collection, all_tags, load_model_labels, track_tags


@dataclass
class AppState:
    """The loaded collection and what is derived from it once (tags, option lists)."""

    config: AppConfig
    collection: Collection
    tags_by_track: dict[int, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, config: AppConfig) -> AppState:
        collection = Collection.load(Path(config.data_dir))
        state = cls(config, collection)
        state.refresh_tags()
        return state

    def refresh_tags(self) -> None:
        self.tags_by_track = track_tags(self.collection, load_model_labels())

    @property
    def tags(self) -> list[str]:
        return all_tags(self.tags_by_track)

    @property
    def empty(self) -> bool:
        return not self.collection.available_spaces() or self.collection.tracks.empty
