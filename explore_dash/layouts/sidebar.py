"""The controls column: which music, how the maps are drawn, what is highlighted."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.data.colouring import COLOUR_BY, NONE
from explore_dash.data.windows import SEGMENT_LENGTHS
from explore_dash.layouts import glyphs
from explore_dash.layouts.slots import multi_dropdown, slot

#: The thinning slider's largest step: keep every 30th segment of each track.
REDUCTION_MAX = 30
#: Points a map starts with at most: the slider's default rises with the collection.
POINTS_PER_PANEL = 200_000

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
                    multi_dropdown(ids.ARTISTS, artists, "All artists"),
                    html.Div(className="mb-2"),
                    multi_dropdown(ids.TAGS, tags, "All tags"),
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
                    html.Div(
                        [
                            slot(
                                dcc.Slider(
                                    id=ids.REDUCTION,
                                    min=1,
                                    max=REDUCTION_MAX,
                                    step=1,
                                    value=default_every_n(segments),
                                    marks={1: "1", 5: "5", 10: "10", 20: "20", 30: "30"},
                                    tooltip={"placement": "bottom"},
                                    # Dash 4's own number box applies a typed value on blur
                                    # only; this one (debounce) applies it on Enter too.
                                    allow_direct_input=False,
                                ),
                                "slider",
                            ),
                            dcc.Input(
                                id=ids.REDUCTION_BOX,
                                type="number",
                                min=1,
                                max=REDUCTION_MAX,
                                step=1,
                                value=default_every_n(segments),
                                debounce=True,
                                className="reduction-box ms-2",
                            ),
                        ],
                        className="d-flex align-items-center",
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


#: Artists a collection needs for the maps to start coloured by artist (else by auto-tag).
ARTISTS_TO_COLOUR_BY = 2


def starting_colour(artists: list[str]) -> str:
    """What "Colour by" starts at: artist when at least two artists are tagged, else the
    strongest auto-tag (every analysed segment has one), so that a first look at the maps
    shows how the collection spreads over them rather than grey dots."""
    return "artist" if len(artists) >= ARTISTS_TO_COLOUR_BY else "autotag"


def map_card(colour_by: str = NONE) -> dbc.Card:
    """How the maps are drawn: colour (starting at ``colour_by``)."""
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
                                value=colour_by,
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
                    multi_dropdown(ids.HIGHLIGHT_ARTISTS, artists, "Artists"),
                    html.Div(className="mb-1"),
                    multi_dropdown(ids.HIGHLIGHT_ALBUMS, albums, "Albums"),
                    html.Div(className="mb-1"),
                    multi_dropdown(ids.HIGHLIGHT_TRACKS, tracks, "Tracks"),
                    html.Div(className="mb-1"),
                    multi_dropdown(ids.HIGHLIGHT_TAGS, tags, "Tags"),
                ]
            ),
        ],
        className="mb-2",
    )
