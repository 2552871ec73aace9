"""What a callback accepts: each input checked and given its type before any work is done.

The page only ever sends well-formed values; anything else (a stale page after an upgrade, a
hand-made request) is answered with "no update" (HTTP 204) instead of an error, and a request
that is not a callback call at all with 400 (:func:`guard_callback_requests`).
"""

from __future__ import annotations

import json
import math
import threading
import weakref
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import flask
from dash import Dash
from dash.exceptions import DependencyException, PreventUpdate

from explore_dash.data.snapshot import Snapshot
from explore_dash.listening.radio import MAX_PATH_STEPS

#: More items than any control of the page holds (a 1M-segment selection's tracks included);
#: the bound of a list the collection does not bound (:class:`PageBounds` bounds the rest).
MAX_ITEMS = 1_000_000
MAX_TEXT = 1_000


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


def wholes(value: object, low: int = 0, high: int = 2**53, *, most: int = MAX_ITEMS,
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


def chain(value: object, bounds: PageBounds) -> dict | None:
    """The chain store (:mod:`explore_dash.callbacks.flow`), its items checked."""
    store = mapping(value)
    if store is None:
        return None
    items = store.get("items")
    if not isinstance(items, list) or len(items) > bounds.moments:
        raise InvalidInput("expected the chain's items")
    checked = []
    for item in items:
        item = mapping(item, optional=False)
        checked.append(
            {
                "segment": whole(item.get("segment"), 0, 2**53),
                "track": whole(item.get("track"), 0, 2**53),
                "offset": seconds(item.get("offset")),
                "title": text(item.get("title")),
            }
        )
    return {
        "id": text(store.get("id")),
        "kind": text(store.get("kind")),
        "panel": whole(store.get("panel", 0), 0, 1, default=0),
        "model": text(store.get("model")),
        "layer": text(store.get("layer")),
        "items": checked,
        "ended": flag(store.get("ended")),
    }


# -- requests that are not callback calls ---------------------------------------------------------

CALLBACK_ROUTE = "/_dash-update-component"
#: Deeper than any body the page sends (a chain's item sits 7 levels down). Deeper ones are
#: refused before Dash or a callback walks them: Python's recursion limit made them 500s.
MAX_DEPTH = 32
#: A callback body's size: room for every small input, plus one segment id (16 digits and a
#: comma, with room to spare) per segment of the collection, for a selection of all of it.
BODY_BYTES = 1 << 20
BYTES_PER_SEGMENT = 24
_PATTERN_LISTS = ("ALL", "ALLSMALLER")  # wildcards that match a list of components


def max_body_bytes(segments: int) -> int:
    """The largest callback body the page can send for a collection of ``segments`` segments."""
    return BODY_BYTES + BYTES_PER_SEGMENT * segments


def nesting_depth(value: object, limit: int = MAX_DEPTH) -> int:
    """How deep lists and objects nest in ``value``, counted no further than ``limit + 1``.

    A loop with a stack of containers only, not recursion, so a hostile depth cannot exhaust
    Python's stack and a long flat list costs one pass.
    """
    if not isinstance(value, dict | list):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _spec_id(text: str) -> str | dict:
    """A callback map's component id: a plain id, or a pattern-matching one as a dict."""
    return json.loads(text) if text.startswith("{") else text


def matches_many(spec_id: str | dict) -> bool:
    """Whether the id pattern names a list of components (ALL), not one."""
    return isinstance(spec_id, dict) and any(
        value in ([w] for w in _PATTERN_LISTS) for value in spec_id.values()
    )


def id_fits(given: object, spec_id: str | dict) -> bool:
    """Whether ``given`` (a request's component id) is one the callback's ``spec_id`` names."""
    if isinstance(spec_id, str):
        return given == spec_id
    if not isinstance(given, dict) or given.keys() != spec_id.keys():
        return False
    return all(
        isinstance(given[key], str | int | float | bool) if isinstance(want, list)
        else given[key] == want
        for key, want in spec_id.items()
    )  # fmt: skip


def prop_id(entry: dict) -> str:
    """``"<id>.<property>"`` as Dash's renderer writes it in ``changedPropIds``."""
    component = entry["id"]
    if isinstance(component, dict):
        component = "{" + ",".join(
            f"{json.dumps(key)}:{json.dumps(component[key])}" for key in sorted(component)
        ) + "}"
    return f"{component}.{entry['property']}"


def callback_specs(callback: dict) -> dict[str, list[dict]]:
    """The callback's outputs, inputs and states as ``{"id", "property"}`` specs, in order."""
    outputs = callback["output"] if isinstance(callback["output"], list) else [callback["output"]]
    return {
        # "figure@<hash>" marks allow_duplicate; the page sends the plain property.
        "outputs": [{**o.to_dict(), "property": o.component_property.split("@")[0]}
                    for o in outputs],
        "inputs": callback.get("inputs", []),
        "state": callback.get("state", []),
    }  # fmt: skip


def entry_problem(entry: object, spec: dict) -> bool:
    """Whether a request's entry is not the component(s) and property ``spec`` names."""
    spec_id = _spec_id(spec["id"])
    if matches_many(spec_id) != isinstance(entry, list):
        return True
    items = entry if isinstance(entry, list) else [entry]
    return len(items) > MAX_ITEMS or not all(
        isinstance(item, dict) and isinstance(item.get("property"), str)
        # The renderer may send an allow_duplicate output's "figure@<hash>"; Dash strips it.
        and item["property"].split("@")[0] == spec["property"]
        and id_fits(item.get("id"), spec_id) for item in items
    )  # fmt: skip


def callback_request_problem(body: object, callbacks: Mapping[str, dict]) -> str | None:
    """Why ``body`` is not a call of one of ``callbacks`` (Dash's callback map), or None.

    Each output, input and state must be there, in its order and shape (one entry, or a list
    for a pattern-matching ALL), and name the component and property the callback declares:
    Dash indexes them by position, and fails (a 500) on an output it does not own.
    """
    if not isinstance(body, dict):
        return "the request is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or "callback" not in callbacks.get(output, {}):
        return "no such callback"  # unknown, or one that runs in the browser
    if "inputs" not in body or not isinstance(body.get("outputs"), dict | list):
        return "inputs and outputs are required"
    callback = callbacks[output]
    several = isinstance(callback["output"], list)
    for field, specs in callback_specs(callback).items():
        entries = body.get(field, [])
        if field == "outputs" and not several:
            entries = [entries]
        if not isinstance(entries, list) or len(entries) != len(specs):
            return f"the callback takes {len(specs)} {field}"
        if any(entry_problem(entry, spec) for entry, spec in zip(entries, specs, strict=True)):
            return f"{field} do not match the callback's"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "malformed changedPropIds"
    return None


def unsent_trigger(body: dict) -> bool:
    """Whether ``changedPropIds`` names something other than the request's own inputs.

    The page only ever names inputs of the callback it calls; callbacks read the trigger to
    choose what to do, so a forged one is answered with no update, like any forged input.
    """
    entries = [item for entry in body["inputs"]
               for item in (entry if isinstance(entry, list) else [entry])]  # fmt: skip
    changed = body.get("changedPropIds", [])
    return len(changed) > len(entries) or not set(changed) <= {prop_id(e) for e in entries}


def guard_callback_requests(app: Dash, most_bytes: Callable[[], int]) -> None:
    """Answer 4xx to requests Dash itself would fail on (500) before any callback ran.

    ``most_bytes()`` is the largest callback body the page can send now
    (:func:`max_body_bytes`); a larger one gets 413 before it is read.
    """

    @app.server.before_request
    def refuse_malformed():
        if flask.request.path != app.config.requests_pathname_prefix.rstrip("/") + CALLBACK_ROUTE:
            return None
        if (flask.request.content_length or 0) > most_bytes():
            return flask.Response("request too large", status=413, mimetype="text/plain")
        try:
            body = json.loads(flask.request.get_data(cache=True) or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return flask.Response("not JSON", status=400, mimetype="text/plain")
        if nesting_depth(body) > MAX_DEPTH:
            return flask.Response("nested too deep", status=400, mimetype="text/plain")
        problem = callback_request_problem(body, app.callback_map)
        if problem:
            return flask.Response(problem, status=400, mimetype="text/plain")
        if unsent_trigger(body):
            return flask.Response(status=204)  # no update, as Dash answers PreventUpdate
        flask.g.callback_body = body  # parsed once per request (maps/yielding.py reads it)
        return None

    @app.server.errorhandler(DependencyException)
    def unknown_component_suite(_error):
        # Dash raises this for a /_dash-component-suites/ path it does not serve: not found.
        return flask.Response("not found", status=404, mimetype="text/plain")
