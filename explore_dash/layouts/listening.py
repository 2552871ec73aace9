"""The listening controls: how hovering plays, the player, and the radio and paths."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.layouts import glyphs
from explore_dash.layouts.player import player_line, save_button, send_buttons
from explore_dash.layouts.slots import multi_dropdown, slot
from explore_dash.listening.radio import DEFAULT_ARTIST_GAP, DEFAULT_PATH_STEPS, MAX_PATH_STEPS
from extraction.contract import SEGMENT_SECONDS


def listen_card(mpd: bool = False) -> dbc.Card:
    """How hovering plays, the page's player and what it plays; with ``mpd``, MPD's line."""
    return dbc.Card(
        [
            dbc.CardHeader("Listen"),
            dbc.CardBody(
                [
                    dbc.RadioItems(
                        id=ids.LISTEN_MODE,
                        options=[
                            {"label": "Hover", "value": LISTEN_HOVER},
                            {"label": "Click", "value": LISTEN_CLICK},
                            # Stops whatever plays (assets/explore-listening.js).
                            {"label": "Off", "value": LISTEN_OFF},
                        ],
                        value=LISTEN_HOVER,
                        inline=True,
                    ),
                    html.Audio(id=ids.PLAYER, controls=True, className="w-100 mt-1"),
                    html.Div(
                        [
                            html.Span(id=ids.NOW_PLAYING),
                            " ",
                            html.Span(id=ids.PLAY_POSITION, className="text-nowrap"),
                        ],
                        className="small text-muted",
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                f"{glyphs.PLAY} Keep playing from here",
                                id=ids.PIN_MOMENT,
                                **_SMALL_LINK,
                                title="Play the last hovered track on from that moment; "
                                "hovering no longer changes it until Stop",
                            ),
                            dbc.Button(
                                f"{glyphs.FROM_START} Whole track",
                                id=ids.PIN_START,
                                **_SMALL_LINK,
                                title="Play the last hovered track from its start",
                            ),
                            # Said when one of the two is clicked with nothing hovered yet.
                            html.Div(
                                id=ids.PIN_HINT,
                                className="small text-muted",
                            ),
                        ],
                    ),
                    *(player_line() if mpd else ()),
                ]
            ),
        ],
        className="mb-2",
    )


_SMALL_LINK = {"size": "sm", "color": "link", "className": "p-0 me-2"}
#: The Listen choices: a hovered point plays, a clicked one plays, or nothing plays (and what
#: plays stops when Off is chosen).
LISTEN_HOVER = "hover"
LISTEN_CLICK = "click"
LISTEN_OFF = "off"
#: The answer of the two buttons under the player when no point was hovered or clicked yet.
PIN_HINT_TEXT = "Nothing hovered yet: hover or click a point on a map, then these play its track."
PAUSE_LABEL = f"{glyphs.PAUSE} Pause"
RESUME_LABEL = f"{glyphs.PLAY} Resume"


def _path_end(dropdown_id: str, from_map_id: str, tracks: list, placeholder: str) -> html.Div:
    """A searchable track dropdown, and a button that takes the track last hovered on a map."""
    return html.Div(
        [
            html.Div(
                slot(dcc.Dropdown(id=dropdown_id, options=tracks, placeholder=placeholder),
                     "dropdown"),
                className="flex-grow-1",
                style={"minWidth": 0},
            ),  # fmt: skip
            dbc.Button(
                "◎ map",
                id=from_map_id,
                size="sm",
                color="link",
                className="p-0 ms-1 text-nowrap",
                title="Take the track of the segment last hovered or clicked on a map",
            ),
        ],
        className="d-flex align-items-center",
    )


#: How long each radio or path item plays before the next starts by itself.
ITEM_LENGTHS = (
    {"label": "Segment", "value": "segment"},
    {"label": "15 s", "value": "15"},
    {"label": "Whole track", "value": "track"},
)
DEFAULT_ITEM_LENGTH = "15"
#: Seconds each item length plays; None: to the end of the track.
ITEM_SECONDS = {"segment": SEGMENT_SECONDS, "15": 15.0, "track": None}


def flow_card(artists: list[str], tracks: list[dict], tags: list[str], mpd: bool = False,
              subsonic: bool = False) -> dbc.Card:  # fmt: skip
    """Radio from a moment, a path between two tracks, and the chain they play; with ``mpd``,
    the buttons that send the chain to MPD, with ``subsonic`` the one that saves it there."""
    return dbc.Card(
        [
            dbc.CardHeader("Radio and paths"),
            dbc.CardBody(
                [
                    dbc.Button(
                        "Radio",
                        id=ids.RADIO_START,
                        size="sm",
                        color="primary",
                        title="A chain of moments from the last hovered or clicked segment (or "
                        "the selection), each the nearest one from a new track",
                    ),
                    html.Span(" each item plays ", className="small ms-1"),
                    dbc.RadioItems(
                        id=ids.ITEM_LENGTH,
                        options=list(ITEM_LENGTHS),
                        value=DEFAULT_ITEM_LENGTH,
                        inline=True,
                        className="small",
                    ),
                    html.Hr(className="my-2"),
                    _path_end(ids.PATH_START, ids.PATH_START_FROM_MAP, tracks, "Path from…"),
                    html.Div(className="mb-1"),
                    _path_end(ids.PATH_END, ids.PATH_END_FROM_MAP, tracks, "…to"),
                    html.Div(
                        [
                            dbc.Input(
                                id=ids.PATH_STEPS,
                                type="number",
                                min=2,
                                max=MAX_PATH_STEPS,
                                step=1,
                                value=DEFAULT_PATH_STEPS,
                                size="sm",
                                style={"width": "4.5rem"},
                            ),
                            html.Span(
                                "steps, in the", className="small mx-1",
                                title="Steps, start and end included",
                            ),  # fmt: skip
                            dbc.Select(
                                id=ids.PATH_SPACE,
                                options=[
                                    {"label": "left map's space", "value": "0"},
                                    {"label": "right map's space", "value": "1"},
                                ],
                                value="0",
                                size="sm",
                                style={"width": "auto"},
                            ),
                            dbc.Button("Path", id=ids.PATH_BUTTON, size="sm", className="ms-1"),
                        ],
                        # Wraps where the card is narrow (1200-1500 px screens): the Path
                        # button went past the card's edge.
                        className="d-flex flex-wrap align-items-center row-gap-1 mt-1",
                    ),
                    html.Details(
                        [
                            html.Summary("Variety", className="small"),
                            html.Div(
                                "Preferences: when no track left fits them, the radio relaxes "
                                "them and says so rather than stop. Tracks left out are never "
                                "played.",
                                className="small text-muted",
                            ),
                            html.Div(
                                [
                                    html.Span("No same artist within", className="small me-1"),
                                    dbc.Input(
                                        id=ids.ARTIST_GAP,
                                        type="number",
                                        min=0,
                                        max=50,
                                        step=1,
                                        value=DEFAULT_ARTIST_GAP,
                                        size="sm",
                                        style={"width": "4rem"},
                                    ),
                                    html.Span("tracks", className="small ms-1"),
                                ],
                                className="d-flex align-items-center mt-1",
                            ),
                            dbc.Checkbox(
                                id=ids.DISTINCT_ALBUMS,
                                label="No album twice",
                                value=True,
                                className="small",
                            ),
                            multi_dropdown(ids.EXCLUDE_ARTISTS, artists, "Leave out artists"),
                            html.Div(className="mb-1"),
                            multi_dropdown(ids.EXCLUDE_TAGS, tags, "Leave out tags"),
                        ],
                        className="mt-2",
                    ),
                    html.Div(
                        [
                            dbc.Button(f"{glyphs.SKIP} Skip", id=ids.FLOW_SKIP, **_SMALL_LINK),
                            # Reads "Resume" while paused (assets/explore-flow.js).
                            html.Button(PAUSE_LABEL, id=ids.FLOW_PAUSE,
                                        className="btn btn-link btn-sm p-0 me-2"),  # fmt: skip
                            dbc.Button(f"{glyphs.STOP} Stop", id=ids.FLOW_STOP, **_SMALL_LINK),
                            dbc.Button(
                                "→ Playlist", id=ids.CHAIN_TO_PLAYLIST, **_SMALL_LINK,
                                title="Make the chain the playlist",
                            ),  # fmt: skip
                            *(send_buttons(ids.CHAIN_TO_MPD, ids.CHAIN_ADD_TO_MPD,
                                           "the radio or path, each moment's part") if mpd
                              else ()),  # fmt: skip
                            *([save_button(ids.CHAIN_TO_SUBSONIC, "the radio or path")]
                              if subsonic else []),  # fmt: skip
                        ],
                        className="mt-2",
                    ),
                    # What plays and how a chain ended, calmly; below, what failed, in red.
                    html.Div(id=ids.FLOW_STATUS, className="small"),
                    html.Div(id=ids.FLOW_MESSAGE, className="small text-danger"),
                    html.Ol(
                        id=ids.CHAIN_LIST,
                        className="small ps-3 mb-0",
                        style={"maxHeight": "25vh", "overflowY": "auto"},
                    ),
                ]
            ),
        ],
        className="mb-2",
    )
