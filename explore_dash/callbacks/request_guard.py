"""Which requests reach a callback at all: a body Dash itself would fail on (a 500) gets a 4xx
before any callback runs, a forged trigger gets no update (what a callback then accepts, value by
value, is :mod:`.inputs`'s)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import flask
from dash import Dash
from dash.exceptions import DependencyException

from explore_dash.callbacks.inputs import MAX_ITEMS

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
