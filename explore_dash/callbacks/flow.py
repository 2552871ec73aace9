"""Radio and paths in the page: chains of moments made on the server, played by the browser.

A chain is a plain dict held in the ``CHAIN`` store and played by ``assets/explore-flow.js``::

    {"id": str, "kind": "radio" | "path", "panel": int, "model": str, "layer": str,
     "items": [{"segment": int, "track": int, "offset": float, "title": str,
                "note": str (only where a variety rule was relaxed)}, ...],
     "ended": bool, "note": str}

``ended`` says a radio has played every track it may (all but those left out). The notes (sent
to the page, never read back) say, calmly, what the chain did that was not asked: an item's, the
variety rules relaxed to reach it; the chain's, a path with fewer steps than asked. The page
shows them in its status line while they apply. The functions here take the snapshot and
checked inputs and return store values and messages; they never raise for bad input: every
refusal is a message in the page (shown as an error, so a normal end is not one).
"""

from __future__ import annotations

import uuid

import numpy as np
from dash import html, no_update

from explore_dash import ids
from explore_dash.data.snapshot import Snapshot, track_names
from explore_dash.data.tables import DataError
from explore_dash.formatting import format_time
from explore_dash.layouts import glyphs
from explore_dash.listening.radio import Diversity, Moment, RadioError, path, radio
from extraction.contract import segment_track

RADIO = "radio"
PATH = "path"


def _title(names: dict[int, str], moment: Moment) -> str:
    return f"{names.get(moment.track, f'track {moment.track}')} @ {format_time(moment.offset)}"


def variety_note(moment: Moment) -> str:
    """What the variety rules gave up to reach ``moment`` ("" when it fits them all)."""
    if not moment.relaxed:
        return ""
    return f"Few tracks left fit the variety rules, so this one allows {moment.relaxed}."


def _items(snapshot: Snapshot, moments: list[Moment]) -> list[dict]:
    names = track_names(snapshot.tracks)
    items = []
    for m in moments:
        item = {"segment": m.segment, "track": m.track, "offset": round(m.offset, 3),
                "title": _title(names, m)}  # fmt: skip
        if m.relaxed:
            item["note"] = variety_note(m)
        items.append(item)
    return items


def _new_chain(kind: str, panel: int, model: str, layer: str, items: list[dict],
               ended: bool, note: str = "") -> dict:  # fmt: skip
    """A chain store value (the module docstring's shape) with a fresh id."""
    return {"id": uuid.uuid4().hex, "kind": kind, "panel": panel, "model": model,
            "layer": layer, "items": items, "ended": ended, "note": note}  # fmt: skip


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
    last: dict | None,
    selection: dict | None,
    spaces: list[tuple[str, str]],
    diversity: Diversity,
) -> tuple[object, str]:
    """(chain, message) of the Radio button.

    The seed: the current selection's most central segment when there is a selection, else the
    last hovered or clicked segment. ``spaces`` is each panel's (model, layer); the chain runs
    in the space of the seed's panel.
    """
    selected = (selection or {}).get("ids") or []
    if selected:
        panel = int(selection.get("source") or 0)
    elif last:
        panel = int(last.get("panel") or 0)
    else:
        return no_update, "Hover or click a segment (or select some) first: the radio starts there."
    model, layer = spaces[panel if 0 <= panel < len(spaces) else 0]
    try:
        if selected:
            seed = central_segment(snapshot, model, layer, selected)
            if seed is None:
                raise RadioError("The selection is no longer in the library: select again.")
        else:
            seed = int(last["segment"])
        index = snapshot.index(model, layer)
        moments = radio(index, snapshot.tracks, snapshot.tags_by_track, [seed], diversity)
    except (RadioError, DataError) as error:
        return no_update, str(error)
    row = index.row_of(seed)
    first = Moment(seed, int(index.track[row]), float(index.offset[row]))
    chain = _new_chain(RADIO, panel, model, layer, _items(snapshot, [first, *moments]), False)
    return chain, ""


def more_radio(
    snapshot: Snapshot, chain: dict | None, diversity: Diversity
) -> tuple[object, str]:
    """(chain, message): the radio ``chain`` with its next moments (``ended`` when none).

    The end is no error: its message is empty, and the page's status line says it.
    """
    if not chain or chain.get("kind") != RADIO or chain.get("ended"):
        return no_update, no_update
    try:
        index = snapshot.index(chain["model"], chain["layer"])
        played = [int(item["segment"]) for item in chain["items"]]
        moments = radio(index, snapshot.tracks, snapshot.tags_by_track, played, diversity)
    except (RadioError, DataError, KeyError, TypeError, ValueError) as error:
        return {**chain, "ended": True}, str(error)
    if not moments:
        return {**chain, "ended": True, "note": ""}, ""
    return {**chain, "items": [*chain["items"], *_items(snapshot, moments)], "note": ""}, ""


def track_from_map(snapshot: Snapshot, last: dict | None) -> tuple[object, str]:
    """(track id, message) for a path end taken from the last hovered or clicked segment."""
    if not last:
        return no_update, "Hover or click a segment on a map first: its track is taken."
    track = int(segment_track(int(last["segment"])))
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
) -> tuple[object, str]:
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


def chain_list(chain: dict | None) -> list:
    """The chain's numbered rows, each playing from the moment or the whole track."""
    if not chain:
        return []
    rows = []
    for item in chain.get("items", []):
        segment, track = int(item["segment"]), int(item["track"])
        rows.append(
            html.Li(
                [
                    html.Span(item["title"], className="me-1"),
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


def chain_playlist(chain: dict | None) -> tuple[list[int], dict[str, float]]:
    """The chain's tracks in order (each once) and the moment each starts at."""
    starts: dict[str, float] = {}  # insertion-ordered: the first moment of each track
    for item in (chain or {}).get("items", []):
        # A dict lookup, not a search of the list so far (quadratic: 12 s at 60,000 items).
        starts.setdefault(str(int(item["track"])), float(item["offset"]))
    return [int(track) for track in starts], starts
