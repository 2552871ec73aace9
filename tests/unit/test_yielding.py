"""The maps computed ahead pause while the page is used, and never keep a waiting panel waiting."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest

from explore_dash.callbacks import map_jobs, panels
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps import yielding
from explore_dash.maps.ahead_status import AheadStatus, read_ahead_status
from explore_dash.maps.yielding import MapsYield, is_interaction, waiting_for_map, want_map
from tests.support.fake_collection import make_collection
from tests.support.maps import NONE, TSNE, computations, run_ahead
from tests.support.waiting import wait_until


def body(*changed: str) -> bytes:
    return json.dumps({"output": "x.children", "changedPropIds": list(changed)}).encode()


@pytest.mark.parametrize("path, args, payload, expected", [
    ("/audio/12/3.0", {}, b"", True),
    ("/", {}, b"", True),
    ("/_dash-layout", {}, b"", True),
    ("/_presence", {}, b"", True),
    ("/_dash-update-component", {}, body('{"panel":0,"type":"panel-graph"}.selectedData'), True),
    ("/_dash-update-component", {}, body("library-poll.n_intervals"), False),
    ("/_dash-update-component", {"cacheKey": "abc", "job": "1"}, body("x.n_clicks"), False),
    ("/_dash-update-component", {}, b"not json", False),
    ("/assets/explore-core.js", {}, b"", False),
])  # fmt: skip
def test_yield001_what_counts_as_someone_at_the_page(path, args, payload, expected):
    assert is_interaction(path, args, payload) is expected


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake_maps(tmp_path, monkeypatch):
    """A MapsYield whose maps-ahead process is pid 4242, with its signals recorded."""
    monkeypatch.setattr(yielding, "maps_ahead_pid", lambda cache: 4242)
    sent: list[tuple[int, int]] = []
    clock = Clock()
    return MapsYield(tmp_path, clock, lambda pid, signum: sent.append((pid, signum))), clock, sent


def test_yield002_paused_on_interaction_resumed_after_a_quiet_spell(fake_maps):
    maps, clock, sent = fake_maps
    maps.interaction()
    maps.interaction()  # already paused: no second signal
    assert sent == [(4242, signal.SIGSTOP)] and maps.paused
    clock.now += yielding.QUIET_SECONDS - 0.5
    maps.interaction()  # still busy: the quiet spell starts again
    clock.now += yielding.QUIET_SECONDS - 0.5
    maps.tick()
    assert maps.paused and len(sent) == 1
    clock.now += 0.6
    maps.tick()
    assert sent[-1] == (4242, signal.SIGCONT) and not maps.paused
    maps.interaction()
    maps.release()  # the server stops: the maps go on
    assert sent[-2:] == [(4242, signal.SIGSTOP), (4242, signal.SIGCONT)] and not maps.paused


def test_yield003_a_panel_waiting_for_a_map_keeps_the_maps_going(fake_maps, tmp_path):
    maps, clock, sent = fake_maps
    maps.interaction()
    want_map(tmp_path, "some-map")  # a panel waits for a map (and resumes the process itself)
    maps.tick()
    assert sent[-1] == (4242, signal.SIGCONT) and not maps.paused
    maps.interaction()
    assert not maps.paused  # not paused while the wait lasts
    yielding.unwant_map(tmp_path, "some-map")
    maps.interaction()
    assert maps.paused


def test_yield004_no_process_no_signal(tmp_path):
    sent = []
    maps = MapsYield(tmp_path, send=lambda *a: sent.append(a))
    maps.interaction()
    maps.tick()
    assert sent == [] and not maps.paused


def process_state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2]


def test_yield005_the_real_process_pauses_and_a_waiting_panel_still_gets_its_map(tmp_path):
    fake = make_collection(tmp_path, 6000)  # t-SNE of 6,000 points: some seconds
    data, cache = fake.data_dir, fake.data_dir / "cache"
    snapshot = Snapshot.load(data)
    process = run_ahead(data)
    try:
        wait_until(lambda: (read_ahead_status(cache) or AheadStatus()).computing == (
            "musicnn-msd embedding tsne"), 60, "the first t-SNE to start")  # fmt: skip
        maps = MapsYield(cache)
        maps.interaction()
        assert wait_until(lambda: process_state(process.pid) == "T", 5, "the pause")
        time.sleep(0.5)
        assert process_state(process.pid) == "T"  # stays paused while nobody resumes it
        # A panel asks for the map being computed: it waits, and the process goes on meanwhile.
        _, _, job, _ = panels.draw_panel(snapshot, cache, TSNE, [], [], 1, NONE,
                                         new_tables=False, view=None,
                                         extraction_running=lambda: False)  # fmt: skip
        progress = []
        result = {}
        panel = threading.Thread(target=lambda: result.setdefault(
            "drawn", map_jobs.compute_panel_map(snapshot, cache, job, NONE, progress.append)))
        panel.start()
        deadline = time.monotonic() + 120
        while panel.is_alive() and time.monotonic() < deadline:
            maps.interaction()  # someone keeps using the page...
            maps.tick()  # ...and the server keeps ticking
            time.sleep(0.1)
        assert not panel.is_alive(), "the panel waited for a paused process"
        assert any("waiting" in label for _, _, label in progress)  # (bar, its text, the label)
        assert result["drawn"][1] == "6,000 segments"
        assert computations(cache) == 1  # the process's map, not a second one
        assert list((cache / "map-locks").glob("*.wanted")) == []
        maps.interaction()  # the wait is over: the page pauses the rest again
        assert wait_until(lambda: process_state(process.pid) == "T", 5, "the pause")
        maps.release()
        assert wait_until(lambda: process_state(process.pid) != "T", 5, "the resume")
    finally:
        process.terminate()
        process.send_signal(signal.SIGCONT)
        process.wait(30)


def test_yield006_waiting_for_a_free_map_takes_its_lock_at_once(tmp_path):
    started = time.monotonic()
    with waiting_for_map(tmp_path, "free-map"):
        assert list((tmp_path / "map-locks").glob("*.wanted")) == []
    assert time.monotonic() - started < 1.0


def app_with_recorded_pauses(tmp_path, monkeypatch):
    """An app on a fake collection whose maps-ahead process is pid 4242, the signals it would
    send recorded: (collection, app, its MapsYield, the signals)."""
    from explore_dash.config import AppConfig
    from explore_dash.server.app import build_app
    from tests.support.fake_collection import write_fake_collection

    fake = write_fake_collection(tmp_path)
    built = build_app(AppConfig(fake.library, fake.data_dir, extract=False))
    app, maps = built.dash, built.maps_yield
    sent: list[int] = []
    monkeypatch.setattr(yielding, "maps_ahead_pid", lambda cache: 4242)
    monkeypatch.setattr(maps, "_send", lambda pid, signum: sent.append(signum))
    return fake, app, maps, sent


def test_yield007_the_apps_requests_pause_the_maps_its_timers_do_not(tmp_path, monkeypatch):
    fake, app, maps, sent = app_with_recorded_pauses(tmp_path, monkeypatch)
    client = app.server.test_client()
    poll = {"output": "library-status.children", "outputs": {"id": "library-status",
            "property": "children"}, "inputs": [{"id": "library-poll", "property": "n_intervals",
            "value": 3}], "changedPropIds": ["library-poll.n_intervals"]}  # fmt: skip
    client.post("/_dash-update-component", json=poll)
    assert sent == []  # the page's own timer
    assert client.get(f"/audio/{fake.tracks[0].track}").status_code == 200
    assert sent == [signal.SIGSTOP]  # a hover's audio
    maps.release()
    assert sent == [signal.SIGSTOP, signal.SIGCONT]
    # The page saying someone is at it (a drag, a zoom: nothing the server would see).
    response = client.post(yielding.PRESENCE_PATH)
    assert response.status_code == 204 and response.data == b""
    assert sent == [signal.SIGSTOP, signal.SIGCONT, signal.SIGSTOP]


def test_yield008_the_page_says_someone_is_at_it_when_only_the_browser_sees_them(
    dash_duo, tmp_path, monkeypatch
):
    """Pointer moves that send no request of their own (a drag, reading the map) pause the maps,
    through the page's presence posts, and those come at most once a PRESENCE_EVERY_SECONDS."""
    from tests.support.browser import wait_for_points
    from tests.support.pointer import move_to

    _, app, maps, sent = app_with_recorded_pauses(tmp_path, monkeypatch)
    presences = []
    real = yielding.is_interaction

    def recording(path, args, body):
        if path == yielding.PRESENCE_PATH:
            presences.append(time.monotonic())
        return real(path, args, body)

    monkeypatch.setattr(yielding, "is_interaction", recording)
    dash_duo.start_server(app)
    for panel in (0, 1):
        wait_for_points(dash_duo, panel)
    time.sleep(yielding.PRESENCE_EVERY_SECONDS + 0.5)  # the panels' own "drawn" posts are past
    maps.release()
    sent.clear()
    presences.clear()
    began = time.monotonic()
    for step in range(6):  # over the page's margin: no point, no hover, no callback
        move_to(dash_duo.driver, 3 + step, 3 + step)
    span = time.monotonic() - began
    wait_until(lambda: presences, 10, "the page's presence post")
    time.sleep(0.3)
    assert 1 <= len(presences) <= 1 + int(span / yielding.PRESENCE_EVERY_SECONDS)
    assert sent and sent[0] == signal.SIGSTOP and maps.paused
