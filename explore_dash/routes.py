"""The app's own URL paths beside Dash's, named once: shared by the rooms that serve them, the
maps' yielding that tells a person's requests by them, and the browser code that builds them
(through :func:`explore_dash.layouts.client.client_settings`)."""

from __future__ import annotations

#: A track's audio is at ``AUDIO_PREFIX + <track id>`` (explore_dash/listening/audio.py).
AUDIO_PREFIX = "/audio/"
