"""The controls column: music selection, highlight, listening, playlist."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.layouts.slots import slot

#: The thinning slider's largest step: keep every 30th segment of each track.
REDUCTION_MAX = 30

def _multi(component_id: str, options: list, placeholder: str) -> html.Div:
    dropdown = dcc.Dropdown(
        id=component_id, options=options, value=[], multi=True, placeholder=placeholder
    )
    return slot(dropdown, "dropdown")


def music_card(artists: list[str], tags: list[str]) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Music"),
            dbc.CardBody(
                [
                    _multi(ids.ARTISTS, artists, "All artists"),
                    html.Div(className="mb-2"),
                    _multi(ids.TAGS, tags, "All tags"),
                    dbc.Label("Segments per track: keep every n-th", className="small mt-2 mb-0"),
                    slot(
                        dcc.Slider(
                            id=ids.REDUCTION,
                            min=1,
                            max=REDUCTION_MAX,
                            step=1,
                            value=1,
                            marks={1: "1", 5: "5", 10: "10", 20: "20", 30: "30"},
                            tooltip={"placement": "bottom"},
                        ),
                        "slider",
                    ),
                ]
            ),
        ],
        className="mb-2",
    )


def highlight_card(
    artists: list[str], albums: list[str], tracks: list[dict], tags: list[str]
) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Highlight"),
            dbc.CardBody(
                [
                    _multi(ids.HIGHLIGHT_ARTISTS, artists, "Artists"),
                    html.Div(className="mb-1"),
                    _multi(ids.HIGHLIGHT_ALBUMS, albums, "Albums"),
                    html.Div(className="mb-1"),
                    _multi(ids.HIGHLIGHT_TRACKS, tracks, "Tracks"),
                    html.Div(className="mb-1"),
                    _multi(ids.HIGHLIGHT_TAGS, tags, "Tags"),
                ]
            ),
        ],
        className="mb-2",
    )


def listen_card() -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Listen"),
            dbc.CardBody(
                [
                    dbc.RadioItems(
                        id=ids.LISTEN_MODE,
                        options=[
                            {"label": "Hover", "value": "hover"},
                            {"label": "Click", "value": "click"},
                            {"label": "Off", "value": "off"},
                        ],
                        value="hover",
                        inline=True,
                    ),
                    html.Audio(id=ids.PLAYER, controls=True, className="w-100 mt-1"),
                    html.Div(id=ids.NOW_PLAYING, className="small text-muted"),
                ]
            ),
        ],
        className="mb-2",
    )


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
