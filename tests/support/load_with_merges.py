"""The load of load.py while an extraction merges new tracks into the tables underneath.

Clients hover (audio with Range requests), redraw panels, select, ask for a t-SNE map that is
in the cache, and poll for new tables as the page does, while a real extraction run (its
networks replaced by slow_extractor.py) merges tracks every few seconds. Every answer is
checked against the table versions the data folder went through: a redraw shows exactly the
segments of one version, a poll's new version comes with that version's track count, a cached
t-SNE map is drawn or its job started for the same segments. Used by
``benchmarks/server_load.py --merges`` and tests/unit/test_server.py.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dash import Dash

from explore_dash import ids
from explore_dash.callbacks import map_jobs, panels
from explore_dash.data.collection import Collection
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.settings import PanelSettings
from extraction.contract import library_file_path
from tests.support.load import (
    LoadReport,
    Request,
    audio_request_maker,
    callback_body,
    drive,
    layout_values,
    selection_request_maker,
    serving,
)
from tests.support.paths import REPO, SLOW_EXTRACTOR
from tests.support.synth import write_audio

MODELS = "musicnn-msd"
#: The artist of the tracks there before the load: their t-SNE map is the one in the cache.
EARLY_ARTIST = "Early Artist"
#: (layer, projection) of the redraws; the architecture and dataset are MODELS'.
REDRAWN = [(layer, projection) for layer in ("embedding", "taggram")
           for projection in ("pca", "std_pca")]  # fmt: skip
CACHED_MAP = PanelSettings("musicnn", "msd", "embedding", "tsne")
NO_HIGHLIGHT = ([], [], [], [])


# -- a library that grows ----------------------------------------------------------------------
def write_tracks(library: Path, artist: str, numbers: range) -> None:
    for number in numbers:
        write_audio(library / artist / "Album" / f"{number:04d}.flac", 0.3, signal="noise",
                    seed=number, tags={"artist": artist, "title": f"Track {number}"})  # fmt: skip


def extraction_command(library: Path, data: Path, seconds_per_track: float = 0.0,
                       merge_every: float | None = None) -> list[str]:  # fmt: skip
    merging = ["--merge-every-seconds", str(merge_every)] if merge_every is not None else []
    return [sys.executable, str(SLOW_EXTRACTOR), "--seconds-per-track", str(seconds_per_track),
            *merging, "--library", str(library), "--data", str(data), "--models", MODELS,
            "--quiet"]  # fmt: skip


def growing_collection(root: Path, early: int, later: int) -> tuple[Path, Path]:
    """(library, data): ``early`` tracks extracted, ``later`` more in the library, waiting."""
    library, data = root / "library", root / "data"
    write_tracks(library, EARLY_ARTIST, range(early))
    subprocess.run(extraction_command(library, data), cwd=REPO, check=True, capture_output=True)
    for k in range(later):
        write_tracks(library, f"Artist {k % 8}", range(early + k, early + k + 1))
    return library, data


# -- what the data folder went through ----------------------------------------------------------
@dataclass(frozen=True)
class Version:
    number: int
    tracks: int
    segments: dict[tuple[str, str], frozenset[int]]
    #: (space, "pca" or "std_pca") -> (segment ids, sorted; their first two components)
    maps: dict[tuple[tuple[str, str], str], tuple[np.ndarray, np.ndarray]]

    def places(self, space: tuple[str, str], projection: str, shown: np.ndarray,
               xy: np.ndarray) -> bool:  # fmt: skip
        """Whether segments ``shown`` lie at ``xy`` in this version's map."""
        ids, coordinates = self.maps[(space, projection)]
        rows = np.searchsorted(ids, shown)
        return bool(np.array_equal(coordinates[rows], xy))


class VersionLog:
    """Every version of the tables while watched, read as the app reads them (settled loads)."""

    def __init__(self, data: Path, spaces: list[tuple[str, str]]) -> None:
        self.data, self.spaces = data, spaces
        self.versions: dict[int, Version] = {}
        self.latest: Collection | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _record(self) -> None:
        collection = Collection.load(self.data, wait_seconds=0)
        if not collection.settled or collection.version in self.versions:
            return
        spaces = {space: collection.space(*space) for space in self.spaces}
        segments = {key: frozenset(space.segment_ids.tolist()) for key, space in spaces.items()}
        maps = {(key, projection): (space.segment_ids.copy(),
                                    np.array(getattr(space, projection)[:, :2], np.float32))
                for key, space in spaces.items() for projection in ("pca", "std_pca")}  # fmt: skip
        with self._lock:
            self.versions[collection.version] = Version(
                collection.version, len(collection.tracks), segments, maps
            )
            self.latest = collection

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self._record()

    def __enter__(self) -> VersionLog:
        self._record()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def get(self, number: int) -> Version | None:
        """Version ``number``; looked for on disk now if the watch has not seen it yet (the app
        may load a new version a moment before the watch does)."""
        for attempt in range(2):
            with self._lock:
                if number in self.versions:
                    return self.versions[number]
            if attempt == 0:
                self._record()
        return None

    def holding(self, space: tuple[str, str], segments: frozenset[int]) -> Version | None:
        """The version whose ``space`` has exactly ``segments`` (looking on disk as :meth:`get`)."""
        for attempt in range(2):
            with self._lock:
                for version in self.versions.values():
                    if version.segments[space] == segments:
                        return version
            if attempt == 0:
                self._record()
        return None


def keep_map_cached(data: Path, cache_dir: Path, stop, cached) -> None:
    """Compute the early artist's t-SNE map for each new version (as maps computed ahead do);
    ``cached`` (an Event) is set once the first is in the cache. Runs in a process of its own,
    as the app's own map jobs do: beside twenty client threads it would wait for the GIL."""
    done = None
    while not stop.wait(0.05):
        collection = Collection.load(data, wait_seconds=0)
        if not collection.settled or collection.version == done:
            continue
        snapshot = Snapshot.of(collection)
        *_, job, _ = panels.draw_panel(
            snapshot, cache_dir, CACHED_MAP, [EARLY_ARTIST], [], 1, NO_HIGHLIGHT,
            new_tables=False, view=None, extraction_running=lambda: True,
        )  # fmt: skip
        if isinstance(job, dict):
            map_jobs.compute_panel_map(snapshot, cache_dir, job, NO_HIGHLIGHT, lambda _: None)
        done = collection.version
        cached.set()


# -- the requests and their checks ---------------------------------------------------------------
def _callback_key(app: Dash, *parts: str) -> str:
    return next(key for key, callback in app.callback_map.items()
                if "callback" in callback and all(part in key for part in parts))  # fmt: skip


def _answer(body: bytes) -> dict[str, dict]:
    """A callback's answer as {component type or id: {property: value}}."""
    answer = json.loads(body)
    outputs = {}
    for component, props in answer.get("response", {}).items():
        name = json.loads(component)["type"] if component.startswith("{") else component
        outputs[name] = props
    return outputs


def _decoded(values) -> np.ndarray:
    """A figure's array, plain or Plotly's typed form ({"dtype", "bdata"})."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def panel_request_maker(app: Dash, kind: str, choose: Callable[[random.Random], dict]):
    """Panel 0's draw callback, with the inputs ``choose`` returns over the page's first ones."""
    key = _callback_key(app, ids.PANEL_GRAPH, ids.PANEL_JOB, "MATCH", ids.PANEL_LEGEND)
    initial = layout_values(app)

    def make(rng: random.Random) -> Request:
        chosen = choose(rng)

        def value(component, prop):
            kind_of = component.get("type") if isinstance(component, dict) else component
            if kind_of in chosen:
                return chosen[kind_of]
            return initial.get((json.dumps(component, sort_keys=True), prop))

        body = json.dumps(callback_body(app, key, value)).encode()
        return kind, "POST", "/_dash-update-component", {"Content-Type": "application/json"}, body

    return make


def redraw_choice(rng: random.Random) -> dict:
    layer, projection = rng.choice(REDRAWN)
    return {ids.PANEL_ARCHITECTURE: "musicnn", ids.PANEL_DATASET: "msd", ids.PANEL_LAYER: layer,
            ids.PANEL_PROJECTION: projection, ids.ARTISTS: None, ids.TAGS: None,
            ids.REDUCTION: 1, ids.SEGMENT_LENGTH: "1"}  # fmt: skip


def cached_map_choice(_rng: random.Random) -> dict:
    return {ids.PANEL_ARCHITECTURE: "musicnn", ids.PANEL_DATASET: "msd",
            ids.PANEL_LAYER: "embedding", ids.PANEL_PROJECTION: "tsne",
            ids.ARTISTS: [EARLY_ARTIST], ids.TAGS: None, ids.REDUCTION: 1,
            ids.SEGMENT_LENGTH: "1"}  # fmt: skip


def poll_request_maker(app: Dash, log: VersionLog) -> Callable[[random.Random], Request]:
    """The page's library poll, from a page showing some version seen so far."""
    key = _callback_key(app, ids.LIBRARY_POLL, ids.DATA_VERSION)

    def make(rng: random.Random) -> Request:
        shown = rng.choice(sorted(log.versions))

        def value(component, prop):
            return shown if component == ids.DATA_VERSION else 1

        body = json.dumps(callback_body(app, key, value)).encode()
        return "poll", "POST", "/_dash-update-component", {"Content-Type": "application/json"}, body

    return make


def redraw_check(log: VersionLog, served: set[int]):
    def check(request: Request, status: int, _headers, body: bytes) -> str:
        answer = _answer(body)
        points = answer[ids.PANEL_GRAPH]["figure"]["data"][0]
        order = _decoded(points["customdata"]).astype(np.int64)
        shown = frozenset(order.tolist())
        settings = json.loads(request[4])["inputs"]
        space, projection = (MODELS, settings[2]["value"]), settings[3]["value"]
        version = log.holding(space, shown)
        assert version is not None, f"{len(shown)} segments of no version of the tables"
        count = answer[ids.PANEL_COUNT]["children"]
        assert count == f"{len(shown):,} segments", count
        xy = np.column_stack([_decoded(points["x"]), _decoded(points["y"])])
        assert version.places(space, projection, order, xy), (
            f"version {version.number}'s segments, not where version {version.number} has them"
        )
        served.add(version.number)
        return "redraw"

    return check


def cached_map_check(early: frozenset[int]):
    def check(_request: Request, status: int, _headers, body: bytes) -> str:
        answer = _answer(body)
        if "figure" in answer.get(ids.PANEL_GRAPH, {}):
            figure = answer[ids.PANEL_GRAPH]["figure"]
            shown = frozenset(int(i) for i in _decoded(figure["data"][0]["customdata"]))
            assert shown == early, f"{len(shown)} segments, not the early artist's {len(early)}"
            return "t-SNE from the cache"
        count = answer[ids.PANEL_COUNT]["children"]
        assert count == f"computing t-SNE for {len(early):,} segments…", count
        assert answer[ids.PANEL_JOB]["data"]["artists"] == [EARLY_ARTIST]
        return "t-SNE being cached for a new version"

    return check


def poll_check(log: VersionLog):
    def check(_request: Request, status: int, _headers, body: bytes) -> str:
        if status == 204:
            return "poll: up to date"
        answer = _answer(body)
        if ids.DATA_VERSION not in answer:
            return "poll: up to date"
        number = answer[ids.DATA_VERSION]["data"]
        version = log.get(number)
        assert version is not None, f"version {number} was never settled on disk"
        summary = answer[ids.LIBRARY_SUMMARY]["children"]
        assert summary.startswith(f"{version.tracks} tracks"), (number, summary)
        return "poll: new version"

    return check


def audio_check(sizes: dict[int, int]):
    def check(request: Request, status: int, headers: dict[str, str], body: bytes) -> str:
        track = int(request[2].rsplit("/", 1)[1])
        if status == 206:
            first, last = headers["Content-Range"][6:].split("/")[0].split("-")
            assert len(body) == int(last) - int(first) + 1, headers["Content-Range"]
        else:
            assert len(body) == sizes[track]
        return "audio"

    return check


# -- the run -------------------------------------------------------------------------------------
@dataclass
class MergeLoadReport:
    load: LoadReport
    versions_made: int  # during the load
    versions_served: int  # distinct versions the redraws showed

    @property
    def errors(self) -> list[str]:
        return self.load.server_errors + self.load.unexpected + self.load.inconsistent

    def summary(self) -> str:
        return (f"{self.load.summary()}\n  table versions merged during the load: "
                f"{self.versions_made}, shown by the redraws: {self.versions_served}")  # fmt: skip


def run_load_with_merges(root: Path, clients: int = 20, seconds: float = 60.0,
                         merge_every: float = 3.0, seed: int = 0,
                         early: int = 24) -> MergeLoadReport:  # fmt: skip
    """Build a growing collection under ``root`` and load the app while it grows."""
    from explore_dash.config import AppConfig
    from explore_dash.server.app import build_app

    seconds_per_track = 0.25
    later = int((seconds + 20) / seconds_per_track)  # still extracting when the load ends
    library, data = growing_collection(root, early, later)
    built = build_app(AppConfig(library, data, extract=False))
    app, state = built.dash, built.state
    tracks = state.snapshot.tracks
    files = {int(t): library_file_path(library, tracks.at[t, "path"]) for t in tracks.index}
    sizes = {t: path.stat().st_size for t, path in files.items()}
    spaces = [(MODELS, layer) for layer in ("embedding", "taggram")]
    segment_ids = state.snapshot.collection.space(*spaces[0]).segment_ids
    processes = multiprocessing.get_context("spawn")
    stop, cached = processes.Event(), processes.Event()
    keeper = processes.Process(target=keep_map_cached, args=(data, state.cache_dir, stop, cached))
    keeper.start()
    with VersionLog(data, spaces) as log:
        first = log.get(state.snapshot.version)
        assert cached.wait(120), "the early artist's t-SNE map was never computed"
        served: set[int] = set()
        makers = [
            audio_request_maker(sorted(sizes), sizes),
            selection_request_maker(app, segment_ids),
            panel_request_maker(app, "redraw", redraw_choice),
            panel_request_maker(app, "tsne", cached_map_choice),
            poll_request_maker(app, log),
        ]
        checks = {
            "audio": audio_check(sizes),
            "redraw": redraw_check(log, served),
            "tsne": cached_map_check(first.segments[spaces[0]]),
            "poll": poll_check(log),
        }
        extraction = subprocess.Popen(
            extraction_command(library, data, seconds_per_track, merge_every), cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            before = len(log.versions)
            with serving(app) as port:
                report = drive(port, makers, clients, seconds, seed, checks)
            made = len(log.versions) - before
        finally:
            extraction.send_signal(signal.SIGINT)
            extraction.communicate(timeout=60)
            stop.set()
            keeper.join(timeout=60)
            if keeper.is_alive():
                keeper.terminate()
    return MergeLoadReport(report, made, len(served))
