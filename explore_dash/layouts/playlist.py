"""The playlist card: the kept segments, their export and its options."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.layouts.player import save_button, send_buttons


def playlist_card(mpd: bool = False, subsonic: bool = False) -> dbc.Card:
    """The playlist's rows, Undo, export; with ``mpd``, the buttons that send it to MPD, with
    ``subsonic`` the one that saves it on the Subsonic server (under the name above)."""
    return dbc.Card(
        [
            dbc.CardHeader("Playlist"),
            dbc.CardBody(
                [
                    # Whose the playlist is and the states Undo brings back
                    # (explore_dash/callbacks/playlist.py: Edits).
                    dcc.Store(id=ids.PLAYLIST_EDITS, data={}),
                    _selection_offer(),
                    html.Div(
                        "Select segments with the box or lasso to fill the playlist.",
                        id=ids.PLAYLIST_LIST,
                        className="small",
                        style={"maxHeight": "30vh", "overflowY": "auto"},
                    ),
                    _undo_controls(),
                    # The name and Export on one line, the rarely changed options folded: the
                    # card sits under the maps, and the rows are what it is for.
                    html.Div(
                        [
                            dbc.Input(id=ids.PLAYLIST_NAME, value="explore-dash playlist",
                                      size="sm", className="me-1"),
                            dbc.Button("Export M3U8", id=ids.PLAYLIST_EXPORT, size="sm",
                                       className="text-nowrap"),
                        ],  # fmt: skip
                        className="d-flex mt-2",
                    ),
                    html.Details(
                        [
                            html.Summary("Export options", className="small text-muted"),
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
                                "Only for a playlist you keep at the music folder's root; "
                                "otherwise leave it off: absolute paths open wherever the file "
                                "is saved.",
                                className="form-text mt-0",
                            ),
                        ],
                        className="mt-1",
                    ),
                    *([html.Div(
                        [*(send_buttons(ids.PLAYLIST_TO_MPD, ids.PLAYLIST_ADD_TO_MPD,
                                        "the playlist") if mpd else ()),
                         *([save_button(ids.PLAYLIST_TO_SUBSONIC, "the playlist")]
                           if subsonic else [])],
                        className="mt-1")] if mpd or subsonic else []),  # fmt: skip
                    dcc.Download(id=ids.PLAYLIST_DOWNLOAD),
                    html.Div(id=ids.PLAYLIST_MESSAGE, className="small text-muted mt-1"),
                ]
            ),
        ]
    )


def _selection_offer() -> html.Div:
    """Shown when a new selection meets a playlist the user has made their own."""
    return html.Div(
        [
            html.Span(id=ids.PLAYLIST_OFFER_TEXT, className="me-1"),
            dbc.Button(
                "Add to playlist",
                id=ids.PLAYLIST_ADD,
                size="sm",
                color="primary",
                outline=True,
                className="py-0 me-1",
            ),
            dbc.Button(
                "Replace playlist",
                id=ids.PLAYLIST_REPLACE,
                size="sm",
                color="secondary",
                outline=True,
                className="py-0",
            ),
        ],  # fmt: skip
        id=ids.PLAYLIST_OFFER,
        hidden=True,
        className="small border rounded p-1 mb-1 bg-light",
    )


def _undo_controls() -> html.Div:
    """Undo and Redo of replacements and removals, and the kept states to go back to at once."""
    small = {"size": "sm", "color": "link", "className": "p-0 me-2", "disabled": True}
    return html.Div(
        [
            dbc.Button(
                "↶ Undo",
                id=ids.PLAYLIST_UNDO,
                title="Bring back the playlist before the last replacement or removal",
                **small,
            ),
            dbc.Button("↷ Redo", id=ids.PLAYLIST_REDO, title="Redo what Undo took back", **small),
            dbc.DropdownMenu(
                [],
                id=ids.PLAYLIST_KEPT,
                label="Earlier playlists",
                size="sm",
                color="link",
                disabled=True,
                toggle_class_name="p-0",
            ),
        ],  # fmt: skip
        className="d-flex align-items-center small mt-1",
    )
