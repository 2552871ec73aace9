"""The playlist, a radio or a path sent to the user's player (MPD), from the page's buttons.

Registered only when the app was started with ``--mpd`` (the buttons exist only then:
explore_dash/layouts/player.py). Radio and path items keep their moments: each plays from its
moment for the Radio card's item length, as it does in the page.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import pandas as pd
from dash import ALL, Dash, Input, Output, State, ctx, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.clientside import browser
from explore_dash.callbacks.flow import diversity_values
from explore_dash.callbacks.groups import DIVERSITY, controls
from explore_dash.callbacks.stores import Chain
from explore_dash.data.snapshot import Snapshot, track_names
from explore_dash.data.state import AppState
from explore_dash.data.tables import DataError
from explore_dash.formatting import format_time
from explore_dash.layouts import glyphs
from explore_dash.layouts.listening import ITEM_SECONDS
from explore_dash.listening.radio import RADIO, Diversity, RadioError, radio
from explore_dash.players.mpd import PROBE_FILES, MpdPlayer, PlayerError, Queued, QueueItem
from explore_dash.players.mpd_watch import MoreMoments, MpdWatcher, PlayerView
from extraction.contract import SEGMENT_ID_STRIDE, SEGMENT_SECONDS, segment_id, segment_track


def playlist_queue(tracks: pd.DataFrame, track_ids: Iterable[int],
                   starts: dict[int, float] | None) -> list[QueueItem]:  # fmt: skip
    """The playlist's tracks in order, each whole, or from its moment where ``starts`` has one;
    tracks no longer in the collection are left out."""
    starts = starts or {}
    return [
        QueueItem(str(tracks.at[track, "path"]), float(starts.get(track, 0.0)))
        for track in track_ids
        if track in tracks.index
    ]


def chain_queue(tracks: pd.DataFrame, chain: Chain | None, seconds: float | None
                ) -> list[QueueItem]:  # fmt: skip
    """A radio's or path's moments in order, each ``seconds`` long (None: to the track's end)."""
    items = chain.items if chain is not None else ()
    return [
        QueueItem(str(tracks.at[item.track, "path"]), item.offset,
                  None if seconds is None else item.offset + seconds)  # fmt: skip
        for item in items
        if item.track in tracks.index
    ]


def library_sample(tracks: pd.DataFrame, n: int = PROBE_FILES) -> list[str]:
    """``n`` of the library's paths spread over it, to find where MPD keeps the library."""
    paths = tracks["path"].astype(str)
    step = max(1, len(paths) // n)
    return list(paths.iloc[::step][:n])


def send(player: MpdPlayer, items: list[QueueItem], replace: bool, sample: list[str],
         empty: str) -> tuple[Queued | None, str]:  # fmt: skip
    """(what MPD queued, what the page says) after sending ``items`` to MPD: what MPD plays
    now, or why nothing was sent (None; ``empty``: the message when there is nothing to send)."""
    if not items:
        return None, empty
    try:
        queued = player.queue(items, replace=replace, sample=sample)
    except PlayerError as error:
        return None, str(error)
    return queued, queued.message


def send_chain(state: AppState, watcher: MpdWatcher, chain: Chain | None, seconds: float | None,
               rules: Diversity, replace: bool) -> tuple[object, str]:  # fmt: skip
    """(status line, message) after sending a radio or path to MPD, each moment ``seconds``
    long; a radio goes on in MPD from there (its next moments by ``rules``)."""
    snapshot = state.snapshot
    queued, text = send(watcher.player, chain_queue(snapshot.tracks, chain, seconds), replace,
                        library_sample(snapshot.tracks),
                        "No radio or path yet: start one, then send it to MPD.")  # fmt: skip
    if queued is None:
        return no_update, text
    if chain.kind == RADIO and not chain.ended:
        # The radio lives in MPD from now on: the watcher's thread keeps it queued ahead.
        watcher.radio.start([item.segment for item in chain.items], queued.song_ids,
                            radio_goes_on(state, chain.model, chain.layer, rules, seconds))
        watcher.ensure_started()
        watcher.wake()
        text += "; the radio goes on in MPD"
    elif replace:
        watcher.radio.stop()  # its songs left the queue anyway
    return text, ""


def radio_goes_on(state: AppState, model: str, layer: str, diversity: Diversity,
                  seconds: float | None) -> MoreMoments:  # fmt: skip
    """How a radio sent to MPD finds its next moments: in its space, by the page's variety
    rules and item length when it was sent, in the tables as they are then (a rescan may have
    come meanwhile)."""

    def more(segments, count: int) -> list[tuple[int, QueueItem]]:
        snapshot = state.snapshot
        try:
            index = snapshot.index(model, layer)
            moments = radio(index, snapshot.tracks, snapshot.tags_by_track, list(segments),
                            diversity, count)  # fmt: skip
        except (RadioError, DataError, KeyError):
            return []
        return [
            (m.segment, QueueItem(str(snapshot.tracks.at[m.track, "path"]), m.offset,
                                  None if seconds is None else m.offset + seconds))
            for m in moments
            if m.track in snapshot.tracks.index
        ]  # fmt: skip

    return more


def track_paths(snapshot: Snapshot) -> dict[str, int]:
    """Each playable track's id by its path relative to the library."""
    return dict(zip(snapshot.tracks["path"].astype(str), snapshot.tracks.index, strict=True))


def track_at(uri: str, paths: dict[str, int]) -> int | None:
    """The library's track MPD plays as ``uri`` (a path inside MPD's music folder, the library
    somewhere in it), or None when it is not one of the library's."""
    parts = uri.split("/")
    for start in range(len(parts)):
        track = paths.get("/".join(parts[start:]))
        if track is not None:
            return int(track)
    return None


def now_store(view: PlayerView, now: float, paths: dict[str, int]) -> dict | None:
    """The ``MPD_NOW`` store: the segment MPD plays (``{"segment", "track"}``), for the ring on
    the maps; None when it plays nothing of this library."""
    playing = view.playing
    if not view.answering or playing is None or playing.uri is None or playing.state == "stop":
        return None
    track = track_at(playing.uri, paths)
    if track is None:
        return None
    index = int(playing.position(now) // SEGMENT_SECONDS)
    return {"segment": segment_id(track, index * SEGMENT_SECONDS), "track": track}


def play_clicked(player: MpdPlayer, snapshot: Snapshot, segment: int) -> str:
    """What the page says after a click on ``segment``: MPD plays from there when it plays that
    segment's track ("" when it plays another: the click is the page's own)."""
    track = int(segment_track(segment))
    if track not in snapshot.tracks.index:
        return ""
    offset = (segment - track * SEGMENT_ID_STRIDE) * SEGMENT_SECONDS
    try:
        return player.play_from(str(snapshot.tracks.at[track, "path"]), offset)
    except PlayerError as error:
        return str(error)


def player_line(view: PlayerView, now: float, paths: dict[str, int],
                names: dict[int, str]) -> str:  # fmt: skip
    """The page's line on MPD: what it plays and where, or why it does not answer."""
    if not view.answering:
        return view.error
    playing = view.playing
    if playing is None or playing.uri is None or playing.state == "stop":
        text = "MPD: stopped"
    else:
        track = track_at(playing.uri, paths)
        name = names.get(track, playing.uri) if track is not None else (
            f"{playing.uri} (not in this library)")  # fmt: skip
        sign = glyphs.PLAY if playing.state == "play" else glyphs.PAUSE
        text = f"MPD {sign} {name} @ {format_time(playing.position(now))}"
    return f"{text} · {view.radio}" if view.radio else text


def register(app: Dash, state: AppState) -> None:
    """The buttons that send the playlist and the chain to MPD; none without ``--mpd``."""
    config = state.config
    if config.mpd is None:
        return
    player = MpdPlayer.from_options(config.mpd, config.mpd_root)
    watcher = MpdWatcher(player)  # its thread starts on first use
    # Tracks by path and their names, for the table version last seen: at 125,000 tracks they
    # take a tenth of a second to build, and every open page asks every PLAYER_POLL_MS.
    known: dict[int, tuple[dict[str, int], dict[int, str]]] = {}

    def known_tracks() -> tuple[dict[str, int], dict[int, str]]:
        snapshot = state.snapshot
        if snapshot.version not in known:
            known.clear()
            known[snapshot.version] = (track_paths(snapshot), track_names(snapshot.tracks))
        return known[snapshot.version]

    def line_now() -> str:
        return player_line(watcher.view(), time.monotonic(), *known_tracks())

    @app.callback(
        Output(ids.MPD_LINE, "children"),
        Output(ids.MPD_NOW, "data"),
        Input(ids.MPD_POLL, "n_intervals"),
    )
    def show_mpd(_n):
        now = time.monotonic()
        paths = known_tracks()[0]
        return line_now(), now_store(watcher.view(), now, paths)

    app.clientside_callback(browser("markPlayer"), Input(ids.MPD_NOW, "data"))
    app.clientside_callback(
        browser("clickToSeek"),
        Output(ids.MPD_SEEK, "data"),
        Input(ids.panel(ids.PANEL_GRAPH, ALL), "clickData"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.MPD_LINE, "children", allow_duplicate=True),
        Input(ids.MPD_SEEK, "data"),
        prevent_initial_call=True,
    )
    def seek_mpd(clicked):
        snapshot = state.snapshot
        seek = inputs.mapping(clicked)
        if seek is None:
            return no_update
        said = play_clicked(player, snapshot, inputs.whole(seek.get("segment"), 0, inputs.MAX_ID))
        return said or no_update

    @app.callback(
        Output(ids.MPD_LINE, "children", allow_duplicate=True),
        Input(ids.FLOW_STOP, "n_clicks"),
        prevent_initial_call=True,
    )
    def stop_radio_in_mpd(_clicks):
        # Stop means the radio: the one in MPD stops its additions too.
        if not watcher.radio.active:
            return no_update
        watcher.radio.stop("The radio in MPD stopped: what is queued plays out.")
        return line_now()

    @app.callback(
        Output(ids.PLAYLIST_MESSAGE, "children", allow_duplicate=True),
        inputs=dict(
            _play=Input(ids.PLAYLIST_TO_MPD, "n_clicks"),
            _add=Input(ids.PLAYLIST_ADD_TO_MPD, "n_clicks"),
        ),
        state=dict(
            track_ids=State(ids.PLAYLIST, "data"),
            starts=State(ids.PLAYLIST_STARTS, "data"),
            keep_moments=State(ids.PLAYLIST_KEEP_MOMENTS, "value"),
        ),
        prevent_initial_call=True,
    )
    def playlist_to_mpd(_play, _add, track_ids, starts, keep_moments):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        moments = inputs.starts(starts, bounds) if inputs.flag(keep_moments) else None
        items = playlist_queue(snapshot.tracks, inputs.track_ids(track_ids, bounds), moments)
        return send(player, items, ctx.triggered_id == ids.PLAYLIST_TO_MPD,
                    library_sample(snapshot.tracks),
                    "The playlist is empty: select some segments first.")[1]  # fmt: skip

    @app.callback(
        # What MPD plays now in the calm status line; why it did not, in the red one.
        Output(ids.FLOW_STATUS, "children", allow_duplicate=True),
        Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True),
        inputs=dict(
            _play=Input(ids.CHAIN_TO_MPD, "n_clicks"),
            _add=Input(ids.CHAIN_ADD_TO_MPD, "n_clicks"),
        ),
        state=dict(
            chain=State(ids.CHAIN, "data"),
            length=State(ids.ITEM_LENGTH, "value"),
            diversity=controls(DIVERSITY, State),
        ),
        prevent_initial_call=True,
    )
    def chain_to_mpd(_play, _add, chain, length, diversity):
        snapshot = state.snapshot
        bounds = inputs.page_bounds(snapshot)
        seconds = ITEM_SECONDS[inputs.choice(length, ITEM_SECONDS)]
        chain = inputs.chain(chain, bounds)
        rules = diversity_values(bounds, **diversity)
        return send_chain(state, watcher, chain, seconds, rules,
                          ctx.triggered_id == ids.CHAIN_TO_MPD)
