"""The running extraction's progress as a small JSON file in the data folder, for the app to poll.

The web process never talks to the extraction process directly: it reads ``progress.json``
(written atomically, at most a few times a second) and ``state.json``'s version. A reader may
find the file missing (no extraction ever ran) or left over by a killed run; ``pid`` and
``updated`` let it tell a live run from a stale file.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from extraction.contract import PROGRESS_FILE, STATUS_OK, ExtractionStatus
from extraction.pipeline import Progress
from extraction.store import atomic_write_text
from extraction.task import TrackResult

log = logging.getLogger(__name__)

#: Failures listed in the file (the tracks table keeps every reason).
MAX_LISTED_FAILURES = 200


def estimate_eta(done_seconds: float, total_seconds: float, elapsed: float) -> float | None:
    """Seconds left at the audio rate so far; None before any audio is done."""
    if done_seconds <= 0 or elapsed <= 0:
        return None
    return max(total_seconds - done_seconds, 0.0) * elapsed / done_seconds


def status_path(data_dir: Path) -> Path:
    return Path(data_dir) / PROGRESS_FILE


class StatusFile(Progress):
    """Writes an :class:`ExtractionStatus` to ``<data>/progress.json`` as a run advances.

    Parameters
    ----------
    data_dir : Path
    min_interval : float
        Seconds between writes while tracks finish (start and end are always written).
    """

    def __init__(self, data_dir: Path, min_interval: float = 0.5) -> None:
        self.path = status_path(data_dir)
        self.min_interval = min_interval
        self.status = ExtractionStatus()
        self._clock_start = time.monotonic()
        self._last_write = 0.0
        self.write()

    def write(self) -> None:
        self.status.updated = time.time()
        self._last_write = time.monotonic()
        try:
            atomic_write_text(json.dumps(asdict(self.status)), self.path)
        except Exception as error:  # noqa: BLE001 - progress display must never stop a run
            log.warning("cannot write %s: %s", self.path, error)

    def start(self, total_audio_seconds: float, total_tracks: int) -> None:
        self.status.phase = "extracting"
        self.status.tracks_total = total_tracks
        self.status.audio_total_seconds = float(total_audio_seconds)
        self._clock_start = time.monotonic()
        self.write()

    def library_checked(self, missing: int, moved: int) -> None:
        self.status.tracks_missing = missing
        self.write()

    def advance(self, result: TrackResult) -> None:
        status = self.status
        status.tracks_done += 1
        status.audio_done_seconds += float(result.row.get("duration") or 0.0)
        if result.row["status"] != STATUS_OK:
            status.tracks_failed += 1
            status.failures.append([str(result.row["path"]), str(result.row["error"])])
            del status.failures[:-MAX_LISTED_FAILURES]
        status.eta_seconds = estimate_eta(
            status.audio_done_seconds,
            status.audio_total_seconds,
            time.monotonic() - self._clock_start,
        )
        if time.monotonic() - self._last_write >= self.min_interval:
            self.write()

    def close(self) -> None:
        self.write()

    def finish(self, phase: str, error: str | None = None) -> None:
        """Record how the run ended: ``done``, ``interrupted``, or ``failed`` or ``refused``
        (with ``error``)."""
        self.status.phase = phase
        self.status.error = error
        if phase == "done":
            self.status.eta_seconds = 0.0
        self.write()


class ProgressGroup(Progress):
    """Forwards every progress event to several reporters (the terminal bar and the file)."""

    def __init__(self, reporters: Sequence[Progress]) -> None:
        self.reporters = list(reporters)

    def start(self, total_audio_seconds: float, total_tracks: int) -> None:
        for reporter in self.reporters:
            reporter.start(total_audio_seconds, total_tracks)

    def library_checked(self, missing: int, moved: int) -> None:
        for reporter in self.reporters:
            reporter.library_checked(missing, moved)

    def advance(self, result: TrackResult) -> None:
        for reporter in self.reporters:
            reporter.advance(result)

    def close(self) -> None:
        for reporter in self.reporters:
            reporter.close()
