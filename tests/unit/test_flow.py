"""The radio and path callbacks on a fake data folder: chains, messages, playlists, bad input."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from dash import no_update

from explore_dash.callbacks import flow, inputs
from explore_dash.callbacks.stores import Chain, ChainItem, LastSegment, Selection
from explore_dash.data.snapshot import Snapshot
from explore_dash.listening.playlist import VLC_START_TIME, entries_for_tracks, to_m3u8
from explore_dash.listening.radio import Diversity
from extraction.contract import SEGMENT_ID_STRIDE
from tests.support.fake_collection import FakeCollection, write_fake_collection

SPACES = [("musicnn-msd", "embedding"), ("vgg-mtt", "taggram")]


def segment_id(track: int, index: int) -> int:
    return track * SEGMENT_ID_STRIDE + index


@pytest.fixture()
def fake(tmp_path: Path) -> FakeCollection:
    return write_fake_collection(tmp_path)


@pytest.fixture()
def snapshot(fake: FakeCollection) -> Snapshot:
    return Snapshot.load(fake.data_dir)


def test_flow101_the_radio_starts_at_the_hovered_moment_in_that_panels_space(snapshot):
    seed = segment_id(2, 3)
    chain, text = flow.start_radio(snapshot, LastSegment(seed, 1), None, SPACES, Diversity())
    assert text == ""
    store = chain.as_store()  # what the page gets
    assert (store["model"], store["layer"], store["panel"]) == ("vgg-mtt", "taggram", 1)
    items = store["items"]
    assert items[0] == {"segment": seed, "track": 2, "offset": pytest.approx(3 * 2.992),
                        "title": "Beta – Étude @ 0:09"}  # fmt: skip
    tracks = [item["track"] for item in items]
    # Every playable track: Alpha's second, on the album of its first, comes last and its item
    # says why (before, 'No album twice' ended the radio at 4 of these 5 tracks).
    assert len(tracks) == len(set(tracks)) == 5 and tracks[-1] in (0, 1)
    assert [item.get("note", "") for item in items[:3]] == ["", "", ""]
    assert items[-1]["note"] == (
        "Few tracks left fit the variety rules, so this one allows an album again and the "
        "same artist 2 tracks apart."
    )
    assert store["note"] == ""
    # The page's chain passes the checks (the notes go to the page and are never read back).
    checked = inputs.chain(store, inputs.page_bounds(snapshot))
    assert checked == replace(chain, items=tuple(replace(item, note="") for item in chain.items))


def test_flow102_the_selection_seeds_the_radio_at_its_most_central_segment(snapshot):
    selected = [segment_id(0, i) for i in range(5)]
    chain, _ = flow.start_radio(snapshot, LastSegment(segment_id(7, 0), 0),
                                Selection(selected, 0), SPACES, Diversity())  # fmt: skip
    assert chain.items[0].track == 0 and chain.items[0].segment in selected


def test_flow103_refusals_are_messages(snapshot):
    gone = LastSegment(segment_id(3, 0), 0)  # the error track: not in the tables
    assert flow.start_radio(snapshot, gone, None, SPACES, Diversity())[1].startswith(
        "That moment is no longer in the library"
    )
    assert "first" in flow.start_radio(snapshot, None, None, SPACES, Diversity())[1]
    everyone = Diversity(exclude_artists=frozenset({"Alpha", "Beta", "Gamma", "Delta"}))
    seed = LastSegment(segment_id(0, 0), 0)
    chain, text = flow.start_radio(snapshot, seed, None, SPACES, everyone)
    assert chain is no_update and "No other track fits" in text
    for start, end, steps, expected in [(0, 0, 3, "same track"), (None, 7, 3, "Pick a start"),
                                        (0, 3, 3, "no longer in the library")]:  # fmt: skip
        chain, text = flow.start_path(snapshot, start, end, steps, 0, SPACES,
                                      Diversity())  # fmt: skip
        assert chain is no_update and expected in text


def test_flow104_the_radio_goes_on_until_no_track_is_left(snapshot):
    seed = LastSegment(segment_id(0, 0), 0)
    rules = Diversity(artist_gap=0, distinct_albums=False)
    chain, _ = flow.start_radio(snapshot, seed, None, SPACES, rules)
    assert len(chain.items) == 5  # every playable track, the seed's first
    assert chain.note == ""  # no rule to relax
    more, text = flow.more_radio(snapshot, chain, rules)
    # The normal end is no error message (the page's status line says it, calmly).
    assert more.ended and more.items == chain.items and text == ""
    assert flow.more_radio(snapshot, more, rules) == (no_update, no_update)


def test_flow111_a_path_asked_for_more_steps_than_tracks_takes_them_all_and_says_so(snapshot):
    chain, text = flow.start_path(snapshot, 0, 7, 12, 0, SPACES, Diversity())
    tracks = [item.track for item in chain.items]
    # Before: no path, and the red "Only 5 tracks can be on this path" message.
    assert text == "" and len(tracks) == len(set(tracks)) == 5
    assert (tracks[0], tracks[-1]) == (0, 7)
    assert chain.note == "Only 5 tracks can be on this path with these settings: it has 5 steps."
    chain, _ = flow.start_path(snapshot, 0, 7, 3, 0, SPACES, Diversity())
    assert len(chain.items) == 3 and chain.note == ""


def test_flow105_a_path_becomes_a_playlist_that_keeps_its_moments(snapshot, fake):
    chain, _ = flow.start_path(snapshot, 0, 7, 4, 0, SPACES, Diversity())
    order, starts = flow.chain_playlist(chain)
    assert order[0] == 0 and order[-1] == 7 and len(order) == 4
    assert starts == {str(i.track): i.offset for i in chain.items}
    text = to_m3u8(entries_for_tracks(order, snapshot.tracks), fake.library,
                   starts=inputs.starts(starts, inputs.page_bounds(snapshot))).decode()  # fmt: skip
    lines = text.splitlines()
    for item in chain.items:
        if item.offset > 0:
            option = f"{VLC_START_TIME}{item.offset:.3f}"
            path_line = lines[lines.index(option) + 1]
            assert path_line.endswith(fake.by_id(item.track).path)
    assert lines.count("#EXTM3U") == 1 and sum(x.startswith("#EXTINF") for x in lines) == 4


@pytest.mark.parametrize(
    "value",
    [
        {"items": "x"},
        {"items": [{"segment": -1, "track": 0, "offset": 0, "title": ""}]},
        {"items": [{"segment": 1, "track": 0, "offset": float("nan"), "title": ""}]},
        {"items": [], "panel": 5},
        [],
    ],
)
def test_flow106_a_chain_the_page_would_never_send_is_no_update(snapshot, value):
    with pytest.raises(inputs.InvalidInput):
        inputs.chain(value, inputs.page_bounds(snapshot))


@pytest.mark.parametrize("value", [{"x": 1}, {"1": -2}, {"1": "3"}, {"1": True}, [1]])
def test_flow107_moments_the_page_would_never_send_are_no_update(snapshot, value):
    with pytest.raises(inputs.InvalidInput):
        inputs.starts(value, inputs.page_bounds(snapshot))


def test_flow108_a_path_end_is_taken_from_the_segment_last_hovered_on_a_map(snapshot):
    assert flow.track_from_map(snapshot, LastSegment(segment_id(7, 2), 1)) == (7, "")
    track, text = flow.track_from_map(snapshot, LastSegment(segment_id(3, 0), 0))  # not in tables
    assert track is no_update and "no longer in the library" in text
    track, text = flow.track_from_map(snapshot, None)
    assert track is no_update and "first" in text


def test_flow109_a_long_chain_becomes_a_playlist_in_linear_time():
    items = tuple(ChainItem(i, i % 30_000, float(i), "") for i in range(60_000))
    started = time.process_time()
    order, starts = flow.chain_playlist(Chain("c", flow.RADIO, 0, "m", "l", items, False))
    assert time.process_time() - started < 0.5  # a search of the list so far took 12 s
    assert order == list(range(30_000)) and starts["7"] == 7.0


def test_flow110_lists_longer_than_the_collection_allows_are_no_update(snapshot):
    bounds = inputs.page_bounds(snapshot)
    assert (bounds.tracks, bounds.segments) == (len(snapshot.tracks), 20)
    item = {"segment": 1, "track": 0, "offset": 0.0, "title": ""}
    too_long = [
        lambda: inputs.track_ids(list(range(bounds.tracks + 1)), bounds),
        lambda: inputs.track_ids([0, 0], bounds),  # the page's playlist holds a track once
        lambda: inputs.selection({"ids": [1] * (bounds.segments + 1)}, bounds),
        lambda: inputs.starts({str(i): 0.0 for i in range(bounds.tracks + 1)}, bounds),
        lambda: inputs.chain({"items": [item] * (bounds.moments + 1)}, bounds),
        lambda: inputs.texts(["x"] * (bounds.choices + 1), bounds.choices),
    ]
    for check in too_long:
        with pytest.raises(inputs.InvalidInput):
            check()
    assert inputs.track_ids(list(snapshot.tracks.index), bounds) == list(snapshot.tracks.index)


def test_flow112_a_chain_reaches_the_page_in_the_stores_shape_and_comes_back_typed(snapshot):
    relaxed = ChainItem(5, 0, 1.5, "Alpha – One @ 0:01", "allows an album again")
    chain = Chain("c1", flow.PATH, 1, "vgg-mtt", "taggram", (ChainItem(7, 0, 0.0, "x"), relaxed),
                  True, "fewer steps")  # fmt: skip
    store = chain.as_store()
    # The JSON assets/explore-flow.js reads: an item's note only where a rule was relaxed.
    assert store == {"id": "c1", "kind": "path", "panel": 1, "model": "vgg-mtt",
                     "layer": "taggram", "ended": True, "note": "fewer steps",
                     "items": [{"segment": 7, "track": 0, "offset": 0.0, "title": "x"},
                               {"segment": 5, "track": 0, "offset": 1.5,
                                "title": "Alpha – One @ 0:01",
                                "note": "allows an album again"}]}  # fmt: skip
    back = inputs.chain(store, inputs.page_bounds(snapshot))
    assert back == replace(chain, note="", items=(chain.items[0], replace(relaxed, note="")))
    assert inputs.chain(None, inputs.page_bounds(snapshot)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ({"segment": 3, "panel": 1}, LastSegment(3, 1)),
        ({"segment": 2.0**53, "panel": 0}, LastSegment(2**53, 0)),
        ({"segment": 3, "panel": 2}, inputs.InvalidInput),  # no third panel
        ({"segment": 2**53 + 2, "panel": 0}, inputs.InvalidInput),  # no id the page holds
        ({"segment": 3}, inputs.InvalidInput),
        ([3, 1], inputs.InvalidInput),
    ],
)
def test_flow113_the_last_segment_is_checked_before_a_radio_or_a_path_end(value, expected):
    if expected is inputs.InvalidInput:
        with pytest.raises(inputs.InvalidInput):
            inputs.last_segment(value)
    else:
        assert inputs.last_segment(value) == expected


def test_flow114_the_selection_store_comes_with_the_panel_it_was_made_on(snapshot):
    bounds = inputs.page_bounds(snapshot)
    assert inputs.picked({"ids": [4, 5], "source": 1}, bounds) == Selection([4, 5], 1)
    assert inputs.picked({"ids": [4]}, bounds) == Selection([4], 0)
    assert inputs.picked(None, bounds) == Selection([], 0)
    for forged in ({"ids": [4], "source": 2}, {"ids": [4], "source": "1"}, {"ids": "4"}):
        with pytest.raises(inputs.InvalidInput):
            inputs.picked(forged, bounds)
