"""The search box: which tracks a query finds, and what the page is told."""

from __future__ import annotations

import pandas as pd
import pytest

from explore_dash.data.search import find_answer, folded, search_tracks

TRACKS = pd.DataFrame(
    {
        "artist": ["Aleksi Aubry-Carlson", "Björk", "", "Björk"],
        "album": ["Wesnoth", "Homogenic", "", "Debut"],
        "title": ["Battle Theme", "Jóga", "", "Human Behaviour"],
        "path": ["a/1.ogg", "b/2.ogg", "loose/Untitled Étude.ogg", "b/3.ogg"],
    },
    index=pd.Index([10, 20, 30, 40], name="track"),
)


@pytest.mark.parametrize(
    "query, found",
    [
        ("bjork", [40, 20]),  # accents and case ignored; by album: Debut, Homogenic
        ("BJÖRK joga", [20]),  # every word must match
        ("aub carl", [10]),  # partial words, across a hyphen
        ("wesnoth battle", [10]),  # album and title together
        ("etude", [30]),  # an untagged track by its file name
        ("  ", []),
        ("zzz", []),
    ],
)
def test_search001_words_match_artist_album_title_ignoring_case_and_accents(query, found):
    assert search_tracks(TRACKS, query) == found


def test_search002_folding():
    assert folded("Étude Straße") == "etude strasse"
    assert search_tracks(TRACKS, "bjork", limit=1) == [40]


def test_search004_find_gives_back_the_highlight_and_the_zoom_it_took():
    # Nothing found, nothing held: the Highlight card and the maps are left alone.
    assert find_answer([], "zzz", [7], None) == (None, None, "Nothing matches “zzz”.")
    # A match borrows the highlight, remembering the user's own tracks.
    tracks, fly, text = find_answer([1, 2], "nex", [7], None)
    assert tracks == [1, 2] and fly == {"tracks": [1, 2], "query": "nex", "before": [7]}
    assert text.startswith("2 tracks:")
    # Typing on to a narrower match keeps what the user had before the first.
    tracks, fly, _ = find_answer([2], "nexi", [1, 2], fly)
    assert tracks == [2] and fly["before"] == [7]
    # Typing on to no match: Find's highlight goes, the user's comes back, the maps fly back.
    tracks, fly, text = find_answer([], "nexius", [2], fly)
    assert tracks == [7] and fly == {"tracks": [], "query": "nexius", "before": []}
    assert text == "Nothing matches “nexius”."
    # Once given back, more letters change nothing.
    assert find_answer([], "nexiusz", [7], fly) == (None, None, "Nothing matches “nexiusz”.")
    # Cleared after the user chose other tracks in the Highlight card: those stay.
    _, fly, _ = find_answer([1], "alpha", [], None)
    assert find_answer([], "", [1, 5], fly) == (None, {"tracks": [], "query": "", "before": []}, "")
    # Cleared while Find's highlight is on: the card gets back what it had (nothing).
    assert find_answer([], "", [1], fly)[0] == []
