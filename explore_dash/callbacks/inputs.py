"""What a callback accepts: each input checked and given its type before any work is done.

The page only ever sends well-formed values; anything else (a stale page after an upgrade, a
hand-made request) is answered with "no update" (HTTP 204) instead of an error, and a request
that is not a callback call at all with 400 (:mod:`.request_guard`). The stores come back as
the typed values of :mod:`.stores`, the panels' and the Music card's controls as those of
:mod:`explore_dash.maps.settings` and :class:`MusicSelection`.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Collection
from dataclasses import astuple, dataclass

from dash.exceptions import PreventUpdate

from explore_dash import ids
from explore_dash.callbacks.stores import Chain, ChainItem, LastSegment, Selection
from explore_dash.data.colouring import COLOUR_BY, NONE
from explore_dash.data.options import ARCHITECTURES, DATASETS, LAYER_LABELS, PROJECTION_LABELS
from explore_dash.data.snapshot import Snapshot
from explore_dash.data.windows import SEGMENT_LENGTHS
from explore_dash.layouts.sidebar import REDUCTION_MAX
from explore_dash.listening.radio import MAX_PATH_STEPS
from explore_dash.maps.settings import MapLook, PanelSettings

#: More items than any control of the page holds (a 1M-segment selection's tracks included);
#: the bound of a list the collection does not bound (:class:`PageBounds` bounds the rest).
MAX_ITEMS = 1_000_000
MAX_TEXT = 1_000
#: The largest id (a segment's, a track's) or count (clicks, the tables' version) the page
#: sends: its numbers are JavaScript's doubles, exact up to 2**53, and segment ids stay below
#: it by construction (extraction/contract.py, SEGMENT_ID_STRIDE).
MAX_ID = 2**53
#: The largest panel number.
LAST_PANEL = len(ids.PANELS) - 1


class InvalidInput(PreventUpdate):
    """A callback input the page would never send: the callback answers with no update."""


@dataclass(frozen=True)
class PageBounds:
    """The most items the page can send of each kind, for one version of the tables.

    A longer list is no playlist or selection of this collection but a forged one, refused
    before any work: lists of a million ids cost seconds of CPU and hundreds of MB.

    Attributes
    ----------
    tracks : int
        Playable tracks: a playlist, its moments, highlighted tracks (each track once).
    segments : int
        Rows of the largest segment table: a selection.
    choices : int
        Options of a multi-select: artists, albums (at most one a track) or tags.
    moments : int
        A radio's or a path's moments: one per track and the seed, or a path's steps.
    """

    tracks: int
    segments: int
    choices: int
    moments: int


_bounds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_bounds_lock = threading.Lock()


def page_bounds(snapshot: Snapshot) -> PageBounds:
    """:class:`PageBounds` of ``snapshot``, worked out once per version of the tables."""
    with _bounds_lock:
        bounds = _bounds.get(snapshot)
    if bounds is None:
        tracks = len(snapshot.tracks)
        bounds = PageBounds(
            tracks=tracks,
            segments=snapshot.collection.largest_space(),
            choices=max(tracks, len(snapshot.tags)),
            moments=max(tracks + 1, MAX_PATH_STEPS),
        )
        with _bounds_lock:
            _bounds[snapshot] = bounds
    return bounds


def text(value: object, *, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidInput(f"expected a short text, got {type(value).__name__}")
    return value


def choice(value: object, allowed: Collection[str], *, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(f"{value!r} is not one of {sorted(allowed)}")
    return value


def texts(value: object, most: int = MAX_ITEMS) -> list[str]:
    """A multi-select's values: a list of at most ``most`` texts (None: nothing chosen)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > most:
        raise InvalidInput("expected a list of texts")
    if not all(isinstance(item, str) and len(item) <= MAX_TEXT for item in value):
        raise InvalidInput("expected a list of texts")
    return value


def whole(value: object, low: int, high: int, *, default: int | None = None) -> int:
    """An integer in [low, high]; floats with no fraction (as JSON may carry them) too."""
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"expected a whole number, got {type(value).__name__}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise InvalidInput(f"expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidInput(f"{value} is not between {low} and {high}")
    return int(value)


def wholes(value: object, low: int = 0, high: int = MAX_ID, *, most: int = MAX_ITEMS,
           distinct: bool = False) -> list[int]:  # fmt: skip
    """A list of at most ``most`` ids (tracks, segments); ``distinct``: each id once."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > most:
        raise InvalidInput(f"expected a list of at most {most} ids")
    checked = [whole(item, low, high) for item in value]
    if distinct and len(set(checked)) != len(checked):
        raise InvalidInput("expected each id once")
    return checked


def track_ids(value: object, bounds: PageBounds) -> list[int]:
    """A playlist or highlighted tracks: each of the collection's tracks at most once."""
    return wholes(value, most=bounds.tracks, distinct=True)


def mapping(value: object, *, optional: bool = True) -> dict | None:
    if value is None and optional:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(f"expected an object, got {type(value).__name__}")
    return value


def flag(value: object) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"expected true or false, got {type(value).__name__}")
    return value


def each(values: object, check) -> list:
    """``check`` applied to every item of a pattern-matching (ALL) input's list."""
    if not isinstance(values, list) or len(values) > MAX_ITEMS:
        raise InvalidInput("expected one value per panel")
    return [check(value) for value in values]


def selection(value: object, bounds: PageBounds) -> list[int]:
    """The selected segment ids of the selection store (``{"ids": [...], "source": panel}``)."""
    store = mapping(value)
    return wholes((store or {}).get("ids"), most=bounds.segments)


def seconds(value: object) -> float:
    """A time in a track: a finite number of seconds, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("expected a number of seconds")
    if value < 0:
        raise InvalidInput(f"{value} is negative")
    return float(value)


def starts(value: object, bounds: PageBounds) -> dict[int, float]:
    """The playlist's moments store: ``{"<track id>": seconds}``, one entry a track at most."""
    store = mapping(value) or {}
    if len(store) > bounds.tracks:
        raise InvalidInput("too many entries")
    result = {}
    for key, start in store.items():
        if not isinstance(key, str) or not key.isdigit():
            raise InvalidInput("expected track ids as keys")
        result[int(key)] = seconds(start)
    return result


def picked(value: object, bounds: PageBounds) -> Selection:
    """The selection store as a :class:`.stores.Selection`: its ids, and the panel they are of."""
    store = mapping(value) or {}
    return Selection(selection(store, bounds),
                     whole(store.get("source", 0), 0, LAST_PANEL, default=0))  # fmt: skip


def last_segment(value: object) -> LastSegment | None:
    """The segment last hovered or clicked (``LAST_SEGMENT``); None before any."""
    store = mapping(value)
    if store is None:
        return None
    return LastSegment(whole(store.get("segment"), 0, MAX_ID),
                       whole(store.get("panel"), 0, LAST_PANEL))  # fmt: skip


def chain(value: object, bounds: PageBounds) -> Chain | None:
    """The chain store as a :class:`.stores.Chain`, its items checked (notes are not read)."""
    store = mapping(value)
    if store is None:
        return None
    items = store.get("items")
    if not isinstance(items, list) or len(items) > bounds.moments:
        raise InvalidInput("expected the chain's items")
    checked = []
    for item in items:
        item = mapping(item, optional=False)
        checked.append(ChainItem(whole(item.get("segment"), 0, MAX_ID),
                                 whole(item.get("track"), 0, MAX_ID),
                                 seconds(item.get("offset")), text(item.get("title"))))  # fmt: skip
    return Chain(
        id=text(store.get("id")),
        kind=text(store.get("kind")),
        panel=whole(store.get("panel", 0), 0, LAST_PANEL, default=0),
        model=text(store.get("model")),
        layer=text(store.get("layer")),
        items=tuple(checked),
        ended=flag(store.get("ended")),
    )


# -- the controls of the panels and of the Music and Highlight cards ------------------------------


@dataclass(frozen=True)
class MusicSelection:
    """The Music card: which segments the maps show.

    Attributes
    ----------
    artists, tags : list of str
        The artists and tags chosen; none chosen: all.
    every_n : int
        Every n-th segment of each track (the thinning slider).
    window : int
        Segments per point: 1, a window of several, or ``WHOLE_TRACK``.
    """

    artists: list[str]
    tags: list[str]
    every_n: int = 1
    window: int = 1


def music(bounds: PageBounds, artists, tags, every_n, window) -> MusicSelection:
    """The Music card's four controls, checked."""
    return MusicSelection(
        texts(artists, bounds.choices),
        texts(tags, bounds.choices),
        whole(every_n, 1, REDUCTION_MAX, default=1),
        int(choice(window, SEGMENT_LENGTHS, default="1")),
    )


def panel_settings(architecture, dataset, layer, projection) -> PanelSettings:
    """A panel's four menus, checked."""
    return PanelSettings(
        choice(architecture, ARCHITECTURES),
        choice(dataset, DATASETS),
        choice(layer, LAYER_LABELS),
        choice(projection, PROJECTION_LABELS),
    )


def every_panel_settings(architecture, dataset, layer, projection) -> list[PanelSettings]:
    """Each panel's settings, from the ALL-panel lists of its four menus."""
    columns = [each(values, lambda v: v) for values in (architecture, dataset, layer, projection)]
    return list(map(panel_settings, *columns))


def map_look(colour_by, trajectories, captions) -> MapLook:
    """Colour by, trajectories and captions, checked."""
    return MapLook(choice(colour_by, COLOUR_BY, default=NONE), flag(trajectories), flag(captions))


def highlight(bounds: PageBounds, artists, albums, tracks, tags) -> tuple:
    """The Highlight card's (artists, albums, tracks, tags), checked."""
    return (texts(artists, bounds.choices), texts(albums, bounds.choices),
            track_ids(tracks, bounds), texts(tags, bounds.choices))  # fmt: skip


def panel_job(bounds: PageBounds, job) -> dict | None:
    """A panel's job store (:func:`.panels.map_job`) with every field checked; None: no job.

    The store comes back from the page, so a hand-made one must end as no update, not as an
    error inside the background job.
    """
    job = mapping(job)
    if not job:
        return None
    settings, look = job.get("settings"), job.get("look")
    if not (isinstance(settings, list) and len(settings) == 4):
        raise InvalidInput("expected a panel's four settings")
    if not (isinstance(look, list) and len(look) == 3):
        raise InvalidInput("expected a map's look")
    chosen = music(bounds, job.get("artists"), job.get("tags"), job.get("every_n"),
                   str(job.get("window", 1)))  # fmt: skip
    checked = {
        "request": text(job.get("request")),
        "settings": list(astuple(panel_settings(*settings))),
        "artists": chosen.artists,
        "tags": chosen.tags,
        "every_n": chosen.every_n,
        "window": chosen.window,
        "look": map_look(*look).as_job(),
    }
    return {**checked, "fresh": True} if flag(job.get("fresh")) else checked
