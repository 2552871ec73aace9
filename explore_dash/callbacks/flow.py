"""Radio and paths in the page: chains of moments made on the server, played by the browser.

A chain (:class:`.stores.Chain`) is held in the ``CHAIN`` store and played by
``assets/explore-flow.js``. ``ended`` says a radio has played every track it may (all but those
left out). The notes (sent to the page, never read back) say, calmly, what the chain did that
was not asked: an item's, the variety rules relaxed to reach it; the chain's, a path with fewer
steps than asked. The page shows them in its status line while they apply. The functions here
take the snapshot and checked inputs and return chains and messages; they never raise for bad
input: every refusal is a message in the page (shown as an error, so a normal end is not one).
:func:`register` wires them to the page.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.clientside import browser
from explore_dash.callbacks.groups import DIVERSITY, SPACE_MENUS, controls, panel_menus
from explore_dash.callbacks.stores import Chain, ChainItem, LastSegment, Selection
from explore_dash.data.options import ARCHITECTURES, DATASETS, LAYER_LABELS, model_name
from explore_dash.data.snapshot import Snapshot, track_names
from explore_dash.data.state import AppState
from explore_dash.data.tables import DataError
from explore_dash.formatting import format_time
from explore_dash.layouts import glyphs
from explore_dash.listening.radio import (
    MAX_PATH_STEPS,
    PATH,
    RADIO,
    Diversity,
    Moment,
    RadioError,
    diversity_from,
    path,
    radio,
)
from extraction.contract import segment_track


def _title(names: dict[int, str], moment: Moment) -> str:
    return f"{names.get(moment.track, f'track {moment.track}')} @ {format_time(moment.offset)}"


def variety_note(moment: Moment) -> str:
    """What the variety rules gave up to reach ``moment`` ("" when it fits them all)."""
    if not moment.relaxed:
        return ""
    return f"Few tracks left fit the variety rules, so this one allows {moment.relaxed}."


def _items(snapshot: Snapshot, moments: list[Moment]) -> tuple[ChainItem, ...]:
    names = track_names(snapshot.tracks)
    return tuple(ChainItem(m.segment, m.track, round(m.offset, 3), _title(names, m),
                           variety_note(m)) for m in moments)  # fmt: skip


def _new_chain(kind: str, panel: int, model: str, layer: str, items: tuple[ChainItem, ...],
               ended: bool, note: str = "") -> Chain:  # fmt: skip
    """A chain with a fresh id."""
    return Chain(uuid.uuid4().hex, kind, panel, model, layer, items, ended, note)


def central_segment(snapshot: Snapshot, model: str, layer: str,
                    segment_ids: list[int]) -> int | None:  # fmt: skip
    """The selected segment nearest the selection's mean vector (None if none is in the space)."""
    index = snapshot.index(model, layer)
    rows = np.array([r for r in (index.row_of(s) for s in segment_ids) if r >= 0], np.int64)
    if not len(rows):
        return None
    vectors = np.asarray(index.vectors[rows], np.float32)
    distances = ((vectors - vectors.mean(axis=0)) ** 2).sum(axis=1)
    return int(index.segment_ids[rows[int(np.argmin(distances))]])


def start_radio(
    snapshot: Snapshot,
    last: LastSegment | None,
    selection: Selection | None,
    spaces: list[tuple[str, str]],
    diversity: Diversity,
) -> tuple[Chain | object, str]:
    """(chain, message) of the Radio button.

    The seed: the current selection's most central segment when there is a selection, else the
    last hovered or clicked segment. ``spaces`` is each panel's (model, layer); the chain runs
    in the space of the seed's panel.
    """
    selected = selection.segment_ids if selection is not None else []
    if selected:
        panel = selection.source
    elif last is not None:
        panel = last.panel
    else:
        return no_update, "Hover or click a segment (or select some) first: the radio starts there."
    model, layer = spaces[panel if 0 <= panel < len(spaces) else 0]
    try:
        if selected:
            seed = central_segment(snapshot, model, layer, selected)
            if seed is None:
                raise RadioError("The selection is no longer in the library: select again.")
        else:
            seed = last.segment
        index = snapshot.index(model, layer)
        moments = radio(index, snapshot.tracks, snapshot.tags_by_track, [seed], diversity)
    except (RadioError, DataError) as error:
        return no_update, str(error)
    row = index.row_of(seed)
    first = Moment(seed, int(index.track[row]), float(index.offset[row]))
    chain = _new_chain(RADIO, panel, model, layer, _items(snapshot, [first, *moments]), False)
    return chain, ""


def more_radio(
    snapshot: Snapshot, chain: Chain | None, diversity: Diversity
) -> tuple[Chain | object, object]:
    """(chain, message): the radio ``chain`` with its next moments (``ended`` when none).

    The end is no error: its message is empty, and the page's status line says it.
    """
    if chain is None or chain.kind != RADIO or chain.ended:
        return no_update, no_update
    try:
        index = snapshot.index(chain.model, chain.layer)
        played = [item.segment for item in chain.items]
        moments = radio(index, snapshot.tracks, snapshot.tags_by_track, played, diversity)
    except (RadioError, DataError, KeyError, TypeError, ValueError) as error:
        return replace(chain, ended=True), str(error)
    if not moments:
        return replace(chain, ended=True, note=""), ""
    return replace(chain, items=chain.items + _items(snapshot, moments), note=""), ""


def track_from_map(snapshot: Snapshot, last: LastSegment | None) -> tuple[object, str]:
    """(track id, message) for a path end taken from the last hovered or clicked segment."""
    if last is None:
        return no_update, "Hover or click a segment on a map first: its track is taken."
    track = int(segment_track(last.segment))
    if track not in snapshot.tracks.index:
        return no_update, "That segment's track is no longer in the library: hover another."
    return track, ""


def start_path(
    snapshot: Snapshot,
    start: int | None,
    end: int | None,
    steps: int,
    panel: int,
    spaces: list[tuple[str, str]],
    diversity: Diversity,
) -> tuple[Chain | object, str]:
    """(chain, message) of the Path button; more ``steps`` than tracks allowed take fewer."""
    if start is None or end is None:
        return no_update, "Pick a start and an end track for the path."
    model, layer = spaces[panel]
    try:
        index = snapshot.index(model, layer)
        moments = path(index, snapshot.tracks, snapshot.tags_by_track, start, end, steps, diversity)
    except (RadioError, DataError) as error:
        return no_update, str(error)
    note = (
        f"Only {len(moments)} tracks can be on this path with these settings: it has "
        f"{len(moments)} steps." if len(moments) < steps else ""
    )  # fmt: skip
    chain = _new_chain(PATH, panel, model, layer, _items(snapshot, moments), True, note)
    return chain, ""


def chain_list(chain: Chain | None) -> list:
    """The chain's numbered rows, each playing from the moment or the whole track."""
    if chain is None:
        return []
    rows = []
    for item in chain.items:
        segment, track = item.segment, item.track
        rows.append(
            html.Li(
                [
                    html.Span(item.title, className="me-1"),
                    html.Button(
                        glyphs.PLAY,
                        id={"type": ids.PLAY_MOMENT, "segment": segment},
                        className="btn btn-link btn-sm p-0 me-1",
                        title="Play the track on from this moment",
                    ),
                    html.Button(
                        glyphs.FROM_START,
                        id={"type": ids.PLAY_TRACK, "track": track},
                        className="btn btn-link btn-sm p-0",
                        title="Play the whole track from its start",
                    ),
                ],
                className="chain-item",
                **{"data-segment": str(segment)},
            )
        )
    return rows


def chain_playlist(chain: Chain | None) -> tuple[list[int], dict[str, float]]:
    """The chain's tracks in order (each once) and the moment each starts at."""
    starts: dict[str, float] = {}  # insertion-ordered: the first moment of each track
    for item in chain.items if chain is not None else ():
        # A dict lookup, not a search of the list so far (quadratic: 12 s at 60,000 items).
        starts.setdefault(str(item.track), float(item.offset))
    return [int(track) for track in starts], starts


def diversity_values(bounds: inputs.PageBounds, artist_gap, albums, artists, tags) -> Diversity:
    """The variety rules of the Radio card, checked."""
    return diversity_from(
        inputs.whole(artist_gap, 0, 50, default=0),
        inputs.flag(albums),
        inputs.texts(artists, bounds.choices),
        inputs.texts(tags, bounds.choices),
    )


def panel_spaces(architecture, dataset, layer) -> list[tuple[str, str]]:
    """Each panel's (model, layer), from the ALL-panel lists of its menus."""
    columns = [inputs.each(values, lambda v: v) for values in (architecture, dataset, layer)]
    return [
        (
            model_name(inputs.choice(a, ARCHITECTURES), inputs.choice(d, DATASETS)),
            inputs.choice(chosen_layer, LAYER_LABELS),
        )
        for a, d, chosen_layer in zip(*columns, strict=True)
    ]


def _sent(chain: Chain | object) -> object:
    """A chain as the ``CHAIN`` store holds it (no update stays no update)."""
    return chain.as_store() if isinstance(chain, Chain) else chain


def register(app: Dash, state: AppState) -> None:
    """The Radio and Path buttons, the chain's list, and its playing in the browser."""
    chain_outputs = [Output(ids.CHAIN, "data", allow_duplicate=True),
                     Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True)]  # fmt: skip

    @app.callback(
        output=[Output(ids.CHAIN, "data"), Output(ids.FLOW_MESSAGE, "children")],
        inputs=dict(_clicks=Input(ids.RADIO_START, "n_clicks")),
        state=dict(
            last=State(ids.LAST_SEGMENT, "data"),
            selection=State(ids.SELECTION, "data"),
            spaces=panel_menus(ALL, State, SPACE_MENUS),
            diversity=controls(DIVERSITY, State),
        ),
        prevent_initial_call=True,
    )
    def start_radio_here(_clicks, last, selection, spaces, diversity):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        chain, message = start_radio(
            snapshot, inputs.last_segment(last), inputs.picked(selection, bounds),
            panel_spaces(**spaces), diversity_values(bounds, **diversity),
        )  # fmt: skip
        return _sent(chain), message

    @app.callback(
        output=chain_outputs,
        inputs=dict(_asked=Input(ids.CHAIN_MORE, "data")),
        state=dict(chain=State(ids.CHAIN, "data"), diversity=controls(DIVERSITY, State)),
        prevent_initial_call=True,
    )
    def radio_goes_on(_asked, chain, diversity):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        more, message = more_radio(snapshot, inputs.chain(chain, bounds),
                                   diversity_values(bounds, **diversity))  # fmt: skip
        return _sent(more), message

    @app.callback(
        output=chain_outputs,
        inputs=dict(_clicks=Input(ids.PATH_BUTTON, "n_clicks")),
        state=dict(
            start=State(ids.PATH_START, "value"),
            end=State(ids.PATH_END, "value"),
            steps=State(ids.PATH_STEPS, "value"),
            space=State(ids.PATH_SPACE, "value"),
            spaces=panel_menus(ALL, State, SPACE_MENUS),
            diversity=controls(DIVERSITY, State),
        ),
        prevent_initial_call=True,
    )
    def start_path_here(_clicks, start, end, steps, space, spaces, diversity):
        if steps is None or not isinstance(steps, int | float) or not 2 <= steps <= MAX_PATH_STEPS:
            return no_update, f"A path has 2 to {MAX_PATH_STEPS} steps."
        snapshot = state.snapshot
        chain, message = start_path(
            snapshot,
            None if start is None else inputs.whole(start, 0, inputs.MAX_ID),
            None if end is None else inputs.whole(end, 0, inputs.MAX_ID),
            int(steps),
            int(inputs.choice(space, [str(panel) for panel in ids.PANELS])),
            panel_spaces(**spaces),
            diversity_values(inputs.page_bounds(snapshot), **diversity),
        )
        return _sent(chain), message

    @app.callback(
        Output(ids.PATH_START, "value"),
        Output(ids.PATH_END, "value"),
        Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True),
        Input(ids.PATH_START_FROM_MAP, "n_clicks"),
        Input(ids.PATH_END_FROM_MAP, "n_clicks"),
        State(ids.LAST_SEGMENT, "data"),
        prevent_initial_call=True,
    )
    def path_end_from_map(_start_clicks, _end_clicks, last):
        track, message = track_from_map(state.snapshot, inputs.last_segment(last))
        if ctx.triggered_id == ids.PATH_START_FROM_MAP:
            return track, no_update, message
        return no_update, track, message

    @app.callback(Output(ids.CHAIN_LIST, "children"), Input(ids.CHAIN, "data"))
    def show_chain(chain):
        return chain_list(inputs.chain(chain, inputs.page_bounds(state.snapshot)))

    register_playing(app)


def register_playing(app: Dash) -> None:
    """The chain and the pinned moments played in the browser (assets/explore-flow.js)."""
    app.clientside_callback(
        browser("playChain"),
        Output(ids.FLOW_STATUS, "children"),
        Input(ids.CHAIN, "data"),
        State(ids.ITEM_LENGTH, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("itemLength"),
        Input(ids.ITEM_LENGTH, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("controlFlow"),
        Output(ids.FLOW_STATUS, "children", allow_duplicate=True),
        Input(ids.FLOW_SKIP, "n_clicks"),
        Input(ids.FLOW_PAUSE, "n_clicks"),
        Input(ids.FLOW_STOP, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        browser("playWhole"),
        Output(ids.FLOW_STATUS, "children", allow_duplicate=True),
        Input({"type": ids.PLAY_MOMENT, "segment": ALL}, "n_clicks"),
        Input({"type": ids.PLAY_TRACK, "track": ALL}, "n_clicks"),
        Input({"type": ids.PLAYLIST_PLAY, "track": ALL}, "n_clicks"),
        Input(ids.PIN_MOMENT, "n_clicks"),
        Input(ids.PIN_START, "n_clicks"),
        State(ids.LAST_SEGMENT, "data"),
        State(ids.TRACK_NAMES, "data"),
        prevent_initial_call=True,
    )
