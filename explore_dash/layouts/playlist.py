"""The playlist card: the kept segments, their export and its options."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids


def playlist_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Playlist"),
            dbc.CardBody(
                [
                    html.Div(
                        "Select segments with the box or lasso to fill the playlist.",
                        id=ids.PLAYLIST_LIST,
                        className="small",
                        style={"maxHeight": "30vh", "overflowY": "auto"},
                    ),
                    dbc.Input(
                        id=ids.PLAYLIST_NAME,
                        value="explore-dash playlist",
                        size="sm",
                        className="mt-2",
                    ),
                    dbc.Checkbox(
                        id=ids.PLAYLIST_KEEP_MOMENTS,
                        label="Start at the radio's or path's moments (VLC)",
                        value=False,
                        className="small mt-1",
                    ),
                    dbc.Checkbox(
                        id=ids.PLAYLIST_RELATIVE,
                        label="Paths relative to the music folder",
                        value=False,
                        className="small mt-1",
                    ),
                    html.Div(
                        "Only for a playlist you keep at the music folder's root; otherwise "
                        "leave it off: absolute paths open wherever the file is saved.",
                        className="form-text mt-0",
                    ),
                    dbc.Button("Export M3U8", id=ids.PLAYLIST_EXPORT, size="sm", className="mt-1"),
                    dcc.Download(id=ids.PLAYLIST_DOWNLOAD),
                    html.Div(id=ids.PLAYLIST_MESSAGE, className="small text-muted mt-1"),
                ]
            ),
        ]
    )
