"""The user's player in the page: the buttons that send the playlist or a chain to MPD.

Only in a page whose app was started with ``--mpd`` (explore_dash/callbacks/player.py).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
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


def save_button(button_id: str, what: str) -> dbc.Button:
    """→ Subsonic: ``what`` saved as a playlist on the Subsonic server (``--subsonic``)."""
    return dbc.Button("→ Subsonic", id=button_id, size="sm", color="link",
                      className="p-0 me-2 text-nowrap",
                      title=f"Save {what} as a playlist on the Subsonic server")  # fmt: skip


#: How often the page asks what MPD plays (the server follows MPD itself, on its idle).
PLAYER_POLL_MS = 2_000


def player_line() -> list:
    """What MPD plays, or why it does not answer, under the page's own player."""
    return [
        html.Div(id=ids.MPD_LINE, className="small mt-1"),
        dcc.Interval(id=ids.MPD_POLL, interval=PLAYER_POLL_MS),
        # The segment MPD plays (ringed on the maps), and one clicked to play MPD from.
        dcc.Store(id=ids.MPD_NOW, data=None),
        dcc.Store(id=ids.MPD_SEEK, data=None),
    ]
