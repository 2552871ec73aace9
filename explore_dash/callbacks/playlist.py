"""The playlist: built from the selection, pruned and reordered by the user, exported as M3U8."""

from __future__ import annotations

from pathlib import Path

import dash_bootstrap_components as dbc
from dash import dcc, html, no_update

from explore_dash import ids
from explore_dash.formatting import format_time
from explore_dash.layouts import glyphs
from explore_dash.playlist import (
    PlaylistError,
    entries_for_tracks,
    export_playlist,
    playlist_from_segments,
)


def move_up(track_ids: list[int], track: int) -> list[int]:
    """``track_ids`` with ``track`` moved one place towards the top."""
    order = list(track_ids)
    if track in order:
        i = order.index(track)
        if i > 0:
            order[i - 1], order[i] = order[i], order[i - 1]
    return order


def playlist_items(tracks, track_ids: list[int]) -> list:
    """The playlist's rows, each with its ↑ and ✕ buttons."""
    entries = entries_for_tracks(track_ids or [], tracks)
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
                                glyphs.PLAY,
                                id={"type": ids.PLAYLIST_PLAY, "track": entry.track},
                                size="sm",
                                color="link",
                                className="p-0 px-1",
                                title="Play the whole track",
                            ),
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


def edit_playlist(
    tracks, trigger, clicked: bool, selected: list[int], current: list[int]
) -> list[int] | object:
    """The playlist's track ids after a selection, a ↑ or a ✕.

    Parameters
    ----------
    trigger : str or dict
        The component that fired: the selection store, or a row's button id.
    clicked : bool
        Whether a button was clicked (Dash also fires when buttons are created).
    """
    if trigger == ids.SELECTION:
        return [e.track for e in playlist_from_segments(selected, tracks)]
    if not clicked or not isinstance(trigger, dict):
        return no_update  # a button was (re)created, not clicked
    if trigger.get("type") == ids.PLAYLIST_REMOVE:
        return [t for t in current if t != trigger.get("track")]
    return move_up(current, trigger.get("track"))


def export(tracks, library: Path, data_dir: Path, track_ids, name, relative, starts=None):
    """(download, message) of *Export M3U8*; ``starts`` (track → seconds) keeps the moments."""
    entries = entries_for_tracks(track_ids or [], tracks)
    if not entries:
        return no_update, "The playlist is empty: select some segments first."
    try:
        done = export_playlist(
            entries,
            library,
            data_dir,
            name or "playlist",
            relative_to_library=bool(relative),
            starts=starts,
        )
    except PlaylistError as error:  # too long, or the playlists folder is full
        return no_update, str(error)
    download = dcc.send_bytes(done.download, done.filename, type="audio/x-mpegurl")
    return download, f"Saved {len(entries)} tracks to {done.saved}"
