"""Matching listens to the library's tracks: by normalised artist and title (names.py), else
with a fuzzy score (rapidfuzz, a maintained C++ matcher: a listen's "Song A (Remaster)" or a
misspelt title finds its track); the album breaks ties.

Listens repeat the same songs: each distinct (artist, title, album) is matched once, so half a
million listens cost the matching of the few tens of thousands of songs among them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from explore_dash.history.exports import Listen
from explore_dash.history.names import artist_key, plain, title_key

#: The fuzzy score (0-100) from which a name counts as the same.
FUZZY_CUTOFF = 90
#: What an unmatched listen's track is.
UNMATCHED = -1


class TrackIndex:
    """The library's tracks by artist and title, for :meth:`match`."""

    def __init__(self, tracks: pd.DataFrame) -> None:
        self._by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._titles: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._album = {}
        for track, artist, title, album in zip(tracks.index, tracks["artist"], tracks["title"],
                                               tracks["album"], strict=True):  # fmt: skip
            a, t = artist_key(str(artist)), title_key(str(title))
            self._by_key[(a, t)].append(int(track))
            self._titles[a][t].append(int(track))
            self._album[int(track)] = plain(str(album))
        self._artists = list(self._titles)

    def _pick(self, tracks: list[int], album: str) -> int:
        wanted = plain(album)
        return next((t for t in tracks if wanted and self._album[t] == wanted), tracks[0])

    def match(self, artist: str, title: str, album: str = "") -> int:
        """The track that a listen of ``artist`` – ``title`` (from ``album``) is, or
        :data:`UNMATCHED`."""
        a, t = artist_key(artist), title_key(title)
        exact = self._by_key.get((a, t))
        if exact:
            return self._pick(exact, album)
        if a not in self._titles:
            found = process.extractOne(a, self._artists, scorer=fuzz.ratio,
                                       score_cutoff=FUZZY_CUTOFF)  # fmt: skip
            if found is None:
                return UNMATCHED
            a = found[0]
        titles = self._titles[a]
        found = process.extractOne(t, list(titles), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return UNMATCHED if found is None else self._pick(titles[found[0]], album)


def match_listens(listens: Sequence[Listen], tracks: pd.DataFrame) -> np.ndarray:
    """Each listen's track id (:data:`UNMATCHED` where none).

    Returns
    -------
    np.ndarray, shape (len(listens),), int64
    """
    index = TrackIndex(tracks)
    known: dict[tuple[str, str, str], int] = {}
    matched = np.empty(len(listens), np.int64)
    for i, listen in enumerate(listens):
        key = (listen.artist, listen.title, listen.album)
        if key not in known:
            known[key] = index.match(*key)
        matched[i] = known[key]
    return matched
