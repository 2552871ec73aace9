"""Finding tracks by artist, album and title as one types: case, accents and word ends ignored."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

#: The most tracks a search highlights: beyond that it is a filter, not a search.
MAX_RESULTS = 200


def folded(text: str) -> str:
    """``text`` without case or accents: ``"Étude"`` -> ``"etude"``, ``"Straße"`` -> "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold()


def search_tracks(tracks: pd.DataFrame, query: str, limit: int = MAX_RESULTS) -> list[int]:
    """Ids of the tracks whose artist, album or title hold every word of ``query``.

    A word matches anywhere in those fields ("aub carl" finds "Aleksi Aubry-Carlson"), so
    partial words work; the file name counts as the title for untagged tracks. Tracks come in
    artist, album, title order; an empty query finds nothing.

    Returns
    -------
    list of int, at most ``limit`` ids
    """
    words = folded(query).split()
    if not words or tracks.empty:
        return []
    names = tracks["path"].astype(str).str.rsplit("/", n=1).str[-1]
    haystack = (
        tracks["artist"].astype(str) + " " + tracks["album"].astype(str) + " "
        + tracks["title"].astype(str).where(tracks["title"].astype(str) != "", names)
    ).map(folded)  # fmt: skip
    found = np.ones(len(tracks), bool)
    for word in words:
        found &= haystack.str.contains(word, regex=False).to_numpy()
    order = tracks[found].sort_values(["artist", "album", "title"], kind="stable").index
    return [int(t) for t in order[:limit]]


def find_answer(
    found: list[int], query: str, highlighted: list[int], last_find: dict | None
) -> tuple[list[int] | None, dict | None, str]:
    """What the search box does with what it ``found`` for ``query``.

    Find borrows the Highlight card's tracks while it has a match, and gives back the tracks
    the user had there before once the box is cleared or matches nothing; tracks the user
    chose since are left alone. The maps fly to a match, and back to the zoom they had before
    Find moved them (``{"tracks": []}`` tells the page) once nothing is found.

    Parameters
    ----------
    found : list of int
        Track ids the query finds (empty: cleared, or nothing matches).
    highlighted : list of int
        The Highlight card's tracks now.
    last_find : dict or None
        What the page was told last time: ``{"tracks", "query", "before"}``.

    Returns
    -------
    (tracks to highlight or None to leave them, what the maps do or None for nothing, message)
    """
    last_tracks = list((last_find or {}).get("tracks") or [])
    # Find's highlight is still on: what the user had before it is given back later.
    borrowed = bool(last_tracks) and set(highlighted) == set(last_tracks)
    before = list((last_find or {}).get("before") or []) if borrowed else list(highlighted)
    if found:
        shown = "1 track" if len(found) == 1 else f"{len(found):,} tracks"
        more = f" (the first {MAX_RESULTS})" if len(found) == MAX_RESULTS else ""
        fly = {"tracks": found, "query": query, "before": before}
        return found, fly, f"{shown}{more}: highlighted, maps zoomed"
    message = f"Nothing matches “{query.strip()}”." if query.strip() else ""
    if not last_tracks:
        return None, None, message  # Find holds no highlight and no zoom: nothing to undo
    return (before if borrowed else None), {"tracks": [], "query": query, "before": []}, message
