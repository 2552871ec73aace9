"""The playlist card: each edit (:mod:`.playlist_edits`) from the page's stores, the rows and
the Undo menu, the export, and the callbacks that wire them."""

from __future__ import annotations

from pathlib import Path

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.callbacks.flow import chain_playlist
from explore_dash.callbacks.playlist_edits import (
    Edits,
    PlaylistState,
    checked_edits,
    edit_playlist,
)
from explore_dash.data.state import AppState
from explore_dash.formatting import format_time
from explore_dash.layouts import glyphs
from explore_dash.listening.playlist import PlaylistError, entries_for_tracks, export_playlist


def edit(tracks, bounds: inputs.PageBounds, trigger, clicked: bool, selection, current,
         starts, edits, chain) -> tuple:  # fmt: skip
    """The edit callback's outputs (playlist, moments, edits, offer text, offer hidden, message)
    from the page's stores, each checked (:mod:`.inputs`) before any work."""
    edits = checked_edits(edits, bounds)
    state = PlaylistState(
        inputs.track_ids(current, bounds),
        {str(track): start for track, start in inputs.starts(starts, bounds).items()},
        edits.edited,
    )
    from_chain = None
    if trigger == ids.CHAIN_TO_PLAYLIST:
        order, moments = chain_playlist(inputs.chain(chain, bounds))
        # No chain yet (or an empty one): → Playlist leaves the playlist as it is.
        from_chain = PlaylistState(order, moments, True) if order else None
    done = edit_playlist(
        tracks, trigger, clicked, inputs.selection(selection, bounds), state, edits, from_chain
    )
    if done is None:
        return (no_update,) * 6
    changed = done.state.tracks != state.tracks
    return (
        done.state.tracks if changed else no_update,
        done.state.starts if done.state.starts != state.starts else no_update,
        done.edits.as_store(),
        no_update if done.offer is None else done.offer,
        no_update if done.offer is None else not done.offer,
        no_update if done.message is None else done.message,
    )


def _small_button(text: str, component_id: dict, title: str, danger: bool = False):
    return dbc.Button(
        text,
        id=component_id,
        size="sm",
        color="link",
        className="p-0 px-1" + (" text-danger" if danger else ""),
        title=title,
    )


def _gap(text: str):
    """Room for a button that cannot act here (the first row's ↑, the last's ↓): none drawn."""
    return html.Span(text, className="p-0 px-1 btn-sm invisible", **{"aria-hidden": "true"})


def playlist_items(tracks, track_ids: list[int]) -> list:
    """The playlist's rows, each with ▶, ↑ (but the first), ↓ (but the last) and ✕."""
    entries = entries_for_tracks(track_ids or [], tracks)
    if not entries:
        return ["Select segments with the box or lasso to fill the playlist."]
    items = []
    last = len(entries)
    for number, entry in enumerate(entries, start=1):
        name = " – ".join(part for part in (entry.artist, entry.title) if part)
        up = {"type": ids.PLAYLIST_UP, "track": entry.track}
        down = {"type": ids.PLAYLIST_DOWN, "track": entry.track}
        items.append(
            html.Div(
                [
                    html.Span(f"{number}. {name} ({format_time(entry.duration)})"),
                    html.Span(
                        [
                            _small_button(
                                glyphs.PLAY,
                                {"type": ids.PLAYLIST_PLAY, "track": entry.track},
                                "Play the whole track",
                            ),
                            _small_button("↑", up, "Move up") if number > 1 else _gap("↑"),
                            _small_button("↓", down, "Move down") if number < last else _gap("↓"),
                            _small_button(
                                "✕",
                                {"type": ids.PLAYLIST_REMOVE, "track": entry.track},
                                "Remove",
                                danger=True,
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


def kept_items(tracks, edits: Edits) -> tuple[bool, bool, list, bool]:
    """(Undo disabled, Redo disabled, the menu's kept states, menu disabled) for ``edits``.

    The menu lists the states Undo brings back, the newest first; picking one goes back that
    many steps at once.
    """
    items = []
    for steps, state in enumerate(reversed(edits.past), start=1):
        entries = entries_for_tracks(state.tracks[:2], tracks)
        names = ", ".join(" – ".join(p for p in (e.artist, e.title) if p) for e in entries)
        more = "…" if len(state.tracks) > len(entries) else ""
        count = len(state.tracks)
        items.append(
            dbc.DropdownMenuItem(
                f"{count} track{'s' if count != 1 else ''}: {names}{more}",
                id={"type": ids.PLAYLIST_RESTORE, "index": steps},
                className="small",
            )
        )
    return not edits.past, not edits.future, items, not edits.past


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


def register(app: Dash, state: AppState) -> None:
    """The playlist's edits, its rows and Undo menu, and its export."""

    @app.callback(
        output=[
            Output(ids.PLAYLIST, "data"),
            Output(ids.PLAYLIST_STARTS, "data"),
            Output(ids.PLAYLIST_EDITS, "data"),
            Output(ids.PLAYLIST_OFFER_TEXT, "children"),
            Output(ids.PLAYLIST_OFFER, "hidden"),
            Output(ids.PLAYLIST_MESSAGE, "children", allow_duplicate=True),
        ],
        inputs=dict(
            selection=Input(ids.SELECTION, "data"),
            # Read through ctx.triggered_id: which one fired, and whether it was clicked.
            _buttons=dict(
                up=Input({"type": ids.PLAYLIST_UP, "track": ALL}, "n_clicks"),
                down=Input({"type": ids.PLAYLIST_DOWN, "track": ALL}, "n_clicks"),
                remove=Input({"type": ids.PLAYLIST_REMOVE, "track": ALL}, "n_clicks"),
                restore=Input({"type": ids.PLAYLIST_RESTORE, "index": ALL}, "n_clicks"),
                from_chain=Input(ids.CHAIN_TO_PLAYLIST, "n_clicks"),
                add=Input(ids.PLAYLIST_ADD, "n_clicks"),
                replace=Input(ids.PLAYLIST_REPLACE, "n_clicks"),
                undo=Input(ids.PLAYLIST_UNDO, "n_clicks"),
                redo=Input(ids.PLAYLIST_REDO, "n_clicks"),
                export=Input(ids.PLAYLIST_EXPORT, "n_clicks"),
            ),
        ),
        state=dict(
            current=State(ids.PLAYLIST, "data"),
            starts=State(ids.PLAYLIST_STARTS, "data"),
            edits=State(ids.PLAYLIST_EDITS, "data"),
            chain=State(ids.CHAIN, "data"),
        ),
        prevent_initial_call=True,
    )
    def edit_the_playlist(selection, _buttons, current, starts, edits, chain):
        snapshot = state.snapshot
        clicked = bool(ctx.triggered and ctx.triggered[0]["value"])
        return edit(snapshot.tracks, inputs.page_bounds(snapshot), ctx.triggered_id, clicked,
                    selection, current, starts, edits, chain)  # fmt: skip

    @app.callback(
        Output(ids.PLAYLIST_UNDO, "disabled"),
        Output(ids.PLAYLIST_REDO, "disabled"),
        Output(ids.PLAYLIST_KEPT, "children"),
        Output(ids.PLAYLIST_KEPT, "disabled"),
        Input(ids.PLAYLIST_EDITS, "data"),
    )
    def show_kept(edits):
        snapshot = state.snapshot
        return kept_items(snapshot.tracks, checked_edits(edits, inputs.page_bounds(snapshot)))

    @app.callback(Output(ids.PLAYLIST_LIST, "children"), Input(ids.PLAYLIST, "data"))
    def show_playlist(track_ids):
        snapshot = state.snapshot
        return playlist_items(
            snapshot.tracks, inputs.track_ids(track_ids, inputs.page_bounds(snapshot))
        )

    @app.callback(
        output=[Output(ids.PLAYLIST_DOWNLOAD, "data"), Output(ids.PLAYLIST_MESSAGE, "children")],
        inputs=dict(_clicks=Input(ids.PLAYLIST_EXPORT, "n_clicks")),
        state=dict(
            track_ids=State(ids.PLAYLIST, "data"),
            name=State(ids.PLAYLIST_NAME, "value"),
            relative=State(ids.PLAYLIST_RELATIVE, "value"),
            starts=State(ids.PLAYLIST_STARTS, "data"),
            keep_moments=State(ids.PLAYLIST_KEEP_MOMENTS, "value"),
        ),
        prevent_initial_call=True,
    )
    def export_playlist_file(_clicks, track_ids, name, relative, starts, keep_moments):
        config, snapshot = state.config, state.snapshot
        bounds = inputs.page_bounds(snapshot)
        return export(
            snapshot.tracks,
            config.library,
            config.data_dir,
            inputs.track_ids(track_ids, bounds),
            inputs.text(name),
            inputs.flag(relative),
            inputs.starts(starts, bounds) if inputs.flag(keep_moments) else None,
        )
