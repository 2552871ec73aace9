"""The user's player in the page: the buttons that send the playlist or a chain to MPD.

Only in a page whose app was started with ``--mpd`` (explore_dash/callbacks/player.py).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc

from explore_dash.layouts import glyphs


def send_buttons(play_id: str, add_id: str, what: str) -> list[dbc.Button]:
    """▶ MPD (replace MPD's queue with ``what`` and play it) and + MPD (add it to the queue)."""
    return [
        dbc.Button(f"{glyphs.PLAY} MPD", id=play_id, size="sm", color="link",
                   className="p-0 me-2 text-nowrap",
                   title=f"Play {what} in MPD, instead of what its queue holds"),
        dbc.Button("+ MPD", id=add_id, size="sm", color="link", className="p-0 me-2 text-nowrap",
                   title=f"Add {what} to MPD's queue"),
    ]  # fmt: skip
