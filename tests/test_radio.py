"""Radio and paths on a hand-made space: nearest moments, diversity rules, clear refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explore_dash.collection import Space
from explore_dash.neighbours import SpaceIndex
from explore_dash.radio import Diversity, RadioError, path, radio
from extraction.contract import PCA_COMPONENTS, segment_ids

# Track id -> (artist, album, position on a line, segments).
TRACKS = {
    0: ("Ann", "One", 0.0, 4),
    1: ("Ann", "One", 1.0, 3),
    2: ("Bob", "Two", 2.0, 5),
    3: ("Cat", "Three", 3.0, 2),
    4: ("Dan", "Four", 4.0, 3),
    5: ("Eve", "Two", 5.0, 4),
    6: ("Fay", "Six", 6.0, 3),
    7: ("Gus", "", 7.0, 2),
}


def make_space() -> tuple[Space, np.ndarray, pd.DataFrame]:
    """Tracks along the x axis; a track's segments spread a little around its position."""
    rng = np.random.default_rng(0)
    track, offset, vectors = [], [], []
    for t, (_, _, x, n) in TRACKS.items():
        for i in range(n):
            track.append(t)
            offset.append(i * 2.992)
            vectors.append([x + 0.05 * i, 0.02 * rng.standard_normal(), 0.0])
    track = np.array(track, np.int32)
    offset = np.array(offset, np.float32)
    zeros = np.zeros((len(track), PCA_COMPONENTS), np.float32)
    space = Space("m", "embedding", segment_ids(track, offset), track, offset, zeros, zeros)
    tracks = pd.DataFrame(
        {
            "artist": [a for a, _, _, _ in TRACKS.values()],
            "album": [b for _, b, _, _ in TRACKS.values()],
            "title": [f"t{t}" for t in TRACKS],
        },
        index=pd.Index(list(TRACKS), name="track"),
    )
    return space, np.array(vectors, np.float32), tracks


@pytest.fixture
def world():
    space, vectors, tracks = make_space()
    return SpaceIndex.build(space, vectors), tracks


def seed_of(index: SpaceIndex, track: int, segment: int = 0) -> int:
    code = int(np.searchsorted(index.track_ids, track))
    return int(index.segment_ids[index.rows_of_track(code)][segment])


def test_radio001_each_next_moment_is_the_nearest_from_a_new_track(world):
    index, tracks = world
    seed = seed_of(index, 2)
    moments = radio(index, tracks, {}, [seed], Diversity(artist_gap=0, distinct_albums=False))
    played = [m.track for m in moments]
    assert len(played) == len(set(played)) == len(TRACKS) - 1  # every other track, once
    assert 2 not in played
    assert played[0] in (1, 3)  # the neighbours of x = 2
    # Each moment is the segment nearest the previous one among the tracks not played yet.
    previous = index.row_of(seed)
    done = {2}
    for moment in moments:
        row = index.row_of(moment.segment)
        candidates = [r for r in range(len(index)) if int(index.track[r]) not in done]
        distances = ((index.vectors[candidates] - index.vectors[previous]) ** 2).sum(axis=1)
        assert row == candidates[int(np.argmin(distances))]
        assert moment.track == int(index.track[row])
        assert moment.offset == pytest.approx(float(index.offset[row]))
        done.add(moment.track)
        previous = row


def test_radio002_no_same_artist_within_the_gap_and_no_album_twice(world):
    index, tracks = world
    moments = radio(index, tracks, {}, [seed_of(index, 0)], Diversity(artist_gap=3))
    chain = [0, *[m.track for m in moments]]
    artists = [TRACKS[t][0] for t in chain]
    for i, artist in enumerate(artists):
        assert artist not in artists[max(0, i - 3) : i]
    albums = [TRACKS[t][1] for t in chain if TRACKS[t][1]]
    assert len(albums) == len(set(albums))
    assert 1 not in chain  # Ann's other track, on the same album
    assert not {2, 5} <= set(chain)  # both on album "Two"


def test_radio003_exclusions_and_running_out(world):
    index, tracks = world
    tags = {3: frozenset({"noise"}), 4: frozenset({"jazz", "noise"})}
    rules = Diversity(artist_gap=0, distinct_albums=False, exclude_artists=frozenset({"Bob"}),
                      exclude_tags=frozenset({"noise"}))  # fmt: skip
    moments = radio(index, tracks, tags, [seed_of(index, 0)], rules, count=50)
    assert {m.track for m in moments} == {1, 5, 6, 7}  # 2 (Bob), 3 and 4 (noise) left out
    everyone = Diversity(exclude_artists=frozenset(a for a, _, _, _ in TRACKS.values()))
    with pytest.raises(RadioError, match="No other track fits"):
        radio(index, tracks, {}, [seed_of(index, 0)], everyone)


def test_radio004_a_seed_no_longer_in_the_tables_is_refused(world):
    index, tracks = world
    gone = int(segment_ids(np.array([99]), np.array([0.0]))[0])
    with pytest.raises(RadioError, match="no longer in the library"):
        radio(index, tracks, {}, [gone], Diversity())
    with pytest.raises(RadioError, match="Hover or click"):
        radio(index, tracks, {}, [], Diversity())


def test_radio005_the_radio_continues_a_chain_without_repeating_it(world):
    index, tracks = world
    rules = Diversity(artist_gap=0, distinct_albums=False)
    first = radio(index, tracks, {}, [seed_of(index, 0)], rules, count=3)
    chain = [seed_of(index, 0), *[m.segment for m in first]]
    rest = radio(index, tracks, {}, chain, rules, count=10)
    assert [m.track for m in first + rest] == [1, 2, 3, 4, 5, 6, 7]


def test_radio006_a_path_goes_from_start_to_end_evenly_without_repeats(world):
    index, tracks = world
    moments = path(index, tracks, {}, 0, 7, 5, Diversity(artist_gap=0, distinct_albums=False))
    route = [m.track for m in moments]
    assert route[0] == 0 and route[-1] == 7 and len(set(route)) == 5
    # Waypoints at x = 0, 1.75, 3.5, 5.25, 7: the nearest tracks in between.
    assert route == [0, 2, 3, 5, 7] or route == [0, 2, 4, 5, 7]
    xs = [TRACKS[t][2] for t in route]
    assert xs == sorted(xs)


def test_radio007_a_path_honours_the_rules_between_start_and_end(world):
    index, tracks = world
    rules = Diversity(
        artist_gap=0, distinct_albums=False, exclude_artists=frozenset({"Cat", "Ann"})
    )
    route = [m.track for m in path(index, tracks, {}, 0, 7, 6, rules)]
    assert route[0] == 0  # the start is chosen by the user: exempt from the exclusions
    assert 3 not in route and 1 not in route


@pytest.mark.parametrize(
    ("start", "end", "steps", "message"),
    [
        (2, 2, 5, "same track"),
        (0, 7, 9, "Only 8 tracks"),
        (0, 99, 3, "no longer in the library"),
        (0, 7, 1, "2 to"),
    ],
)
def test_radio008_impossible_paths_are_refused_with_a_reason(world, start, end, steps, message):
    index, tracks = world
    with pytest.raises(RadioError, match=message):
        path(index, tracks, {}, start, end, steps, Diversity(artist_gap=0, distinct_albums=False))


