"""The controls column: music selection, highlight, listening, playlist."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.colouring import COLOUR_BY, NONE
from explore_dash.layouts import glyphs
from explore_dash.layouts.slots import slot
from explore_dash.radio import DEFAULT_ARTIST_GAP, DEFAULT_PATH_STEPS, MAX_PATH_STEPS
from explore_dash.windows import SEGMENT_LENGTHS
from extraction.contract import SEGMENT_SECONDS

#: The thinning slider's largest step: keep every 30th segment of each track.
REDUCTION_MAX = 30
#: Points a map starts with at most: the slider's default rises with the collection.
POINTS_PER_PANEL = 200_000

def _multi(component_id: str, options: list, placeholder: str) -> html.Div:
    dropdown = dcc.Dropdown(
        id=component_id, options=options, value=[], multi=True, placeholder=placeholder
    )
    return slot(dropdown, "dropdown")


def default_every_n(segments: int) -> int:
    """The thinning slider's start: every n-th segment, so a map starts with at most
    :data:`POINTS_PER_PANEL` points (as many as the slider allows)."""
    return int(min(REDUCTION_MAX, max(1, -(-segments // POINTS_PER_PANEL))))


def thinning_note(segments: int, every_n: int) -> str:
    """What the page says under the slider when it starts above 1."""
    if every_n <= 1:
        return ""
    return (f"{segments:,} segments: 1 in {every_n} shown to start with (at most about "
            f"{POINTS_PER_PANEL:,} a map); move the slider to 1 for all of them")  # fmt: skip


def music_card(artists: list[str], tags: list[str], segments: int = 0) -> dbc.Card:
    return dbc.Card(
        [
            dbc.CardHeader("Music"),
            dbc.CardBody(
                [
                    _multi(ids.ARTISTS, artists, "All artists"),
                    html.Div(className="mb-2"),
                    _multi(ids.TAGS, tags, "All tags"),
                    html.Div(
                        [
                            dbc.Label("Each point is", html_for=ids.SEGMENT_LENGTH,
                                      className="small mb-0 me-2 text-nowrap"),
                            dbc.Select(
                                id=ids.SEGMENT_LENGTH,
                                options=[{"label": label, "value": value}
                                         for value, label in SEGMENT_LENGTHS.items()],
                                value="1",
                                size="sm",
                            ),
                        ],  # fmt: skip
                        className="d-flex align-items-center mt-2",
                        title="Consecutive 3-s segments averaged into one point; hover plays "
                        "the whole window",
                    ),
                    dbc.Label("Segments per track: keep every n-th", className="small mt-2 mb-0"),
                    slot(
                        dcc.Slider(
                            id=ids.REDUCTION,
                            min=1,
                            max=REDUCTION_MAX,
                            step=1,
                            value=default_every_n(segments),
                            marks={1: "1", 5: "5", 10: "10", 20: "20", 30: "30"},
                            tooltip={"placement": "bottom"},
                        ),
                        "slider",
                    ),
                    html.Div(
                        thinning_note(segments, default_every_n(segments)),
                        className="form-text mt-0",
                    ),
                ]
            ),
        ],
        className="mb-2",
    )


def map_card() -> dbc.Card:
    """How the maps are drawn: colour."""
    return dbc.Card(
        [
            dbc.CardHeader("Map"),
            dbc.CardBody(
                [
                    html.Div(
                        [
                            dbc.Label("Colour by", html_for=ids.COLOUR_BY,
                                      className="small mb-0 me-2 text-nowrap"),
                            dbc.Select(
                                id=ids.COLOUR_BY,
                                options=[{"label": label, "value": value}
                                         for value, label in COLOUR_BY.items()],
                                value=NONE,
                                size="sm",
                            ),
                        ],  # fmt: skip
                        className="d-flex align-items-center",
                    ),
                    dbc.Checkbox(
                        id=ids.CAPTIONS,
                        label="Captions: the tags that stand out in each region",
                        value=False,
                        className="small mt-1",
                    ),
                    dbc.Checkbox(
                        id=ids.TRAJECTORIES,
                        label=f"Trajectories of highlighted tracks ({glyphs.PLAY} start, "
                        f"{glyphs.STOP} end)",
                        value=False,
                        className="small mt-1",
                    ),
                    dbc.Input(
                        id=ids.SEARCH,
                        type="search",
                        placeholder="Find an artist, album or title…",
                        debounce=0.4,
                        size="sm",
                        className="mt-2",
                    ),
                    html.Div(id=ids.SEARCH_MESSAGE, className="small text-muted"),
                    dcc.Store(id=ids.FLY_TO),
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
                        ],
                    ),
                ]
            ),
        ],
        className="mb-2",
    )


_SMALL_LINK = {"size": "sm", "color": "link", "className": "p-0 me-2"}

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


def flow_card(artists: list[str], tracks: list[dict], tags: list[str]) -> dbc.Card:
    """Radio from a moment, a path between two tracks, and the chain they play."""
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
                        className="d-flex align-items-center mt-1",
                    ),
                    html.Details(
                        [
                            html.Summary("Variety", className="small"),
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
                            _multi(ids.EXCLUDE_ARTISTS, artists, "Leave out artists"),
                            html.Div(className="mb-1"),
                            _multi(ids.EXCLUDE_TAGS, tags, "Leave out tags"),
                        ],
                        className="mt-2",
                    ),
                    html.Div(
                        [
                            dbc.Button(f"{glyphs.SKIP} Skip", id=ids.FLOW_SKIP, **_SMALL_LINK),
                            dbc.Button(f"{glyphs.PAUSE} Pause", id=ids.FLOW_PAUSE, **_SMALL_LINK),
                            dbc.Button(f"{glyphs.STOP} Stop", id=ids.FLOW_STOP, **_SMALL_LINK),
                            dbc.Button(
                                "→ Playlist", id=ids.CHAIN_TO_PLAYLIST, **_SMALL_LINK,
                                title="Make the chain the playlist",
                            ),  # fmt: skip
                        ],
                        className="mt-2",
                    ),
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
