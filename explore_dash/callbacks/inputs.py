"""What a callback accepts: each input checked and given its type before any work is done.

The page only ever sends well-formed values; anything else (a stale page after an upgrade, a
hand-made request) is answered with "no update" (HTTP 204) instead of an error, and a request
that is not a callback call at all with 400 (:func:`guard_callback_requests`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping

import flask
from dash import Dash
from dash.exceptions import PreventUpdate

#: More items than any control of the page holds (a 1M-segment selection's tracks included).
MAX_ITEMS = 1_000_000
MAX_TEXT = 1_000


class InvalidInput(PreventUpdate):
    """A callback input the page would never send: the callback answers with no update."""


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


def texts(value: object) -> list[str]:
    """A multi-select's values: a list of texts (None: nothing chosen)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
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


def wholes(value: object, low: int = 0, high: int = 2**53) -> list[int]:
    """A list of ids (tracks, segments)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise InvalidInput("expected a list of ids")
    return [whole(item, low, high) for item in value]


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


def selection(value: object) -> list[int]:
    """The selected segment ids of the selection store (``{"ids": [...], "source": panel}``)."""
    store = mapping(value)
    return wholes((store or {}).get("ids"))


def seconds(value: object) -> float:
    """A time in a track: a finite number of seconds, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("expected a number of seconds")
    if value < 0:
        raise InvalidInput(f"{value} is negative")
    return float(value)


def starts(value: object) -> dict[int, float]:
    """The playlist's moments store: ``{"<track id>": seconds}``."""
    store = mapping(value) or {}
    if len(store) > MAX_ITEMS:
        raise InvalidInput("too many entries")
    result = {}
    for key, start in store.items():
        if not isinstance(key, str) or not key.isdigit():
            raise InvalidInput("expected track ids as keys")
        result[int(key)] = seconds(start)
    return result


def chain(value: object) -> dict | None:
    """The chain store (:mod:`explore_dash.callbacks.flow`), its items checked."""
    store = mapping(value)
    if store is None:
        return None
    items = store.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
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


def callback_request_problem(body: object, callbacks: Mapping[str, dict]) -> str | None:
    """Why ``body`` is not a call of one of ``callbacks`` (Dash's callback map), or None.

    Each of the callback's inputs and states must be there, in its shape (one entry, or a list
    for a pattern-matching one): Dash indexes them by position.
    """
    if not isinstance(body, dict):
        return "the request is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return "no such callback"
    if "inputs" not in body or not isinstance(body.get("outputs"), dict | list):
        return "inputs and outputs are required"
    # "..a.x...b.y.." names several outputs, sent as a list; "a.x" one, sent alone; a bare hash
    # none (a list of none).
    several, single = output.startswith(".."), "." in output
    outputs = body["outputs"] if several or not single else [body["outputs"]]
    expected = output.count("...") + 1 if several else int(single)
    if not isinstance(outputs, list) or len(outputs) != expected:
        return "the outputs do not match the callback's"
    for field, entries in (("outputs", outputs), ("inputs", body["inputs"]),
                           ("state", body.get("state", []))):  # fmt: skip
        if not isinstance(entries, list):
            return f"{field} is not a list"
        if field != "outputs" and len(entries) != len(callbacks[output].get(field, ())):
            return f"the callback takes {len(callbacks[output].get(field, ()))} {field}"
        for entry in entries:
            items = entry if isinstance(entry, list) else [entry]
            if not all(isinstance(item, dict) and "id" in item and isinstance(
                    item.get("property"), str) for item in items):  # fmt: skip
                return f"malformed {field}"
    if not isinstance(body.get("changedPropIds", []), list):
        return "malformed changedPropIds"
    return None


def guard_callback_requests(app: Dash) -> None:
    """Answer 400 to callback requests Dash itself would fail on (500) before any callback ran."""

    @app.server.before_request
    def refuse_malformed():
        if flask.request.path != app.config.requests_pathname_prefix.rstrip("/") + CALLBACK_ROUTE:
            return None
        try:
            body = json.loads(flask.request.get_data(cache=True) or b"null")
        except (ValueError, UnicodeDecodeError):
            return flask.Response("not JSON", status=400, mimetype="text/plain")
        problem = callback_request_problem(body, app.callback_map)
        if problem:
            return flask.Response(problem, status=400, mimetype="text/plain")
        flask.g.callback_body = body  # parsed once per request (explore_dash/yielding.py reads it)
        return None
