"""Radio from a moment and a path between two tracks, at the level of segments.

Both walk a :class:`~explore_dash.data.neighbours.SpaceIndex` (the full-dimensional vectors of one
space) and return a chain of moments: each a segment, so each item starts where the music is
like its neighbours, not at the top of a track. The diversity rules (:class:`Diversity`) apply to
both: no track twice, no artist again within the last ``artist_gap`` tracks, no album twice, and
excluded artists and tags.

Only "no track twice" and the exclusions are walls. The artist and album rules are preferences:
where no track left fits them (a small library has few albums and artists), the radio relaxes
them step by step (:func:`relaxed_rules`) and marks the moment so, rather than ending after a
few tracks; a path asked for more steps than tracks it may visit takes as many as there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from explore_dash.data.neighbours import SpaceIndex

#: The kind of a chain, as the page's chain store and its code (assets/explore-flow.js) name it.
RADIO = "radio"
PATH = "path"
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
    #: The variety rules this moment did without ("" when it fits them all): see
    #: :func:`relaxed_rules`.
    relaxed: str = ""


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

    def allowed(
        self, chain_codes: Sequence[int], artist_gap: int | None = None,
        distinct_albums: bool | None = None,
    ) -> np.ndarray:  # fmt: skip
        """Tracks that may come after the tracks ``chain_codes`` (positions in track_ids).

        ``artist_gap`` and ``distinct_albums`` replace the diversity's own (a relaxed step).
        """
        gap = self.diversity.artist_gap if artist_gap is None else artist_gap
        albums = self.diversity.distinct_albums if distinct_albums is None else distinct_albums
        allowed = self.eligible.copy()
        if not chain_codes:
            return allowed
        codes = np.asarray(chain_codes, np.int64)
        allowed[codes] = False
        if gap > 0:
            recent = {a for a in self.artists[codes[-gap:]] if a}
            if recent:
                allowed &= ~np.isin(self.artists, list(recent))
        if albums:
            used = {a for a in self.albums[codes] if a}
            if used:
                allowed &= ~np.isin(self.albums, list(used))
        return allowed

    def allowed_relaxed(
        self, chain_codes: Sequence[int], barred: int = -1
    ) -> tuple[np.ndarray, str]:
        """The tracks of the first step of :func:`relaxed_rules` that leaves any, and its name.

        ``barred`` (a position in track_ids, -1 for none) is never allowed: a path's end. All
        False (and "") when every eligible track is in the chain.
        """
        allowed = np.zeros_like(self.eligible)
        for gap, albums, relaxed in relaxed_rules(self.diversity):
            allowed = self.allowed(chain_codes, gap, albums)
            if barred >= 0:
                allowed[barred] = False
            if allowed.any():
                return allowed, relaxed
        return allowed, ""

    def code_of_track(self, track: int) -> int:
        position = int(np.searchsorted(self.index.track_ids, track))
        if position < len(self.index.track_ids) and self.index.track_ids[position] == track:
            return position
        return -1


def relaxed_rules(diversity: Diversity) -> list[tuple[int, bool, str]]:
    """The variety rules from the strictest to none: (artist gap, no album twice, what is relaxed).

    The rules as set first; then an album may come again; then the same artist sooner, one
    track less apart at a time, down to "no track twice" alone. Albums go first: a small
    library has fewer albums than artists, and an album again is the smaller surprise.
    """
    gap, albums = diversity.artist_gap, diversity.distinct_albums
    steps = [(gap, albums, "")]
    album_note = "an album again" if albums else ""
    if albums:
        steps.append((gap, False, album_note))
    for shorter in range(gap - 1, -1, -1):
        artist_note = (
            "the same artist twice in a row" if shorter == 0
            else f"the same artist {shorter + 1} tracks apart"
        )  # fmt: skip
        steps.append((shorter, False, " and ".join(n for n in (album_note, artist_note) if n)))
    return steps


def _moment(index: SpaceIndex, row: int, relaxed: str = "") -> Moment:
    return Moment(
        int(index.segment_ids[row]), int(index.track[row]), float(index.offset[row]), relaxed
    )


def radio(
    index: SpaceIndex,
    tracks: pd.DataFrame,
    tags_by_track: Mapping[int, frozenset[str]],
    chain: Sequence[int],
    diversity: Diversity,
    count: int = RADIO_BATCH,
) -> list[Moment]:
    """The next ``count`` moments after ``chain`` (segment ids, the seed first).

    Each next moment is the segment nearest the previous one among the tracks the rules allow,
    relaxed (:func:`relaxed_rules`, the moment's ``relaxed`` saying how) when no track fits
    them all; the radio ends (fewer moments, possibly none) only when every track it may play
    (not left out) is in the chain.

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
    if len(chain) == 1 and not rules.allowed_relaxed(codes)[0].any():
        raise RadioError(
            "No other track fits the radio's settings: leave out fewer artists or tags."
        )
    moments = []
    last = rows[-1]
    for _ in range(count):
        allowed, relaxed = rules.allowed_relaxed(codes)
        row = index.nearest_row(np.asarray(index.vectors[last]), allowed)
        if row < 0:
            break
        moments.append(_moment(index, row, relaxed))
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
    """``steps`` moments moving evenly from track ``start`` to track ``end``, or fewer.

    A path asked for more steps than the tracks it may visit (all but those left out) takes
    one step a track: fewer moments than ``steps``, which the caller tells the user.

    Waypoints are evenly spaced on the line between the two tracks' centroids; step ``i`` is the
    allowed track whose centroid is nearest waypoint ``i`` (start and end are fixed, and exempt
    from the exclusions: the user chose them), at its segment nearest the waypoint. No track
    twice, the diversity rules between consecutive steps relaxed as in the radio.

    Raises
    ------
    RadioError
        Start equals end, or a track is not in the space: no path at all.
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
    steps = min(steps, int(between.sum()) + 2)
    a, b = index.centroids[first].astype(np.float64), index.centroids[last].astype(np.float64)
    waypoints = [(a + (b - a) * (i / (steps - 1))).astype(np.float32) for i in range(steps)]
    codes = [first]
    notes = [""]
    for waypoint in waypoints[1:-1]:
        allowed, relaxed = rules.allowed_relaxed(codes, barred=last)
        codes.append(index.nearest_track(waypoint, allowed))
        notes.append(relaxed)
    codes.append(last)
    notes.append("")
    moments = []
    for code, waypoint, relaxed in zip(codes, waypoints, notes, strict=True):
        rows = index.rows_of_track(code)
        distances = index.distances(waypoint)[rows]
        moments.append(_moment(index, int(rows[np.argmin(distances)]), relaxed))
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
