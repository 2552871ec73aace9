"""Times and durations as the page writes them (assets/*.js writes times the same way)."""

from __future__ import annotations

import math


def format_time(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on), rounded down to the second."""
    total = max(0, int(seconds)) if math.isfinite(seconds) else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
