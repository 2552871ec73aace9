"""One command, a living map: the app serves while extraction runs beside it, picks up new tracks,
stops cleanly on SIGINT/SIGTERM and resumes on the next start.

End-to-end tests run the real ``explore_dash`` command with a slow fake extractor
(tests/support/live_app.py, tests/support/slow_extractor.py); the rest are unit tests of the pieces.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from explore_dash.config import AppConfig
from explore_dash.data.progress import extraction_view, format_duration, process_alive
from explore_dash.data.state import AppState
from explore_dash.server.app import create_app
from extraction.contract import ExtractionStatus, read_status
from extraction.store import DataStore
from tests.support.doubles import free_port
from tests.support.fake_collection import DEFAULT_TRACKS, write_fake_collection
from tests.support.paths import LIVE_APP, REPO
from tests.support.slow_extractor import GATE_VARIABLE
from tests.support.synth import write_audio
from tests.support.tables import assert_consistent

# -- what the page says ---------------------------------------------------------------------------


def test_live001_extraction_view_for_each_phase():
    assert extraction_view(None, alive=False).visible is False
    running = ExtractionStatus(
        phase="extracting",
        tracks_total=86,
        tracks_done=12,
        tracks_failed=2,
        audio_total_seconds=7 * 3600,
        audio_done_seconds=3600,
        eta_seconds=1080,
        failures=[["a/b.mp3", "not audio"]],
    )
    view = extraction_view(running, alive=True)
    assert view.visible and view.running
    assert view.text == (
        "Extracting: 12 of 86 tracks · 1.0 of 7.0 h audio · about 18 min left · 2 failed"
    )
    assert view.percent == pytest.approx(100 / 7)
    assert view.failures == [("a/b.mp3", "not audio")]

    stale = extraction_view(running, alive=False)  # the process was killed
    assert not stale.running and "stopped unexpectedly after 12 of 86 tracks" in stale.text

    done = ExtractionStatus(phase="done", tracks_total=86, tracks_done=86)
    assert extraction_view(done, alive=False).text == "Extraction finished: 86 of 86 tracks"
    nothing_new = ExtractionStatus(phase="done", tracks_total=0)
    assert not extraction_view(nothing_new, alive=False).visible
    failed = ExtractionStatus(phase="failed", error="disk full while writing x")
    assert "Extraction failed: disk full" in extraction_view(failed, alive=False).text
    interrupted = ExtractionStatus(phase="interrupted", tracks_total=10, tracks_done=4)
    assert "restart to resume" in extraction_view(interrupted, alive=False).text
    # Tracks whose files are gone: a note, with or without new tracks (no bar for a note alone).
    missing = ExtractionStatus(phase="done", tracks_total=0, tracks_missing=2)
    note = extraction_view(missing, alive=False)
    assert note.visible and not note.measures
    assert note.text == (
        "2 tracks are missing from the library: kept off the map until their files return"
    )
    done.tracks_missing = 1
    assert extraction_view(done, alive=False).text == (
        "Extraction finished: 86 of 86 tracks · 1 track is missing from the library: kept off "
        "the map until their files return"
    )
    refused = ExtractionStatus(phase="refused", error="/m holds no audio files, yet 3 tracks…")
    view = extraction_view(refused, alive=False)
    assert view.text == "Library not updated: /m holds no audio files, yet 3 tracks…"
    assert view.visible and not view.running and not view.measures


def test_live002_durations_and_liveness():
    assert format_duration(42) == "42 s"
    assert format_duration(18 * 60 + 10) == "18 min"
    assert format_duration(3 * 3600 + 5 * 60) == "3 h 05 min"
    assert process_alive(__import__("os").getpid())
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert not process_alive(int(finished.stdout))
    assert not process_alive(0)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while process_alive(zombie.pid):  # exited but not reaped: dead all the same
        assert time.monotonic() < deadline
        time.sleep(0.05)
    zombie.wait()


# -- picking up new tables ------------------------------------------------------------------------


def test_live003_refresh_swaps_in_a_new_version_with_its_tags(tmp_path: Path):
    fake = write_fake_collection(tmp_path, tracks=DEFAULT_TRACKS[:2], version=1)
    state = AppState.load(AppConfig(fake.library, fake.data_dir))
    before = state.snapshot
    assert state.refresh() is False  # nothing changed: no reload
    write_fake_collection(tmp_path, tracks=DEFAULT_TRACKS, version=2)
    assert state.refresh() is True
    assert state.snapshot is not before  # swapped whole: old readers keep a consistent one
    assert state.snapshot.version == 2
    assert before.version == 1 and len(before.tracks) == 2  # the old one is left as it was
    ok_tracks = {t.track for t in DEFAULT_TRACKS if t.status == "ok"}
    assert set(state.snapshot.tags_by_track) == ok_tracks
    assert state.refresh() is False


def rewrite_tables(data: Path, version: int, spaces=None, state: bool = True) -> None:
    """What a merge making ``version`` writes: each table (PCA changed), then state.json."""
    store = DataStore(data)
    for space in spaces if spaces is not None else store.segment_spaces():
        block = store.read_segments(*space)
        _, pca, std_pca = store.read_projection_columns(*space)[1:]
        store.write_segments(*space, block, pca + version, std_pca, version)
    if state:
        store.write_tracks(store.read_tracks(), version)
        store.write_state({**store.read_state(), "version": version})


def test_live007_a_merge_halfway_is_never_shown_and_a_version_reads_its_own_tables(
    tmp_path: Path,
):
    fake = write_fake_collection(tmp_path, version=1)
    state = AppState.load(AppConfig(fake.library, fake.data_dir))
    first = state.snapshot
    space = first.collection.available_spaces()[0]
    rewrite_tables(fake.data_dir, 2)  # merged while nobody looked: state.json says 2
    rewrite_tables(fake.data_dir, 3, [space], state=False)  # the next merge, halfway
    assert state.refresh() is False and state.snapshot is first  # version 2's tables are gone
    # Version 1's space, read only now, after both merges replaced its file: still version 1's.
    pca_of_1 = first.collection.space(*space).pca
    rewrite_tables(fake.data_dir, 3, [s for s in DataStore(fake.data_dir).segment_spaces()
                                      if s != space])  # fmt: skip
    assert state.refresh() is True and state.snapshot.version == 3
    pca_of_3 = state.snapshot.collection.space(*space).pca
    # Merges 2 and 3 each moved every point by their number: version 1's are the originals.
    np.testing.assert_allclose(pca_of_3 - pca_of_1, 2.0 + 3.0, atol=1e-4)
    # Loaded at start while a merge is halfway: it waits, then says so and shows what is there.
    rewrite_tables(fake.data_dir, 4, [space], state=False)
    from explore_dash.data.collection import Collection

    assert Collection.load(fake.data_dir, wait_seconds=0).settled is False


def _poll(app, client, page_version: int) -> dict:
    """Call ``app``'s library poll as the page does; returns {component id: {prop: value}}."""
    key = next(k for k, v in app.callback_map.items() if "library-poll.n_intervals" in str(v))
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in key.strip(".").split("...")
    ]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": [{"id": "library-poll", "property": "n_intervals", "value": 1}],
        "state": [{"id": "data-version-store", "property": "data", "value": page_version}],
        "changedPropIds": ["library-poll.n_intervals"],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code in (200, 204), response.data
    return json.loads(response.data)["response"] if response.status_code == 200 else {}


def test_live004_poll_sends_new_tracks_and_progress_to_the_page(tmp_path: Path):
    fake = write_fake_collection(tmp_path, tracks=DEFAULT_TRACKS[:2], version=1)
    app = create_app(AppConfig(fake.library, fake.data_dir))
    client = app.server.test_client()
    quiet = _poll(app, client, page_version=1)
    assert "data-version-store" not in quiet  # up to date: the panels are left alone
    assert quiet["extraction-box"]["style"] == {"display": "none"}

    write_fake_collection(tmp_path, tracks=DEFAULT_TRACKS, version=2)
    status = ExtractionStatus(
        phase="extracting",
        tracks_total=5,
        tracks_done=3,
        audio_total_seconds=100,
        audio_done_seconds=60,
        eta_seconds=20,
    )
    (fake.data_dir / "progress.json").write_text(json.dumps(status.__dict__))
    update = _poll(app, client, page_version=1)
    assert update["data-version-store"]["data"] == 2
    artists = {a for t in DEFAULT_TRACKS if t.status == "ok" for a in [t.artist]}
    assert set(update["music-artists"]["options"]) == artists
    assert update["extraction-text"]["children"].startswith("Extracting: 3 of 5 tracks")
    assert update["extraction-bar"]["value"] == 60.0
    assert update["library-poll"]["interval"] == 2000  # faster while extraction runs


# -- the real command -----------------------------------------------------------------------------


def make_library(root: Path, n: int) -> Path:
    for i in range(n):
        write_audio(root / f"Artist {i % 4}" / f"t{i:02d}.wav", 0.3, signal="tone", seed=i)
    return root


def start_app(library: Path, data: Path, port: int, seconds_per_track: float, gate=None):
    command = [
        sys.executable,
        str(LIVE_APP),
        str(seconds_per_track),
        "musicnn-msd",
        "--library",
        str(library),
        "--data",
        str(data),
        "--port",
        str(port),
    ]
    env = dict(os.environ)
    if gate is not None:
        env[GATE_VARIABLE] = f"{gate[0]}:{gate[1]}"
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=20) as response:
        response.read()
        return response.status


def wait_for_server(url: str, process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            get(url)
            return
        except OSError:
            assert time.monotonic() < deadline, "the app never answered"
            time.sleep(0.2)


def running(data: Path) -> bool:
    status = read_status(data)
    return status is not None and status.phase == "extracting" and process_alive(status.pid)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_live005_serves_during_extraction_stops_cleanly_and_resumes(tmp_path: Path, signum):
    library, data = make_library(tmp_path / "lib", 16), tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    app = start_app(library, data, port, seconds_per_track=0.7)
    try:
        wait_for_server(url, app)
        answered_while_running = 0
        deadline = time.monotonic() + 60
        while answered_while_running < 5 or not (data / "tracks.parquet").exists():
            assert time.monotonic() < deadline, "extraction finished before the checks"
            was_running = running(data)
            assert get(url + "_dash-layout") == 200
            assert get(url) == 200
            answered_while_running += was_running and running(data)
            time.sleep(0.1)
        extractor_pid = read_status(data).pid
        app.send_signal(signum)
        output = app.communicate(timeout=120)[0].decode()
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, output
    assert "stopping extraction" in output
    assert not process_alive(extractor_pid)
    assert read_status(data).phase == "interrupted"
    assert_consistent(data)
    kept = len(DataStore(data).read_tracks())
    assert 1 <= kept < 16

    # The next start picks up where this one stopped.
    app = start_app(library, data, free_port(), seconds_per_track=0.0)
    try:
        deadline = time.monotonic() + 90
        while True:
            status = read_status(data)
            finished = status.phase == "done" and status.pid != extractor_pid
            if finished and not process_alive(status.pid):  # its summary is printed too
                break
            assert app.poll() is None, app.stdout.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        app.send_signal(signal.SIGINT)
        output = app.communicate(timeout=60)[0].decode()
    finally:
        if app.poll() is None:
            app.kill()
    assert f"ok: {16 - kept} " in output  # finished tracks were not extracted again
    assert len(DataStore(data).read_tracks()) == 16
    assert_consistent(data)


@pytest.mark.browser
def test_live006_page_fills_in_without_reload_keeping_zoom_and_selection(tmp_path: Path):
    from selenium import webdriver
    from selenium.common.exceptions import JavascriptException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from tests.support.browser import box_select, graph_js, inside, plot_box, trace_ids
    from tests.support.browser_options import chrome_options
    from tests.support.pointer import drag, move_to
    from tests.support.waiting import wait_until

    library, data = make_library(tmp_path / "lib", 12), tmp_path / "data"
    port = free_port()
    # The extraction stops after its first track until the user has selected and zoomed.
    go_on = tmp_path / "go-on"
    app = start_app(library, data, port, seconds_per_track=0.1, gate=(1, go_on))
    options = chrome_options()
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options)
    browser = type("Browser", (), {"driver": driver})()
    try:
        wait_for_server(f"http://127.0.0.1:{port}/", app)
        wait_until(lambda: (data / "tracks.parquet").exists(), 60, "the first merge")
        driver.get(f"http://127.0.0.1:{port}/")

        def points(panel: int = 0):
            try:
                return trace_ids(browser, panel)
            except JavascriptException:  # the graph is not in the page yet
                return None

        first = wait_until(points, 60, "the first tracks' points")
        assert running(data), "extraction ended before the page could watch it grow"
        # The user selects what is there, then zooms.
        box_select(browser, 0, (0, 0), (1, 1))
        entries = wait_until(
            lambda: driver.find_elements(By.CSS_SELECTOR, ".playlist-entry"), 30, "playlist"
        )
        chosen_tracks = {int(e.get_attribute("data-track")) for e in entries}
        # The user zooms the other panel: the mode bar's zoom tool, then a drag (real input
        # events: a programmatic relayout is not a user change that Plotly keeps).
        tool = driver.execute_script(
            f"return {graph_js(1)}.querySelector('.modebar-btn[data-attr=dragmode][data-val=zoom]')"
        )
        box1 = plot_box(browser, 1)
        move_to(driver, *inside(box1, (0.5, 0.5)))  # shows the mode bar
        ActionChains(driver).move_to_element(tool).click().perform()
        drag(driver, inside(box1, (0.2, 0.2)), inside(box1, (0.8, 0.7)))
        zoom = wait_until(
            lambda: driver.execute_script(
                f"const l = {graph_js(1)}.layout;"
                "return l.xaxis.autorange === false ? [l.xaxis.range, l.yaxis.range] : null"
            ),
            20,
            "the zoom",
        )
        # Extraction goes on; the page polls and redraws without a reload.
        driver.execute_script("window.notReloaded = true")
        go_on.touch()
        grown = wait_until(
            lambda: len(ids) > len(first) and ids if (ids := points()) else None,
            120,
            "more points",
        )
        assert set(first) < set(grown)
        assert driver.execute_script("return window.notReloaded === true")
        wait_until(lambda: len(points(1) or ()) > len(first), 60, "the other panel grown")
        kept_zoom = driver.execute_script(
            f"const l = {graph_js(1)}.layout; return [l.xaxis.range, l.yaxis.range]"
        )
        assert kept_zoom == zoom

        # The selection is kept: its outline stays, so it may also take in new points inside it.
        def playlist_tracks():
            entries = driver.find_elements(By.CSS_SELECTOR, ".playlist-entry")
            return {int(e.get_attribute("data-track")) for e in entries}

        time.sleep(1)  # let any selection event of the redraw land
        assert wait_until(lambda: playlist_tracks() >= chosen_tracks, 20, "the playlist")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert [e for e in severe if "favicon" not in e["message"]] == []
    finally:
        driver.quit()
        app.send_signal(signal.SIGINT)
        try:
            app.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
