"""The panels' t-SNE/UMAP jobs on Celery workers through a real Redis server.

Two app processes (``python -m explore_dash --redis``) and a worker process
(``python -m explore_dash.worker``) share one Redis: a job started from one app is read,
finished, from the other and computed once; a worker killed mid-job becomes a clear error in
the panel, and the retry works once a worker is back. Redis is ``EXPLORE_DASH_TEST_REDIS``
when set (``.ci/run`` starts Debian's ``redis-server``), else a ``redis-server`` of our own.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from dash.background_callback.managers import BaseBackgroundCallbackManager

from explore_dash import ids
from explore_dash.callbacks import map_jobs, panels
from explore_dash.maps.settings import PLAIN_LOOK, PanelSettings
from explore_dash.server.jobs import (
    LOST_JOB_MARK,
    NO_WORKER_SECONDS,
    WORKER_GONE,
    WatchedCeleryManager,
    celery_app,
    heartbeat_key,
    install_heartbeat,
    lost_job_message,
)
from tests.support.doubles import FakeClock, free_port
from tests.support.fake_collection import make_collection
from tests.support.maps import TSNE, computations
from tests.support.paths import REPO
from tests.support.waiting import wait_until

pytest.importorskip("celery", reason="the Celery jobs need explore-dash[cluster]")
redis = pytest.importorskip("redis", reason="the Celery jobs need explore-dash[cluster]")



# -- the lost-job rules, on a stand-in for Celery's state ----------------------------------------
class FakeCelery:
    """What WatchedCeleryManager reads: task states, heartbeat keys, workers' pings."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.keys: set[str] = set()
        self.workers: list[dict] = []
        self.pings = 0
        outer = self

        class Result:
            def __init__(self, job: str) -> None:
                self.state = outer.states.get(job, "PENDING")

        class Client:
            def exists(self, key: str) -> int:
                return int(key in outer.keys)

        class Backend:
            client = Client()

        class Control:
            def ping(self, timeout: float) -> list[dict]:
                outer.pings += 1
                return outer.workers

        self.AsyncResult = Result
        self.backend = Backend()
        self.control = Control()


@pytest.fixture()
def watched():
    clock = FakeClock()
    manager = WatchedCeleryManager(celery_app("redis://127.0.0.1:1/0"), "redis://r:6379/0", clock)
    manager.handle = FakeCelery()
    yield manager, manager.handle, clock
    # Dash registers every later app's background callbacks with every manager ever made.
    BaseBackgroundCallbackManager.managers.remove(manager)


def test_jobs001_a_running_job_is_lost_when_its_heartbeat_stops(watched):
    manager, celery, _ = watched
    celery.states["a"] = "STARTED"
    celery.keys.add(heartbeat_key("a"))
    assert manager.lost("a") is None
    celery.keys.clear()  # the worker died: nobody refreshes the key and it expires
    assert manager.lost("a") == WORKER_GONE
    celery.states["b"] = "FAILURE"  # Celery saw its pool process die (WorkerLostError)
    assert manager.lost("b") == WORKER_GONE
    celery.states["c"] = "SUCCESS"
    assert manager.lost("c") is None


def test_jobs002_a_job_nobody_takes_says_how_to_start_a_worker(watched):
    manager, celery, clock = watched
    assert manager.lost("q") is None  # queued: a worker may take it any moment
    clock.now = NO_WORKER_SECONDS - 1
    assert manager.lost("q") is None and celery.pings == 0
    clock.now = NO_WORKER_SECONDS
    problem = manager.lost("q")
    assert "python -m explore_dash.worker" in problem and "redis://r:6379/0" in problem
    celery.workers = [{"explore-dash@host": {"ok": "pong"}}]  # a worker starts
    assert manager.lost("q") == problem and celery.pings == 1  # the last answer, for a while ...
    clock.now += NO_WORKER_SECONDS
    assert manager.lost("q") is None and celery.pings == 2  # ... then asked again: busy, not gone


def test_jobs003_a_lost_jobs_error_is_told_apart_from_others():
    error = RuntimeError(
        f"An error occurred inside a background callback: {LOST_JOB_MARK}{WORKER_GONE}\n"
    )
    assert lost_job_message(error) == WORKER_GONE
    assert lost_job_message(ValueError("any other failure")) is None


# -- a real Redis (tests/conftest.py: redis_url), real app and worker processes -----------------
@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    # t-SNE of 6,000 points: some seconds, time to kill the worker in the middle.
    return make_collection(tmp_path_factory.mktemp("jobs"), 6000)


def start_app(collection, redis_url: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "explore_dash", "--library", str(collection.library),
               "--data", str(collection.data_dir), "--no-extract", "--no-maps-ahead",
               "--port", str(port), "--redis", redis_url]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def start_gunicorn(collection, redis_url: str, port: int) -> subprocess.Popen:
    """Two app processes behind one address, as the README's gunicorn command runs them."""
    env = {**os.environ, "EXPLORE_DASH_LIBRARY": str(collection.library),
           "EXPLORE_DASH_DATA": str(collection.data_dir), "EXPLORE_DASH_REDIS": redis_url}
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
               "explore_dash.wsgi:app"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def start_worker(collection, redis_url: str, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "explore_dash.worker", "--library", str(collection.library),
               "--data", str(collection.data_dir), "--redis", redis_url, "--concurrency", "1",
               "--no-maps-ahead"]  # fmt: skip
    with log.open("ab") as output:
        # A session of its own: the test kills the worker and its pool processes at once.
        return subprocess.Popen(
            command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


class Page:
    """One page load of an app process, driving callbacks as dash-renderer does."""

    def __init__(self, base: str) -> None:
        self.base = base
        text = urllib.request.urlopen(base + "/", timeout=30).read().decode()
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>',
                           text, re.S)  # fmt: skip
        self.end_id = json.loads(html.unescape(config.group(1)))["end_id"]

    def post(self, body: dict, **handles: str) -> tuple[int, dict | None]:
        query = urllib.parse.urlencode({"endId": self.end_id, **handles})
        request = urllib.request.Request(
            f"{self.base}/_dash-update-component?{query}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = response.read()
                return response.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as error:
            return error.code, None


def wait_for_page(base: str, process: subprocess.Popen, timeout: float = 90) -> Page:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited: {process.stdout.read().decode()[-3000:]}")
        try:
            return Page(base)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise AssertionError(f"{base} did not answer in {timeout} s")


def map_job_body(job: dict) -> dict:
    """The request of panel 0's t-SNE job (the callback registered in register_map_job)."""
    from tests.support.load import callback_body

    key = next(k for k in callback_keys() if ids.PANEL_GRAPH in k and '"panel":0' in k)
    job_id = {"panel": 0, "type": ids.PANEL_JOB}

    def value(component_id, prop):
        return job if component_id == job_id else []

    return callback_body(callback_map(), key, value, panels=(0,))


_APP = {}


def callback_map():
    """The app's callbacks, built once in this process (the same code the apps run)."""
    if "app" not in _APP:
        from explore_dash.config import AppConfig
        from explore_dash.server.app import create_app

        collection = _APP["collection"]
        _APP["app"] = create_app(AppConfig(collection.library, collection.data_dir, extract=False))
    return _APP["app"]


def callback_keys():
    return [k for k, v in callback_map().callback_map.items() if v.get("background")]


def start_job(page: Page, body: dict) -> dict:
    status, handles = page.post(body)
    assert status == 200 and "cacheKey" in handles and "job" in handles
    return {"cacheKey": handles["cacheKey"], "job": handles["job"]}


def poll_until_done(page: Page, body: dict, handles: dict, timeout: float) -> dict:
    def done():
        status, answer = page.post(body, **handles)
        assert status == 200, status
        if answer and ("response" in answer or "sideUpdate" in answer):
            return answer
        return None

    return wait_until(done, timeout, "the job's answer")


def count_of(answer: dict) -> str:
    return answer["response"][json.dumps({"panel": 0, "type": ids.PANEL_COUNT},
                                         separators=(",", ":"))]["children"]  # fmt: skip


@pytest.fixture()
def deployment(collection, redis_url, tmp_path):
    """App A (``python -m explore_dash``) and app B (gunicorn, two processes) on one Redis.

    Yields (page of A, page of B, a function starting a worker, the workers' log).
    """
    _APP["collection"] = collection
    ports = free_port(), free_port()
    apps = [
        start_app(collection, redis_url, ports[0]),
        start_gunicorn(collection, redis_url, ports[1]),
    ]
    workers: list[subprocess.Popen] = []

    def worker() -> subprocess.Popen:
        workers.append(start_worker(collection, redis_url, tmp_path / "worker.log"))
        return workers[-1]

    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        pages = [wait_for_page(base, app) for base, app in zip(bases, apps, strict=True)]
        yield pages[0], pages[1], worker, tmp_path / "worker.log"
    finally:
        for process in apps:
            process.terminate()
        for process in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*apps, *workers]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def n_points(trace: dict) -> int:
    """Points of a figure's trace, as Plotly's JSON has them (a typed array or a list)."""
    x = trace["x"]
    if isinstance(x, dict):
        return len(base64.b64decode(x["bdata"])) // np.dtype(x["dtype"]).itemsize
    return len(x)


def response_graph(answer: dict) -> dict:
    key = json.dumps({"panel": 0, "type": ids.PANEL_GRAPH}, separators=(",", ":"))
    return answer["response"][key]["figure"]


def test_jobs004_a_job_started_from_one_app_is_read_finished_from_another_computed_once(
    deployment, collection
):
    page_a, page_b, worker, _ = deployment
    worker()
    cache = collection.data_dir / "cache"
    before = computations(cache)
    body = map_job_body(panels.map_job(TSNE, [], [], 1, 1, PLAIN_LOOK))
    handles = start_job(page_a, body)
    # B's processes poll with page A's handles: the state and the signing secret are in Redis.
    page_b.end_id = page_a.end_id
    answer = poll_until_done(page_b, body, handles, timeout=180)
    figure = response_graph(answer)
    assert n_points(figure["data"][0]) == 6000 and count_of(answer) == "6,000 segments"
    assert computations(cache) == before + 1
    # The same map asked again from B is read from the shared cache: not computed again.
    again = map_job_body(panels.map_job(TSNE, [], [], 1, 1, PLAIN_LOOK))
    answer = poll_until_done(page_b, again, start_job(page_b, again), timeout=60)
    assert count_of(answer) == "6,000 segments" and computations(cache) == before + 1


def test_jobs005_a_worker_killed_mid_job_is_a_clear_error_and_the_retry_works(
    deployment, collection, redis_url
):
    page_a, _, worker, log = deployment
    first = worker()
    client = redis.Redis.from_url(redis_url)
    job = panels.map_job(PanelSettings("musicnn", "msd", "taggram", "tsne"), [], [], 1, 1,
                         PLAIN_LOOK)  # fmt: skip
    body = map_job_body(job)
    handles = start_job(page_a, body)
    beat = wait_until(lambda: client.keys(heartbeat_key("*")), 120, "the worker to start the job")
    # Celery records STARTED just after the task_prerun signal that starts the heartbeat: killed
    # in between, the job would still read as never taken (a different message, by design).
    task = celery_app(redis_url).AsyncResult(beat[0].decode()[len(heartbeat_key("")):])
    wait_until(lambda: task.state == "STARTED", 30, "Celery to record the job as started")
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its pool process, at once
    first.wait(10)
    answer = poll_until_done(page_a, body, handles, timeout=60)
    side = answer["sideUpdate"]
    count = side[json.dumps({"panel": 0, "type": ids.PANEL_COUNT}, separators=(",", ":"))]
    assert count["children"] == f"Not computed: {WORKER_GONE}."
    retry = side[json.dumps({"panel": 0, "type": ids.PANEL_RETRY}, separators=(",", ":"))]
    assert retry["style"] == {"display": "inline"}
    # The user starts a worker again and presses "Try again": the job runs once more.
    worker()
    again = map_jobs.retry_job(1, job)
    body = map_job_body(again)
    answer = poll_until_done(page_a, body, start_job(page_a, body), timeout=180)
    assert count_of(answer) == "6,000 segments", log.read_text()[-3000:]


def test_jobs006_a_worker_keeps_a_heartbeat_while_a_task_runs(redis_url):
    from celery.signals import task_postrun, task_prerun

    app = celery_app(redis_url)
    install_heartbeat(app)
    client = redis.Redis.from_url(redis_url)
    task_prerun.send(sender=None, task_id="t1")
    try:
        assert client.exists(heartbeat_key("t1"))
        assert 0 < client.ttl(heartbeat_key("t1")) <= 8
    finally:
        task_postrun.send(sender=None, task_id="t1")
    wait_until(lambda: not client.exists(heartbeat_key("t1")), 10, "the heartbeat to stop")


def test_jobs007_an_unreachable_redis_is_one_line_at_start(tmp_path, capsys):
    from explore_dash import worker
    from explore_dash.server.startup import StartupError, check_jobs_backend
    from explore_dash.wsgi import config_from_environment

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StartupError, match="cannot reach Redis at " + re.escape(nowhere)):
        check_jobs_backend(nowhere)
    library = tmp_path / "music"
    library.mkdir()
    assert worker.main(["--library", str(library), "--data", str(tmp_path / "d"),
                        "--redis", nowhere]) == 2  # fmt: skip
    assert "cannot reach Redis" in capsys.readouterr().err
    with pytest.raises(StartupError, match="EXPLORE_DASH_LIBRARY"):
        config_from_environment({})
    with pytest.raises(StartupError, match="cannot reach Redis"):
        config_from_environment({"EXPLORE_DASH_LIBRARY": str(library),
                                 "EXPLORE_DASH_REDIS": nowhere})  # fmt: skip


def test_jobs008_the_wsgi_configuration_mirrors_the_command_line(tmp_path):
    from explore_dash.server.startup import data_dir_for
    from explore_dash.wsgi import config_from_environment

    library = tmp_path / "music"
    library.mkdir()
    config = config_from_environment({"EXPLORE_DASH_LIBRARY": str(library),
                                      "EXPLORE_DASH_DATA": str(tmp_path / "d"),
                                      "EXPLORE_DASH_ANONYMIZE": "1"})  # fmt: skip
    assert config.data_dir == (tmp_path / "d").resolve() and config.anonymize
    assert config.redis is None and not config.extract
    default = config_from_environment({"EXPLORE_DASH_LIBRARY": str(library)})
    assert default.data_dir == data_dir_for(library.resolve(), None) and not default.anonymize
