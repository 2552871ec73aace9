"""The playlist: built from the selection, pruned and reordered by the user, exported as M3U8."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from explore_dash import ids
from explore_dash.data import format_time
from explore_dash.playlist import entries_for_tracks, export_playlist, playlist_from_segments
from explore_dash.state import AppState


def move_up(track_ids: list[int], track: int) -> list[int]:
    """``track_ids`` with ``track`` moved one place towards the top."""
    order = list(track_ids)
    if track in order:
        i = order.index(track)
        if i > 0:
            order[i - 1], order[i] = order[i], order[i - 1]
    return order


def playlist_items(state: AppState, track_ids: list[int]) -> list:
    entries = entries_for_tracks(track_ids, state.collection.tracks)
    if not entries:
        return ["Select segments with the box or lasso to fill the playlist."]
    items = []
    for number, entry in enumerate(entries, start=1):
        name = " – ".join(part for part in (entry.artist, entry.title) if part)
        items.append(
            html.Div(
                [
                    html.Span(f"{number}. {name} ({format_time(entry.duration)})"),
                    html.Span(
                        [
                            dbc.Button(
                                "↑",
                                id={"type": ids.PLAYLIST_UP, "track": entry.track},
                                size="sm",
                                color="link",
                                className="p-0 px-1",
                                title="Move up",
                            ),
                            dbc.Button(
                                "✕",
                                id={"type": ids.PLAYLIST_REMOVE, "track": entry.track},
                                size="sm",
                                color="link",
                                className="p-0 px-1 text-danger",
                                title="Remove",
                            ),
                        ],
                        className="text-nowrap",
                    ),
                ],
                className="playlist-entry d-flex justify-content-between border-bottom py-1",
                **{"data-track": str(entry.track)},
            )
        )
    return items


def register(app: Dash, state: AppState) -> None:
    @app.callback(
        Output(ids.PLAYLIST, "data"),
        Input(ids.SELECTION, "data"),
        Input({"type": ids.PLAYLIST_UP, "track": ALL}, "n_clicks"),
        Input({"type": ids.PLAYLIST_REMOVE, "track": ALL}, "n_clicks"),
        State(ids.PLAYLIST, "data"),
        prevent_initial_call=True,
    )
    def edit_playlist(selection, _ups, _removes, current):
        trigger = ctx.triggered_id
        current = current or []
        if trigger == ids.SELECTION:
            chosen = (selection or {}).get("ids") or []
            return [e.track for e in playlist_from_segments(chosen, state.collection.tracks)]
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update  # a button was (re)created, not clicked
        if trigger["type"] == ids.PLAYLIST_REMOVE:
            return [t for t in current if t != trigger["track"]]
        return move_up(current, trigger["track"])

    @app.callback(Output(ids.PLAYLIST_LIST, "children"), Input(ids.PLAYLIST, "data"))
    def show_playlist(track_ids):
        return playlist_items(state, track_ids or [])

    @app.callback(
        Output(ids.PLAYLIST_DOWNLOAD, "data"),
        Output(ids.PLAYLIST_MESSAGE, "children"),
        Input(ids.PLAYLIST_EXPORT, "n_clicks"),
        State(ids.PLAYLIST, "data"),
        State(ids.PLAYLIST_NAME, "value"),
        State(ids.PLAYLIST_RELATIVE, "value"),
        prevent_initial_call=True,
    )
    def export(_clicks, track_ids, name, relative):
        entries = entries_for_tracks(track_ids or [], state.collection.tracks)
        if not entries:
            return no_update, "The playlist is empty: select some segments first."
        done = export_playlist(
            entries,
            state.config.library,
            state.config.data_dir,
            name or "playlist",
            relative_to_library=bool(relative),
        )
        download = dcc.send_bytes(done.download, done.filename, type="audio/x-mpegurl")
        return download, f"Saved {len(entries)} tracks to {done.saved}"
