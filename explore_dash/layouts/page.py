"""The whole page."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.data.progress import ExtractionView
from explore_dash.layouts.listening import flow_card, listen_card
from explore_dash.layouts.panel import panel_layout
from explore_dash.layouts.playlist import playlist_card
from explore_dash.layouts.sidebar import highlight_card, map_card, music_card, starting_colour
from explore_dash.maps.settings import DEFAULT_PANELS


def empty_state(library: str, data_dir: str, extracting: bool, visible: bool) -> dbc.Alert:
    """What a user sees before any track has been extracted (hidden once tracks arrive)."""
    if extracting:
        body = html.P(
            "Extracting your library: the map appears here as soon as the first tracks are "
            "analysed, and fills in while the rest are (progress on the left)."
        )
        title = "Building your map"
    else:
        body = html.P(
            [
                "No segment tables were found in ",
                html.Code(data_dir),
                ". Extract the library first: ",
                html.Code(f'python -m extraction --library "{library}"'),
                ", or start the app without --no-extract.",
            ]
        )
        title = "No extracted tracks yet"
    return dbc.Alert(
        [html.H5(title), body],
        id=ids.EMPTY_STATE,
        color="info",
        className="mb-2",
        style=None if visible else {"display": "none"},
    )


def library_summary(n_tracks: int, library: str) -> str:
    return f"{n_tracks} tracks · {library}"


#: Failures listed in the page (the tracks table keeps them all).
SHOWN_FAILURES = 50


def failure_list(view: ExtractionView) -> list:
    """The files that could not be analysed, folded under a one-line summary."""
    if not view.failures:
        return []
    shown = view.failures[-SHOWN_FAILURES:]
    items = [html.Li([html.Code(path), f": {reason}"]) for path, reason in shown]
    more = len(view.failures) - len(shown)
    files = "1 file" if len(view.failures) == 1 else f"{len(view.failures)} files"
    summary = f"{files} could not be analysed" + (
        f" (the last {len(shown)} listed)" if more > 0 else ""
    )
    return [html.Details([html.Summary(summary), html.Ul(items, className="mb-0 ps-3")])]


def extraction_props(view: ExtractionView) -> dict[tuple[str, str], object]:
    """The Library box's ``(component id, property)`` values for ``view``: drawn with the page
    and sent again by each library poll."""
    return {
        (ids.EXTRACTION_BOX, "style"): {"display": "block" if view.visible else "none"},
        (ids.EXTRACTION_BAR, "value"): round(view.percent, 1),
        # A note with no progress to measure (tracks missing, a run refused) has no bar.
        (ids.EXTRACTION_BAR, "style"): {} if view.measures else {"display": "none"},
        (ids.EXTRACTION_BAR, "animated"): view.running,
        (ids.EXTRACTION_BAR, "striped"): view.running,
        (ids.EXTRACTION_TEXT, "children"): view.text,
        (ids.EXTRACTION_FAILURES, "children"): failure_list(view),
    }


def extraction_box(view: ExtractionView | None = None) -> html.Div:
    """Extraction progress as of the page load (hidden when nothing runs); the library poll
    keeps it up to date. Drawn from the start, so the controls under it do not move down
    when the first poll answers."""
    props = extraction_props(view or ExtractionView())
    return html.Div(
        dbc.Card(
            [
                dbc.CardHeader("Library"),
                dbc.CardBody(
                    [
                        dbc.Progress(
                            id=ids.EXTRACTION_BAR,
                            value=props[ids.EXTRACTION_BAR, "value"],
                            animated=props[ids.EXTRACTION_BAR, "animated"],
                            striped=props[ids.EXTRACTION_BAR, "striped"],
                            style=props[ids.EXTRACTION_BAR, "style"],
                            className="mb-1",
                        ),
                        html.Div(
                            props[ids.EXTRACTION_TEXT, "children"],
                            id=ids.EXTRACTION_TEXT,
                            className="small",
                        ),
                        html.Div(
                            props[ids.EXTRACTION_FAILURES, "children"],
                            id=ids.EXTRACTION_FAILURES,
                            className="small",
                        ),
                    ]
                ),
            ],
            className="mb-2",
        ),
        id=ids.EXTRACTION_BOX,
        style=props[ids.EXTRACTION_BOX, "style"],
    )


#: The newcomer's hint over the maps.
HINT_TEXT = (
    "Point at a dot to hear it. Drag moves the map, scroll zooms; the box and lasso at a "
    "map's top right select."
)


def explore_hint() -> html.Div:
    """One short hint over the maps for a first visit: it goes once the page has played
    something or is closed, and stays gone on later visits (assets/explore-hint.js)."""
    return html.Div(
        [
            html.Span(HINT_TEXT),
            html.Button(
                className="btn-close btn-close-white ms-2", title="Close", **{"aria-label": "Close"}
            ),
        ],
        className="explore-hint small",
        role="note",
    )


def listening_row(artists: list[str], tracks: list[dict], tags: list[str], mpd: bool = False,
                  subsonic: bool = False) -> dbc.Row:  # fmt: skip
    """The player, the radio and paths, and the playlist, in one row under the maps: a radio's
    numbered chain on the maps can be watched while using them. From 1200 px wide the row has a
    fixed height that the maps leave room for (assets/style.css), so the whole of it is in view
    with both maps; narrower, the cards stack under the maps."""
    return dbc.Row(
        [
            dbc.Col(listen_card(mpd), md=6, xl=3),
            dbc.Col(flow_card(artists, tracks, tags, mpd, subsonic), md=6, xl=4),
            dbc.Col(playlist_card(mpd, subsonic), xl=5, className="listening-playlist"),
        ],
        className="g-2 listening-row",
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
    segments: int = 0,
    data_version: int = 0,
    extracting: bool = False,
    extraction: ExtractionView | None = None,
    poll_ms: int = 15_000,
    mpd: bool = False,
    subsonic: bool = False,
) -> dbc.Container:
    """Controls on the left; on the right two linked panels, and the listening row under them.

    The panels are there even before any track is extracted: a running extraction fills them
    in (the library poll bumps the data version, the panels redraw, keeping zoom and selection).
    """
    maps = [
        empty_state(library, data_dir, extracting, visible=empty),
        html.Div(
            [
                dbc.Row(
                    [
                        dbc.Col(panel_layout(i, options, settings), lg=6, className="mb-2")
                        for i, settings in enumerate(DEFAULT_PANELS)
                    ],
                    className="g-2",
                ),
                explore_hint(),
            ],
            className="maps-area",
        ),
        listening_row(artists, tracks, tags, mpd, subsonic),
    ]
    sidebar = [
        extraction_box(extraction),
        music_card(artists, tags, segments),
        map_card(starting_colour(artists)),
        highlight_card(artists, albums, tracks, tags),
    ]
    navbar = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("explore-dash", className="py-0"),
                html.Span(
                    [
                        # The whole collection's maps computed ahead (explore_dash/maps/ahead.py).
                        html.Span(id=ids.MAPS_AHEAD, className="text-secondary me-3"),
                        html.Span(library_summary(n_tracks, library), id=ids.LIBRARY_SUMMARY),
                    ],
                    className="text-light small",
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        # Slim: the height goes to the maps and the listening row under them.
        className="mb-2 py-1",
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
            dcc.Store(id=ids.PLAYLIST_STARTS, data={}),
            dcc.Store(id=ids.LAST_SEGMENT, data=None),
            dcc.Store(id=ids.CHAIN, data=None),
            dcc.Store(id=ids.CHAIN_MORE, data=None),
            dcc.Store(id=ids.TRACK_NAMES, data=track_names),
            dcc.Store(id=ids.DATA_VERSION, data=data_version),
            dcc.Interval(id=ids.LIBRARY_POLL, interval=poll_ms),
        ]
    )
