"""The playlist, a radio or a path saved as a playlist on the user's Subsonic server, from the
page's → Subsonic buttons; registered only when the app was started with ``--subsonic``."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from dash import Dash, Input, Output, State, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.flow import chain_playlist
from explore_dash.callbacks.stores import Chain
from explore_dash.data.state import AppState
from explore_dash.players.subsonic import SubsonicError, SubsonicServer, TrackToMatch


def tracks_to_match(tracks: pd.DataFrame, track_ids: Iterable[int]) -> list[TrackToMatch]:
    """The library's tracks ``track_ids`` in order, as the server is searched for them; tracks
    no longer in the collection are left out."""
    return [
        TrackToMatch(str(tracks.at[track, "path"]), str(tracks.at[track, "artist"]),
                     str(tracks.at[track, "album"]), str(tracks.at[track, "title"]),
                     float(tracks.at[track, "duration"]))  # fmt: skip
        for track in track_ids
        if track in tracks.index
    ]


def chain_name(chain: Chain) -> str:
    """A radio's or path's playlist name on the server: what it is and where it starts."""
    first = chain.items[0].title.split(" @ ")[0] if chain.items else ""
    return f"explore-dash {chain.kind} from {first}".strip()


def save(server: SubsonicServer | None, name: str, tracks: list[TrackToMatch],
         empty: str) -> tuple[bool, str]:  # fmt: skip
    """(saved, what the page says) after saving ``tracks`` as the server's playlist ``name``."""
    if server is None:
        return False, "No Subsonic password: set EXPLORE_DASH_SUBSONIC_PASSWORD and restart."
    if not tracks:
        return False, empty
    try:
        return True, server.save_playlist(name, tracks).message()
    except SubsonicError as error:
        return False, str(error)


def register(app: Dash, state: AppState) -> None:
    """The → Subsonic buttons of the playlist and the chain; none without ``--subsonic``."""
    config = state.config
    if config.subsonic is None:
        return
    try:
        server = SubsonicServer.from_options(config.subsonic, config.subsonic_user or "")
    except SubsonicError:
        server = None  # the start-up checks ask for the password; said again in the page

    @app.callback(
        Output(ids.PLAYLIST_MESSAGE, "children", allow_duplicate=True),
        Input(ids.PLAYLIST_TO_SUBSONIC, "n_clicks"),
        State(ids.PLAYLIST, "data"),
        State(ids.PLAYLIST_NAME, "value"),
        prevent_initial_call=True,
    )
    def playlist_to_subsonic(_clicks, track_ids, name):
        snapshot = state.snapshot
        tracks = tracks_to_match(snapshot.tracks,
                                 inputs.track_ids(track_ids, inputs.page_bounds(snapshot)))
        name = inputs.text(name).strip() or "explore-dash playlist"
        return save(server, name, tracks, "The playlist is empty: select some segments first.")[1]

    @app.callback(
        Output(ids.FLOW_STATUS, "children", allow_duplicate=True),
        Output(ids.FLOW_MESSAGE, "children", allow_duplicate=True),
        Input(ids.CHAIN_TO_SUBSONIC, "n_clicks"),
        State(ids.CHAIN, "data"),
        prevent_initial_call=True,
    )
    def chain_to_subsonic(_clicks, chain):
        snapshot = state.snapshot
        chain = inputs.chain(chain, inputs.page_bounds(snapshot))
        if chain is None:
            return no_update, "No radio or path yet: start one, then save it."
        order, _ = chain_playlist(chain)  # each track once, in the chain's order
        saved, text = save(server, chain_name(chain), tracks_to_match(snapshot.tracks, order),
                           "The radio or path has no track in the library any more.")  # fmt: skip
        return (text, "") if saved else (no_update, text)
