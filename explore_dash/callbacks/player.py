"""The playlist, a radio or a path sent to the user's player (MPD), from the page's buttons.

Registered only when the app was started with ``--mpd`` (the buttons exist only then:
explore_dash/layouts/player.py). Radio and path items keep their moments: each plays from its
moment for the Radio card's item length, as it does in the page.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from dash import Dash, Input, Output, State, ctx, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.stores import Chain
from explore_dash.data.state import AppState
from explore_dash.layouts.listening import ITEM_SECONDS
from explore_dash.players.mpd import PROBE_FILES, MpdPlayer, PlayerError, QueueItem


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
         empty: str) -> tuple[bool, str]:  # fmt: skip
    """(sent, what the page says) after sending ``items`` to MPD: what MPD plays now, or why
    nothing was sent (``empty``: the message when there is nothing to send)."""
    if not items:
        return False, empty
    try:
        return True, player.queue(items, replace=replace, sample=sample)
    except PlayerError as error:
        return False, str(error)


def register(app: Dash, state: AppState) -> None:
    """The buttons that send the playlist and the chain to MPD; none without ``--mpd``."""
    config = state.config
    if config.mpd is None:
        return
    player = MpdPlayer.from_options(config.mpd, config.mpd_root)

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
        state=dict(chain=State(ids.CHAIN, "data"), length=State(ids.ITEM_LENGTH, "value")),
        prevent_initial_call=True,
    )
    def chain_to_mpd(_play, _add, chain, length):
        snapshot = state.snapshot
        seconds = ITEM_SECONDS[inputs.choice(length, ITEM_SECONDS)]
        items = chain_queue(snapshot.tracks, inputs.chain(chain, inputs.page_bounds(snapshot)),
                            seconds)  # fmt: skip
        sent, text = send(player, items, ctx.triggered_id == ids.CHAIN_TO_MPD,
                          library_sample(snapshot.tracks),
                          "No radio or path yet: start one, then send it to MPD.")  # fmt: skip
        return (text, "") if sent else (no_update, text)
