"""The running app's state: its settings and the current :class:`Snapshot`, swapped on refresh."""

from __future__ import annotations

import threading
from pathlib import Path

from explore_dash.config import AppConfig
from explore_dash.data.collection import Collection
from explore_dash.data.snapshot import Snapshot
from extraction.contract import CACHE_DIR, ExtractionStatus, read_status


class AppState:
    """Shared by every callback: read :attr:`snapshot` once per callback, then only that.

    Parameters
    ----------
    config : AppConfig
    snapshot : Snapshot
        What is loaded now.
    """

    def __init__(self, config: AppConfig, snapshot: Snapshot) -> None:
        self.config = config
        self._snapshot = snapshot
        self._refreshing = threading.Lock()

    @classmethod
    def load(cls, config: AppConfig) -> AppState:
        return cls(config, Snapshot.load(Path(config.data_dir)))

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (one attribute read: always one whole version)."""
        return self._snapshot

    def refresh(self) -> bool:
        """Pick up tables a running extraction has merged since the last look.

        A stat call when nothing changed. A new version is loaded into a new snapshot, which
        replaces the current one in a single assignment; callbacks holding the old one keep
        reading one consistent version. Two refreshes at once load it once.

        Returns
        -------
        bool
            Whether a new version was loaded.
        """
        with self._refreshing:
            current = self._snapshot
            if not current.collection.changed_on_disk():
                return False
            fresh = Collection.load(Path(self.config.data_dir), wait_seconds=0)
            if not fresh.settled:
                return False  # a merge is halfway: keep this version, look again next time
            if fresh.version == current.version:
                current.collection.mark_seen(fresh)
                return False
            self._snapshot = Snapshot.of(fresh, current.labels_by_model)
            return True

    @property
    def extraction(self) -> ExtractionStatus | None:
        """The running (or last) extraction's status, or None when none ever ran here."""
        return read_status(Path(self.config.data_dir))

    @property
    def cache_dir(self) -> Path:
        """Derived data of this library (projection maps, job state); safe to delete."""
        return Path(self.config.data_dir) / CACHE_DIR

    def preload(self, panels) -> None:
        """Load the spaces (and hover tags) of the first panels shown, before the first request."""
        snapshot = self.snapshot
        for settings in panels:
            if (settings.model, settings.layer) in snapshot.collection.available_spaces():
                snapshot.segment_tags(settings.model, settings.layer)
