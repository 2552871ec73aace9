"""Radio from a moment and a path between two tracks, at the level of segments.

Both walk a :class:`~explore_dash.neighbours.SpaceIndex` (the full-dimensional vectors of one
space) and return a chain of moments: each a segment, so each item starts where the music is
like its neighbours, not at the top of a track. The diversity rules (:class:`Diversity`) apply to
both: no track twice, no artist again within the last ``artist_gap`` tracks, no album twice, and
excluded artists and tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explore_dash.neighbours import SpaceIndex

#: Moments added per request: the first batch when the radio starts, then one more each time
#: the player reaches the end of the chain.
RADIO_BATCH = 10
DEFAULT_PATH_STEPS = 12
MAX_PATH_STEPS = 100
DEFAULT_ARTIST_GAP = 3


class RadioError(ValueError):
    """A radio or path that cannot be made; the message is for the page."""


@dataclass(frozen=True)
class Diversity:
    """What a chain may not repeat or contain.

    Attributes
    ----------
    artist_gap : int
        No artist again within this many previous tracks (0: no rule). Untagged artists count
        as different artists.
    distinct_albums : bool
        No album twice in the chain (untagged albums never clash).
    exclude_artists, exclude_tags : frozenset of str
        Tracks by these artists, or with any of these tags (lowercase), are never chosen.
    """

    artist_gap: int = DEFAULT_ARTIST_GAP
    distinct_albums: bool = True
    exclude_artists: frozenset[str] = field(default_factory=frozenset)
    exclude_tags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Moment:
    """One chain item: a segment, its track and its start in seconds."""

    segment: int
    track: int
    offset: float


def _column(tracks: pd.DataFrame, track_ids: np.ndarray, name: str) -> np.ndarray:
    return tracks[name].reindex(track_ids).fillna("").to_numpy(dtype=object)


class _Rules:
    """The diversity rules over one index's tracks, as boolean masks indexed like ``track_ids``."""

    def __init__(
        self,
        index: SpaceIndex,
        tracks: pd.DataFrame,
        tags_by_track: Mapping[int, frozenset[str]],
        diversity: Diversity,
    ) -> None:
        self.index = index
        self.diversity = diversity
        ids = index.track_ids
        self.artists = _column(tracks, ids, "artist")
        self.albums = _column(tracks, ids, "album")
        playable = np.isin(ids, tracks.index.to_numpy())
        excluded_artist = np.isin(self.artists, list(diversity.exclude_artists))
        excluded_tag = np.array(
            [bool(tags_by_track.get(int(t), frozenset()) & diversity.exclude_tags) for t in ids],
            dtype=bool,
        )
        self.eligible = playable & ~excluded_artist & ~excluded_tag

    def allowed(self, chain_codes: Sequence[int]) -> np.ndarray:
        """Tracks that may come after the tracks ``chain_codes`` (positions in track_ids)."""
        allowed = self.eligible.copy()
        if not chain_codes:
            return allowed
        codes = np.asarray(chain_codes, np.int64)
        allowed[codes] = False
        gap = self.diversity.artist_gap
        if gap > 0:
            recent = {a for a in self.artists[codes[-gap:]] if a}
            if recent:
                allowed &= ~np.isin(self.artists, list(recent))
        if self.diversity.distinct_albums:
            used = {a for a in self.albums[codes] if a}
            if used:
                allowed &= ~np.isin(self.albums, list(used))
        return allowed

    def code_of_track(self, track: int) -> int:
        position = int(np.searchsorted(self.index.track_ids, track))
        if position < len(self.index.track_ids) and self.index.track_ids[position] == track:
            return position
        return -1


def _moment(index: SpaceIndex, row: int) -> Moment:
    return Moment(int(index.segment_ids[row]), int(index.track[row]), float(index.offset[row]))


def radio(
    index: SpaceIndex,
    tracks: pd.DataFrame,
    tags_by_track: Mapping[int, frozenset[str]],
    chain: Sequence[int],
    diversity: Diversity,
    count: int = RADIO_BATCH,
) -> list[Moment]:
    """The next ``count`` moments after ``chain`` (segment ids, the seed first).

    Each next moment is the segment nearest the previous one among the tracks the rules allow;
    the radio ends early (fewer moments, possibly none) when no track is left.

    Raises
    ------
    RadioError
        The seed (the chain's first segment) is not in the space any more, or the rules leave
        no track at all for a radio to start.
    """
    if not chain:
        raise RadioError("Hover or click a segment first: the radio starts from it.")
    rows = [index.row_of(int(s)) for s in chain]
    if rows[-1] < 0 or rows[0] < 0:
        raise RadioError(
            "That moment is no longer in the library (a rescan removed its track): "
            "hover another one and start the radio again."
        )
    rules = _Rules(index, tracks, tags_by_track, diversity)
    codes = [int(index.track_code[r]) for r in rows if r >= 0]
    if len(chain) == 1 and not rules.allowed(codes).any():
        raise RadioError(
            "No other track fits the radio's settings: allow more artists, albums or tags."
        )
    moments = []
    last = rows[-1]
    for _ in range(count):
        row = index.nearest_row(np.asarray(index.vectors[last]), rules.allowed(codes))
        if row < 0:
            break
        moments.append(_moment(index, row))
        codes.append(int(index.track_code[row]))
        last = row
    return moments


def path(
    index: SpaceIndex,
    tracks: pd.DataFrame,
    tags_by_track: Mapping[int, frozenset[str]],
    start: int,
    end: int,
    steps: int,
    diversity: Diversity,
) -> list[Moment]:
    """``steps`` moments moving evenly from track ``start`` to track ``end``.

    Waypoints are evenly spaced on the line between the two tracks' centroids; step ``i`` is the
    allowed track whose centroid is nearest waypoint ``i`` (start and end are fixed, and exempt
    from the exclusions: the user chose them), at its segment nearest the waypoint. No track
    twice, the diversity rules between consecutive steps as in the radio.

    Raises
    ------
    RadioError
        Start equals end, a track is not in the space, fewer tracks are allowed than steps.
    """
    if not 2 <= steps <= MAX_PATH_STEPS:
        raise RadioError(f"A path has 2 to {MAX_PATH_STEPS} steps.")
    if start == end:
        raise RadioError("The start and the end are the same track: pick two different ones.")
    rules = _Rules(index, tracks, tags_by_track, diversity)
    first, last = rules.code_of_track(start), rules.code_of_track(end)
    if first < 0 or last < 0:
        raise RadioError(
            "The start or end track is no longer in the library (a rescan removed it): pick "
            "another."
        )
    between = rules.eligible.copy()
    between[[first, last]] = False
    room = int(between.sum()) + 2
    if room < steps:
        raise RadioError(
            f"Only {room} tracks can be on this path with these settings: ask for at most "
            f"{room} steps, or allow more artists, albums or tags."
        )
    a, b = index.centroids[first].astype(np.float64), index.centroids[last].astype(np.float64)
    waypoints = [(a + (b - a) * (i / (steps - 1))).astype(np.float32) for i in range(steps)]
    codes = [first]
    for waypoint in waypoints[1:-1]:
        allowed = rules.allowed(codes)
        allowed[last] = False
        code = index.nearest_track(waypoint, allowed)
        if code < 0:  # the album and artist rules ran out of tracks: relax them, not the count
            allowed = between.copy()
            allowed[codes] = False
            code = index.nearest_track(waypoint, allowed)
        codes.append(code)
    codes.append(last)
    moments = []
    for code, waypoint in zip(codes, waypoints, strict=True):
        rows = index.rows_of_track(code)
        distances = index.distances(waypoint)[rows]
        moments.append(_moment(index, int(rows[np.argmin(distances)])))
    return moments


def diversity_from(
    artist_gap: int, distinct_albums: bool, artists: Sequence[str], tags: Sequence[str]
) -> Diversity:
    return Diversity(
        artist_gap=max(0, int(artist_gap)),
        distinct_albums=bool(distinct_albums),
        exclude_artists=frozenset(artists),
        exclude_tags=frozenset(t.lower() for t in tags),
    )
