"""The whole page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.layouts.panel import DEFAULT_PANELS, panel_layout
from explore_dash.layouts.sidebar import highlight_card, listen_card, music_card, playlist_card


def empty_state(library: str, data_dir: str) -> dbc.Alert:
    """What a user sees before any track has been extracted."""
    return dbc.Alert(
        [
            html.H5("No extracted tracks yet"),
            html.P(
                [
                    "No segment tables were found in ",
                    html.Code(data_dir),
                    ". Extract the library first: ",
                    html.Code(f'python -m extraction --library "{library}"'),
                    ", or start the app without --no-extract.",
                ]
            ),
        ],
        id=ids.EMPTY_STATE,
        color="info",
        className="m-3",
    )


def page_layout(
    *,
    options: dict[str, list[dict]],
    artists: list[str],
    albums: list[str],
    tracks: list[dict],
    tags: list[str],
    track_names: dict[str, str],
    empty: bool,
    library: str,
    data_dir: str,
    n_tracks: int,
) -> dbc.Container:
    """Controls on the left, two linked panels on the right."""
    if empty:
        maps = empty_state(library, data_dir)
    else:
        maps = dbc.Row(
            [
                dbc.Col(panel_layout(i, options, settings), lg=6, className="mb-2")
                for i, settings in enumerate(DEFAULT_PANELS)
            ],
            className="g-2",
        )
    sidebar = [
        music_card(artists, tags),
        highlight_card(artists, albums, tracks, tags),
        listen_card(),
        playlist_card(),
    ]
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("explore-dash"),
                html.Span(f"{n_tracks} tracks · {library}", className="text-light small"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-2",
    )
    return html.Div(
        [
            navbar,
            dbc.Container(
                [
                    dbc.Alert(
                        id=ids.ERROR_MESSAGE, color="danger", is_open=False, dismissable=True
                    ),
                    dbc.Row([dbc.Col(sidebar, lg=3), dbc.Col(maps, lg=9)], className="g-2"),
                ],
                fluid=True,
            ),
            dcc.Store(id=ids.SELECTION, data={}),
            dcc.Store(id=ids.PLAYLIST, data=[]),
            dcc.Store(id=ids.TRACK_NAMES, data=track_names),
            html.Div(id=ids.PLAYER_CUE, style={"display": "none"}),
        ]
    )
