"""What an edit does to the playlist: filled by a selection, then the user's (reordered,
pruned, added to, exported), with the states before each replacement or removal kept for Undo
and Redo. Pure functions of the playlist's state; :mod:`.playlist` wires them to the page."""

from __future__ import annotations

from dataclasses import dataclass, field

from explore_dash import ids
from explore_dash.callbacks import inputs
from explore_dash.listening.playlist import playlist_from_segments

#: Playlist states kept for Undo (and as many for Redo).
MAX_KEPT = 5


@dataclass(frozen=True)
class PlaylistState:
    """The playlist as the page keeps it: its tracks, their moments, and whose it is.

    Attributes
    ----------
    tracks : list of int
        Track ids in playlist order, each once.
    starts : dict of str to float
        The playlist's moments store (track id as text → seconds), from a radio or path.
    edited : bool
        The user's own: reordered, pruned, added to, exported or made from a chain. A new
        selection fills a playlist that is not (empty, or still what a selection put there),
        and only offers to add to or replace one that is.
    """

    tracks: list[int]
    starts: dict[str, float] = field(default_factory=dict)
    edited: bool = False

    def as_store(self) -> dict:
        return {"tracks": self.tracks, "starts": self.starts, "edited": self.edited}


@dataclass(frozen=True)
class Edits:
    """The playlist edits store: whose the playlist is, and the states Undo and Redo bring back.

    ``past`` and ``future`` hold at most :data:`MAX_KEPT` states each, the newest last.
    """

    edited: bool = False
    past: list[PlaylistState] = field(default_factory=list)
    future: list[PlaylistState] = field(default_factory=list)

    def as_store(self) -> dict:
        return {
            "edited": self.edited,
            "past": [state.as_store() for state in self.past],
            "future": [state.as_store() for state in self.future],
        }


def checked_state(value: object, bounds: inputs.PageBounds) -> PlaylistState:
    store = inputs.mapping(value, optional=False)
    starts = inputs.starts(store.get("starts"), bounds)
    return PlaylistState(
        inputs.track_ids(store.get("tracks"), bounds),
        {str(track): start for track, start in starts.items()},
        inputs.flag(store.get("edited")),
    )


def checked_edits(value: object, bounds: inputs.PageBounds) -> Edits:
    """The edits store as the page sent it, every field checked (none: a new page's)."""
    store = inputs.mapping(value) or {}
    kept = []
    for key in ("past", "future"):
        states = store.get(key) or []
        if not isinstance(states, list) or len(states) > MAX_KEPT:
            raise inputs.InvalidInput(f"expected at most {MAX_KEPT} kept playlists")
        kept.append([checked_state(state, bounds) for state in states])
    return Edits(inputs.flag(store.get("edited")), *kept)


def keep(past: list[PlaylistState], state: PlaylistState) -> list[PlaylistState]:
    """``past`` with ``state`` kept for Undo: the newest last, at most :data:`MAX_KEPT`.

    An empty playlist is not worth a place. One a selection made, still untouched, takes the
    place of a like one just before it: a run of lassos keeps the last of them, not five, so
    the user's own playlist stays within reach.
    """
    if not state.tracks or (past and past[-1] == state):
        return past
    if past and not state.edited and not past[-1].edited:
        past = past[:-1]
    return [*past, state][-MAX_KEPT:]


def move(track_ids: list[int], track: int, step: int) -> list[int]:
    """``track_ids`` with ``track`` moved ``step`` places (-1: up, 1: down), within the list."""
    order = list(track_ids)
    if track in order:
        i = order.index(track)
        j = i + step
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


def _tracks_of(selected: list[int], tracks) -> list[int]:
    return [entry.track for entry in playlist_from_segments(selected, tracks)]


@dataclass(frozen=True)
class Edited:
    """What an edit does to the page: the new playlist and edits, the offer and the message.

    ``offer`` is the text of the "Selection: N tracks" offer, "" to hide it, None to leave it;
    ``message`` says what changed ("" to clear an export's message), None to leave it.
    """

    state: PlaylistState
    edits: Edits
    offer: str | None = None
    message: str | None = None


def _replaced(current: PlaylistState, edits: Edits, new: PlaylistState, why: str = "") -> Edited:
    """``current`` replaced by ``new``, kept for Undo; ``why``: say so, when it had rows."""
    if new == current:
        return Edited(current, edits, offer="")
    past = keep(edits.past, current)
    message = ""
    if why and current.tracks and new.tracks != current.tracks:
        count = len(current.tracks)
        message = f"{why}: Undo brings back the {count} track{'s' if count != 1 else ''} before."
    return Edited(new, Edits(new.edited, past, []), offer="", message=message)


def _changed(edits: Edits, new: PlaylistState) -> Edited:
    """An edit that drops no row (a move, an addition): Redo's states no longer follow."""
    return Edited(new, Edits(new.edited, edits.past, []), message="")


def _offer(tracks, selected: list[int], current: PlaylistState) -> str:
    chosen = _tracks_of(selected, tracks)
    listed = set(current.tracks)
    new = sum(1 for track in chosen if track not in listed)
    plural = "s" if len(chosen) != 1 else ""
    return f"Selection: {len(chosen)} track{plural} ({new} not in the playlist)."


def _work_ahead(edits: Edits) -> bool:
    """Whether Redo holds a playlist the user made: after an Undo back to what a selection put
    there, a new selection must not drop it silently."""
    return any(state.edited and state.tracks for state in edits.future)


def _restore(current: PlaylistState, edits: Edits, steps: int) -> Edited | None:
    """``steps`` states back (Undo, or a kept state picked from the menu); forward if negative."""
    past, future = list(edits.past), list(edits.future)
    state = current
    for _ in range(abs(steps)):
        source, target = (past, future) if steps > 0 else (future, past)
        if not source:
            return None
        target.append(state)
        state = source.pop()
    edits = Edits(state.edited, past[-MAX_KEPT:], future[-MAX_KEPT:])
    return Edited(state, edits, message="")


def edit_playlist(
    tracks,
    trigger,
    clicked: bool,
    selected: list[int],
    current: PlaylistState,
    edits: Edits,
    chain: PlaylistState | None = None,
) -> Edited | None:
    """The playlist after a selection, a row's ↑ ↓ ✕, an offer's choice, Undo, Redo, an export
    or *→ Playlist*; None: nothing changes.

    Parameters
    ----------
    trigger : str or dict
        The component that fired: the selection store, or a button's id.
    clicked : bool
        Whether a button was clicked (Dash also fires when buttons are created).
    current : PlaylistState
        The playlist now; its ``edited`` is the edits store's.
    chain : PlaylistState, optional
        The chain as a playlist, for *→ Playlist*.
    """
    if trigger == ids.SELECTION:
        if not selected:  # cleared: the playlist stays; only the offer goes
            return Edited(current, edits, offer="")
        if (current.edited and current.tracks) or _work_ahead(edits):
            return Edited(current, edits, offer=_offer(tracks, selected, current))
        return _replaced(current, edits, PlaylistState(_tracks_of(selected, tracks)))
    if not clicked:
        return None  # a button was (re)created, not clicked
    if trigger == ids.PLAYLIST_EXPORT:  # an exported playlist is the user's
        return Edited(PlaylistState(current.tracks, current.starts, True),
                      Edits(True, edits.past, edits.future))  # fmt: skip
    if trigger == ids.CHAIN_TO_PLAYLIST and chain is not None:
        return _replaced(current, edits, chain, "The chain is the playlist now")
    if trigger == ids.PLAYLIST_REPLACE:
        new = PlaylistState(_tracks_of(selected, tracks))
        return _replaced(current, edits, new, "The selection is the playlist now")
    if trigger == ids.PLAYLIST_ADD:
        listed = set(current.tracks)
        added = [t for t in _tracks_of(selected, tracks) if t not in listed]
        if not added:  # nothing new: Redo's states stay
            return Edited(current, edits, offer="")
        new = PlaylistState(current.tracks + added, current.starts, True)
        return Edited(new, Edits(True, edits.past, []), offer="", message="")
    if trigger in (ids.PLAYLIST_UNDO, ids.PLAYLIST_REDO):
        done = _restore(current, edits, 1 if trigger == ids.PLAYLIST_UNDO else -1)
        return None if done is None else _offer_hidden(done)
    if not isinstance(trigger, dict):
        return None
    kind, track = trigger.get("type"), trigger.get("track")
    if kind == ids.PLAYLIST_RESTORE:
        done = _restore(current, edits, inputs.whole(trigger.get("index"), 1, MAX_KEPT))
        return None if done is None else _offer_hidden(done)
    if kind == ids.PLAYLIST_REMOVE and track in current.tracks:
        new = PlaylistState([t for t in current.tracks if t != track], current.starts, True)
        done = Edited(new, Edits(True, keep(edits.past, current), []), message="")
        return _offer_hidden(done)
    if kind in (ids.PLAYLIST_UP, ids.PLAYLIST_DOWN):
        order = move(current.tracks, track, -1 if kind == ids.PLAYLIST_UP else 1)
        if order != current.tracks:
            return _offer_hidden(_changed(edits, PlaylistState(order, current.starts, True)))
    return None


def _offer_hidden(done: Edited) -> Edited:
    """``done`` with the selection's offer hidden: its count of tracks "not in the playlist"
    was about the playlist before the edit (the next selection offers again)."""
    return Edited(done.state, done.edits, "", done.message)
