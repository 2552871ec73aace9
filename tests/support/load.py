"""Concurrent clients against the real app server on loopback: hover audio and selection callbacks.

Each client loops for a fixed time, picking at random: an ``/audio/<id>`` byte-range request
(what hovering a point does) or the linked-selection callback (``/_dash-update-component``),
over its own connections, and records every latency and every failure. Used by
tests/unit/test_server.py and by ``benchmarks/server_load.py``; also builds the JSON bodies
dash-renderer posts, for tests that drive callbacks over HTTP.
"""

from __future__ import annotations

import http.client
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from dash import Dash
from werkzeug.serving import make_server

from explore_dash.server.app import BuiltApp
from extraction.contract import library_file_path

Request = tuple[str, str, str, dict[str, str], bytes | None]
"""(kind, method, path, headers, body)."""


# -- Dash callback requests ----------------------------------------------------------------------
def _concrete_ids(id_text: str, panels: tuple[int, ...]) -> list | dict | str:
    """A callback spec's component id with wildcards filled: MATCH -> first panel, ALL -> all."""
    if not id_text.startswith("{"):
        return id_text
    spec = json.loads(id_text)
    wildcard = next((k for k, v in spec.items() if isinstance(v, list)), None)
    if wildcard is None:
        return spec
    if spec[wildcard] == ["MATCH"]:
        return {**spec, wildcard: panels[0]}
    return [{**spec, wildcard: panel} for panel in panels]


def _entries(
    specs: list[dict], value: Callable[[object, str], object], panels: tuple[int, ...]
) -> list:
    entries = []
    for spec in specs:
        ids = _concrete_ids(spec["id"], panels)
        prop = spec["property"]
        if isinstance(ids, list):
            entries.append([{"id": i, "property": prop, "value": value(i, prop)} for i in ids])
        else:
            entries.append({"id": ids, "property": prop, "value": value(ids, prop)})
    return entries


def _output_specs(output_key: str) -> list[dict]:
    """``"..a.x...b.y.."`` or ``"a.x"`` (``@hash`` marks allow_duplicate) -> id/property specs."""
    multi = output_key.startswith("..")
    parts = output_key[2:-2].split("...") if multi else [output_key]
    specs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        specs.append({"id": component, "property": prop.split("@")[0]})
    return specs


def callback_body(
    app: Dash,
    output_key: str,
    value: Callable[[object, str], object],
    panels: tuple[int, ...] = (0, 1),
) -> dict:
    """The JSON body dash-renderer would POST to run the callback registered as ``output_key``.

    ``value(component_id, property)`` gives every input's and state's value.
    """
    callback = app.callback_map[output_key]
    outputs = []
    for spec in _output_specs(output_key):
        ids = _concrete_ids(spec["id"], panels)
        if isinstance(ids, list):
            outputs.append([{"id": i, "property": spec["property"]} for i in ids])
        else:
            outputs.append({"id": ids, "property": spec["property"]})
    inputs = _entries(callback["inputs"], value, panels)
    first = inputs[0][0] if inputs and isinstance(inputs[0], list) else inputs[0]
    changed = json.dumps(first["id"], separators=(",", ":"), sort_keys=True)
    changed = changed if isinstance(first["id"], dict) else first["id"]
    return {
        "output": output_key,
        "outputs": outputs if output_key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": _entries(callback["state"], value, panels),
        "changedPropIds": [f"{changed}.{first['property']}"],
    }


def selection_callback_key(app: Dash) -> str:
    """The server callback a box/lasso selection triggers (mirroring it, or the playlist).

    The one drawing the other panel if the server does that, else any server callback fed by
    the selection store.
    """
    keys = [
        key
        for key, callback in app.callback_map.items()
        if "callback" in callback
        and "selection-store" in [i["id"] for i in callback.get("inputs", ())]
    ]
    if not keys:
        raise LookupError("no server callback takes the selection")
    return next((key for key in keys if "panel-graph" in key), keys[0])


def layout_values(app: Dash) -> dict[tuple[str, str], object]:
    """Every component property value of the initial layout, by (id as JSON, property)."""
    values: dict[tuple[str, str], object] = {}

    def walk(node) -> None:
        if not hasattr(node, "to_plotly_json"):
            return
        component_id = getattr(node, "id", None)
        if component_id is not None:
            key = json.dumps(component_id, sort_keys=True)
            for prop in node._prop_names:
                values[(key, prop)] = getattr(node, prop, None)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            walk(child)

    walk(app.layout() if callable(app.layout) else app.layout)
    return values


def selection_request_maker(
    app: Dash, segment_ids: np.ndarray
) -> Callable[[random.Random], Request]:
    """Random box selections (10-500 segment ids from one panel) sent to the mirror callback."""
    key = selection_callback_key(app)
    initial = layout_values(app)

    def make(rng: random.Random) -> Request:
        n = rng.randint(1, min(500, len(segment_ids)))
        chosen = sorted(int(i) for i in rng.sample(list(segment_ids), n))
        selection = {"ids": chosen, "source": rng.choice((0, 1))}

        def value(component_id, prop):
            if component_id == "selection-store" and prop == "data":
                return selection
            return initial.get((json.dumps(component_id, sort_keys=True), prop))

        body = json.dumps(callback_body(app, key, value)).encode()
        headers = {"Content-Type": "application/json"}
        return "selection", "POST", "/_dash-update-component", headers, body

    return make


def audio_request_maker(track_ids: list[int], sizes: dict[int, int]):
    """Hover audio: the browser asks for the file from its start, or a range to seek into."""

    def make(rng: random.Random) -> Request:
        track = rng.choice(track_ids)
        start = rng.choice((0, rng.randrange(max(1, sizes[track]))))
        return "audio", "GET", f"/audio/{track}", {"Range": f"bytes={start}-"}, None

    return make


# -- the load ------------------------------------------------------------------------------------
@dataclass
class LoadReport:
    seconds: float
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)  # 5xx or a failed connection
    unexpected: list[str] = field(default_factory=list)  # any other status than expected
    inconsistent: list[str] = field(default_factory=list)  # an answer its kind's check refused
    outcomes: dict[str, int] = field(default_factory=dict)  # what the checks saw, counted

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def percentile(self, kind: str, q: float) -> float:
        return float(np.percentile(self.latencies[kind], q)) * 1000

    def summary(self) -> str:
        lines = [
            f"{self.clients} clients, {self.seconds:.0f} s: {self.requests} requests, "
            f"{self.requests / self.seconds:.0f}/s, server errors {len(self.server_errors)}, "
            f"unexpected statuses {len(self.unexpected)}, inconsistent {len(self.inconsistent)}"
        ]
        for kind in sorted(self.latencies):
            if self.latencies[kind]:
                p50, p99 = self.percentile(kind, 50), self.percentile(kind, 99)
                lines.append(
                    f"  {kind}: n={len(self.latencies[kind])} p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                )
        if self.outcomes:
            lines.append("  " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())))
        return "\n".join(lines)


EXPECTED_STATUS = {"audio": {200, 206}, "selection": {200, 204}, "redraw": {200}, "tsne": {200},
                   "poll": {200, 204}}  # fmt: skip

Check = Callable[[Request, int, dict[str, str], bytes], str]
"""(request, status, headers, body) -> the outcome to count; raises AssertionError if wrong."""


def drive(
    port: int,
    makers: list[Callable[[random.Random], Request]],
    clients: int = 20,
    seconds: float = 10.0,
    seed: int = 0,
    checks: dict[str, Check] | None = None,
) -> LoadReport:
    """Run ``clients`` threads against ``127.0.0.1:port`` for ``seconds``.

    ``checks[kind]`` looks at every answer of that kind (beyond its status).
    """
    checks = checks or {}
    report = LoadReport(seconds, clients)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < deadline:
            request = rng.choice(makers)(rng)
            kind, method, path, headers, body = request
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                status = response.status
                connection.close()
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    report.server_errors.append(f"{kind} {path}: {error!r}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                report.latencies.setdefault(kind, []).append(elapsed)
                if status >= 500:
                    report.server_errors.append(f"{kind} {path}: HTTP {status}")
                elif status not in EXPECTED_STATUS.get(kind, {200}):
                    report.unexpected.append(f"{kind} {path}: HTTP {status}")
            if kind in checks and status < 500:
                try:
                    outcome = checks[kind](request, status, dict(response.getheaders()), answer)
                except AssertionError as problem:
                    with lock:
                        report.inconsistent.append(f"{kind} {path}: {problem}")
                    continue
                with lock:
                    report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return report


@contextmanager
def serving(app: Dash) -> Iterator[int]:
    """The app on a free loopback port, served by Werkzeug with a thread per request."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=10)


def run_load(built: BuiltApp, clients: int, seconds: float, seed: int = 0) -> LoadReport:
    """Load the app ``built`` with hover-audio and selection requests."""
    app, state = built.dash, built.state
    tracks = state.snapshot.tracks
    library = Path(state.config.library)
    files = {int(t): library_file_path(library, tracks.at[t, "path"]) for t in tracks.index}
    sizes = {t: path.stat().st_size for t, path in files.items() if path.is_file()}
    collection = state.snapshot.collection
    segment_ids = collection.space(*collection.available_spaces()[0]).segment_ids
    makers = [
        audio_request_maker(sorted(sizes), sizes),
        selection_request_maker(app, segment_ids),
    ]
    with serving(app) as port:
        return drive(port, makers, clients, seconds, seed)
