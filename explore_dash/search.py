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
