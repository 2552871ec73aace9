"""The panels' background jobs as processes of this server (no Redis): how many, and their end."""

from __future__ import annotations

import time

import psutil

from explore_dash.server import jobs


def sleeper(seconds: float):
    """A job function as Dash's manager calls it: (result key, progress key, args, context)."""

    def job(_key, _progress_key, _args, _context) -> None:
        time.sleep(seconds)

    return job


def ended(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` is gone (reaped: a zombie is not gone) within ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid):
            return True
        time.sleep(0.05)
    return False


def refused(manager, key: str, job_fn) -> str | None:
    """Why a job was refused (its result is at once a lost job's error), or None if it runs."""
    job = manager.call_job_fn(key, job_fn, (), {})
    if job != jobs.NO_PROCESS:
        return None
    assert not manager.job_running(job)
    error = manager.get_result(key, job)["background_callback_error"]
    return jobs.lost_job_message(error["msg"])


def test_localjobs001_jobs_are_capped_per_panel_and_in_all(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_JOBS", 2)
    monkeypatch.setattr(jobs, "MAX_JOBS_PER_PANEL", 1)
    manager = jobs.job_manager(tmp_path)
    left, right, third = sleeper(1.0), sleeper(1.0), sleeper(1.0)  # one callback a panel
    first = manager.call_job_fn("a", left, (), {})
    # A second job of the same panel, then a third in all.
    assert refused(manager, "b", left).startswith("too many maps are being computed")
    second = manager.call_job_fn("c", right, (), {})
    assert refused(manager, "d", third).startswith("too many maps are being computed")
    assert manager.job_running(first) and manager.job_running(second)
    assert ended(first) and ended(second)
    assert not manager.job_running(first)
    manager.terminate_job(first)  # a page cancelling a job that ended: nothing to do
    assert refused(manager, "e", left) is None  # room again once they ended


def test_localjobs002_a_job_nobody_polls_is_reaped_not_left_a_zombie(tmp_path):
    manager = jobs.job_manager(tmp_path)
    pid = manager.call_job_fn("k", sleeper(0.1), (), {})
    # Nobody asks for its result (the page was closed): the process must not stay a zombie.
    assert ended(pid), psutil.Process(pid).status()


def test_localjobs003_a_refused_job_is_told_in_its_panel_with_a_retry(tmp_path, monkeypatch):
    import json

    from explore_dash.callbacks import panels
    from explore_dash.config import AppConfig
    from explore_dash.maps.settings import PLAIN_LOOK, PanelSettings
    from explore_dash.server.app import create_app
    from tests.support.fake_collection import write_fake_collection
    from tests.support.load import callback_body, layout_values

    fake = write_fake_collection(tmp_path)
    app = create_app(AppConfig(fake.library, fake.data_dir))
    monkeypatch.setattr(jobs, "MAX_JOBS", 0)
    initial = layout_values(app)
    job = panels.map_job(PanelSettings("musicnn", "msd", "embedding", "tsne"), [], [], 1, 1,
                         PLAIN_LOOK, fresh=True)  # fmt: skip
    key = next(k for k, c in app.callback_map.items() if c.get("background"))

    def value(component_id, prop):
        if prop == "data" and "panel-job" in json.dumps(component_id):
            return job
        return initial.get((json.dumps(component_id, sort_keys=True), prop))

    body = callback_body(app, key, value)
    with app.server.test_client() as client:
        started = client.post("/_dash-update-component", json=body).get_json()
        # The page's first poll of the job gets its end: the panel says why, offers a retry.
        url = f"/_dash-update-component?cacheKey={started['cacheKey']}&job={started['job']}"
        answer = client.post(url, json=body)
    assert answer.status_code == 200
    side = answer.get_json()["sideUpdate"]
    panel = int(key.split('"panel":')[1][0])

    def component(kind: str) -> dict:
        return side[json.dumps({"panel": panel, "type": kind}, separators=(",", ":"))]

    assert component("panel-retry")["style"] == {"display": "inline"}
    count = component("panel-count")
    assert count["children"].startswith("Not computed: too many maps are being computed")
    assert "Traceback" not in answer.get_data(as_text=True)
