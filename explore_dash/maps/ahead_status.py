"""What the maps-ahead process has done, in ``cache/maps-ahead.json``: written by it
(:mod:`explore_dash.maps.ahead`), read by the page ("maps: 5 of 16 ready") and by the server,
which pauses the process while the page is used (:mod:`explore_dash.maps.yielding`)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from explore_dash.data.progress import process_alive

STATUS_FILE = "maps-ahead.json"


@dataclass
class AheadStatus:
    """What ``maps-ahead.json`` says: maps ready of those to compute, for one table version."""

    version: int = -1
    ready: int = 0
    total: int = 0
    computing: str = ""
    waiting: bool = False
    pid: int = field(default_factory=os.getpid)

    def text(self) -> str:
        """The page's quiet line; empty once every map is ready or when nothing is known."""
        if self.total == 0 or (self.ready >= self.total and not self.computing):
            return ""
        if self.waiting:
            return f"maps: {self.ready} of {self.total} ready, the rest after the analysis"
        return f"maps: {self.ready} of {self.total} ready"


def read_ahead_status(cache_dir: Path) -> AheadStatus | None:
    """The last status the process wrote, if it is still running; None otherwise."""
    try:
        raw = json.loads((Path(cache_dir) / STATUS_FILE).read_text(encoding="utf-8"))
        status = AheadStatus(**{k: raw[k] for k in AheadStatus.__dataclass_fields__ if k in raw})
    except (OSError, ValueError, TypeError):
        return None
    return status if process_alive(status.pid) else None


def write_ahead_status(cache_dir: Path, status: AheadStatus) -> None:
    """Replace the status file at once (a reader never sees half of it)."""
    path = Path(cache_dir) / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(asdict(status)), encoding="utf-8")
    partial.replace(path)
