"""What the page says about the extraction running beside it (read from its status file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from extraction.contract import ExtractionStatus

#: Poll the data folder this often while an extraction runs, and this often otherwise (ms).
POLL_RUNNING_MS = 2_000
POLL_IDLE_MS = 15_000


@dataclass(frozen=True)
class ExtractionView:
    """The extraction box of the page.

    Attributes
    ----------
    visible : bool
    running : bool
        An extraction process is alive and working.
    percent : float
        Audio done, 0–100.
    text : str
        One line: tracks, audio hours, time left, failures.
    failures : list of (path, reason)
    measures : bool
        The text is about a run's progress (a bar shows ``percent``), not a note on the library.
    """

    visible: bool = False
    running: bool = False
    percent: float = 0.0
    text: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    measures: bool = True


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists and has not exited (on this machine).

    An exited child not yet reaped by its parent (a zombie) still answers signals; on Linux
    its /proc entry tells.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: trust the signal
    # The state letter follows the parenthesised command name, which may contain spaces.
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] != "Z"


def extraction_alive(status: ExtractionStatus | None) -> bool:
    """Whether an extraction runs now: its status says so and its process is alive.

    A status left "running" by a killed run is not (its process is gone).
    """
    return status is not None and status.running and process_alive(status.pid)


def format_duration(seconds: float) -> str:
    """A rough human duration: "40 s", "12 min", "3 h 05 min"."""
    seconds = max(float(seconds), 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


def extraction_view(status: ExtractionStatus | None, alive: bool) -> ExtractionView:
    """Describe ``status`` for the page; ``alive`` tells whether its process still runs.

    A status that claims to be running while its process is gone was left by a killed run:
    the tables hold what it merged, and the next start resumes it.
    """
    if status is None:
        return ExtractionView()
    failures = [(str(path), str(reason)) for path, reason in status.failures]
    failed = f" · {status.tracks_failed} failed" if status.tracks_failed else ""
    percent = (
        100.0 * status.audio_done_seconds / status.audio_total_seconds
        if status.audio_total_seconds > 0
        else (100.0 if status.tracks_total == 0 else 0.0)
    )
    percent = min(max(percent, 0.0), 100.0)
    tracks = f"{status.tracks_done} of {status.tracks_total} tracks"
    audio = f"{_hours(status.audio_done_seconds)} of {_hours(status.audio_total_seconds)} h audio"
    missing = missing_note(status.tracks_missing)
    running = status.running and alive
    if status.phase == "refused":
        text = f"Library not updated: {status.error or 'it looks unmounted'}"
        return ExtractionView(True, False, percent, text, failures, measures=False)
    elif status.running and not alive:
        text = f"Extraction stopped unexpectedly after {tracks}{failed}; restart to resume."
    elif status.phase == "scanning":
        text = "Scanning the library…"
    elif running:
        left = (
            f" · about {format_duration(status.eta_seconds)} left"
            if status.eta_seconds is not None
            else ""
        )
        text = f"Extracting: {tracks} · {audio}{left}{failed}"
    elif status.phase == "done":
        if status.tracks_total == 0 and not failures:
            if missing:
                return ExtractionView(True, False, 100.0, missing, measures=False)
            return ExtractionView()  # nothing new: no box
        text = f"Extraction finished: {tracks}{failed}"
    elif status.phase == "interrupted":
        text = f"Extraction interrupted after {tracks}{failed}; restart to resume."
    else:
        text = f"Extraction failed: {status.error or 'unknown error'} ({tracks} done)"
    if missing:
        text += f" · {missing}"
    return ExtractionView(True, running, percent, text, failures)


def missing_note(count: int) -> str:
    """The page's words for tracks whose files are gone ("" when none): kept, off the map."""
    if count <= 0:
        return ""
    tracks = "1 track is" if count == 1 else f"{count} tracks are"
    return f"{tracks} missing from the library: kept off the map until their files return"
