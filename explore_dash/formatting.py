"""Times and durations as the page writes them (assets/*.js writes times the same way)."""

from __future__ import annotations

import math


def whole_seconds(seconds: float) -> int:
    """``seconds`` rounded half up to a whole second, 0 or more (0 when not finite).

    Every place that shows a time rounds this way: the player, the playlist, a moment's
    "@ 0:03" and an M3U8's ``#EXTINF``, so one track's length reads the same everywhere (cutting
    gave 1:14 in the player and 1:15 in the playlist, and a 0.5-s file "0:00").
    """
    return max(0, math.floor(seconds + 0.5)) if math.isfinite(seconds) else 0


def format_time(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on), rounded half up to the second."""
    hours, rest = divmod(whole_seconds(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
