"""Where the panels' t-SNE/UMAP jobs run: processes of this server, or Celery workers.

Without Redis, Dash's ``DiskcacheManager`` forks a process per job and keeps its progress and
result in ``cache/jobs`` (one app process, one machine). With ``--redis URL``, Dash's
``CeleryManager`` sends each job to a Celery worker (``python -m explore_dash.worker``) through
Redis, and keeps progress and results there: several app processes behind one address share
jobs and results, and workers may run on other machines that see the data folder.

Celery cannot tell a job whose worker was killed (SIGKILL, the OOM killer, a machine gone) from
one still running: its state stays ``STARTED`` (or ``PENDING`` when no worker ever took it), and
the panel would wait forever. So a worker keeps a short-lived *heartbeat* key in Redis for each
job it runs (:func:`install_heartbeat`), and :class:`WatchedCeleryManager` turns a job whose
heartbeat has expired, or that no worker is there to take, into a clear error in the panel,
which offers to try again (explore_dash/callbacks/map_jobs.py).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from dash import CeleryManager, DiskcacheManager

log = logging.getLogger(__name__)

#: A running job's heartbeat is refreshed this often (seconds) ...
HEARTBEAT_SECONDS = 2.0
#: ... and expires after this long without one: the job's worker is gone.
HEARTBEAT_TTL_SECONDS = 8
HEARTBEAT_PREFIX = "explore-dash-job-alive-"
#: A job nobody has taken for this long makes the app ask whether any worker is there.
NO_WORKER_SECONDS = 10.0
#: Marks the errors of lost or refused jobs, so the page can offer a retry (Dash passes only a
#: message).
LOST_JOB_MARK = "[lost job] "
#: Jobs run at once by this server's processes (each t-SNE or UMAP a process, every core busy),
#: in all and for one panel (a page runs one job a panel at a time: two pages' worth). More is
#: no page's doing; the panel says so and offers to try again.
MAX_JOBS = 4
MAX_JOBS_PER_PANEL = 2
#: The job id of a job refused before it started: no process (Dash reads 0 as none).
NO_PROCESS = 0
#: Ended jobs remembered after their process is reaped, so a late cancel or poll of one is not
#: taken for another process that was given its pid since.
REMEMBERED_ENDED = 1_000
BUSY = "too many maps are being computed at once ({running}): try again when one is done"
WORKER_GONE = (
    "the background worker computing this map stopped before it finished (killed, out of "
    "memory, or its machine went away)"
)
NO_WORKER = (
    "no background worker is running for this app: start one with "
    "`python -m explore_dash.worker --library LIBRARY --redis {url}`"
)


def job_refusal(running: list[object], job_fn: object, most: int,
                most_per_panel: int) -> str | None:  # fmt: skip
    """Why a job of ``job_fn`` may not start beside the ``running`` ones (their functions)."""
    if len(running) >= most:
        return BUSY.format(running=len(running))
    if sum(fn is job_fn for fn in running) >= most_per_panel:
        return BUSY.format(running="this panel's")
    return None


def local_manager(cache_dir: Path):
    """Jobs in processes forked from this server; state in ``cache_dir/jobs``."""
    import diskcache

    return LimitedDiskcacheManager(diskcache.Cache(str(Path(cache_dir) / "jobs")))


class LimitedDiskcacheManager(DiskcacheManager):
    """Dash's ``DiskcacheManager`` with a cap on jobs at once, and each job process reaped.

    Dash forks a process per job and never waits for it: one whose result nobody polls (the
    page was closed) stayed a zombie, and forged job requests forked without limit. Each job's
    process is waited for by a thread of its own. A job past :data:`MAX_JOBS` in all, or
    :data:`MAX_JOBS_PER_PANEL` of one callback, starts no process: its result is at once an
    error marked as a lost job's, which the panel shows with its retry, as for a lost job.
    """

    def __init__(self, cache) -> None:
        super().__init__(cache)
        self._lock = threading.Lock()
        self._running: dict[int, tuple[object, Any]] = {}  # pid -> (job function, process)
        self._ended: dict[int, None] = {}  # reaped pids, oldest first

    def call_job_fn(self, key, job_fn, args, context):
        import multiprocess

        with self._lock:
            refusal = job_refusal([fn for fn, _ in self._running.values()], job_fn,
                                  MAX_JOBS, MAX_JOBS_PER_PANEL)  # fmt: skip
            if refusal is not None:
                log.warning("background job refused: %s", refusal)
                # Dash's own shape of a job's error; the page's first poll reads it.
                error = {"msg": LOST_JOB_MARK + refusal, "tb": ""}
                self.handle.set(key, {"background_callback_error": error})
                return NO_PROCESS
            pid = super().call_job_fn(key, job_fn, args, context)
            # Dash keeps no handle but the pid; multiprocess lists its live children.
            process = next((p for p in multiprocess.active_children() if p.pid == pid), None)
            if process is None:  # ended already, and reaped by active_children()
                self._forget(pid)
                return pid
            self._running[pid] = (job_fn, process)
        threading.Thread(target=self._reap, args=(pid, process), daemon=True).start()
        return pid

    def running_jobs(self) -> int:
        """Jobs of this server whose process has not ended, as the cap counts them."""
        with self._lock:
            return len(self._running)

    def get_result(self, key, job):
        result = super().get_result(key, job)
        if result is not self.UNDEFINED and job:
            # Its result is in and Dash has told the process to end: it no longer counts
            # towards the cap (its reaper may not have seen it exit yet, and the page's next
            # job of this panel comes at once).
            with self._lock:
                self._running.pop(int(job), None)
        return result

    def _reap(self, pid: int, process) -> None:
        process.join()
        with self._lock:
            self._running.pop(pid, None)
            self._forget(pid)

    def _forget(self, pid: int) -> None:
        self._ended[pid] = None
        while len(self._ended) > REMEMBERED_ENDED:
            del self._ended[next(iter(self._ended))]

    def job_running(self, job):
        with self._lock:
            if int(job) in self._ended:
                return False
            if int(job) in self._running:
                return self._running[int(job)][1].is_alive()
        return super().job_running(job)

    def terminate_job(self, job):
        if job is not None and int(job) in self._ended:
            return  # reaped: its pid may be another process's now
        super().terminate_job(job)


def celery_app(redis_url: str):
    """The Celery application of one deployment: Redis is both the broker and the result store.

    One job at a time per worker process (no prefetching: a map takes seconds to minutes, and a
    queued job should go to the next free worker); ``STARTED`` is recorded so a job whose worker
    disappears can be told from one waiting in the queue.
    """
    from celery import Celery

    app = Celery("explore_dash", broker=redis_url, backend=redis_url)
    app.conf.update(
        task_track_started=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A lost job is reported to the page, which offers the retry; redelivering it later
        # would compute a map nobody waits for any more.
        task_acks_late=False,
        result_expires=24 * 3600,
        worker_hijack_root_logger=False,
    )
    return app


def check_redis(redis_url: str, timeout: float = 3.0) -> None:
    """Raise ``ConnectionError`` with a readable reason when Redis does not answer at the URL."""
    import redis

    try:
        client = redis.Redis.from_url(
            redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        client.ping()
    except (redis.RedisError, ValueError) as error:
        raise ConnectionError(f"cannot reach Redis at {redis_url}: {error}") from None


def job_manager(cache_dir: Path, redis_url: str | None = None):
    """The background-callback manager for this app: local processes, or Celery with Redis."""
    if redis_url is None:
        return local_manager(cache_dir)
    return WatchedCeleryManager(celery_app(redis_url), redis_url)


def heartbeat_key(task_id: str) -> str:
    return HEARTBEAT_PREFIX + task_id


def lost_job_message(error: BaseException | str) -> str | None:
    """The readable part of a lost job's error, or None for any other error."""
    text = str(error)
    start = text.find(LOST_JOB_MARK)
    if start < 0:
        return None
    return text[start + len(LOST_JOB_MARK) :].splitlines()[0].strip()


class WatchedCeleryManager(CeleryManager):
    """Dash's ``CeleryManager``, which also reports a job that can no longer finish.

    Parameters
    ----------
    celery_app : celery.Celery
        From :func:`celery_app`.
    redis_url : str
        Shown in the error telling how to start a worker.
    clock : callable, optional
        ``time.monotonic`` unless a test gives its own.
    """

    def __init__(self, celery_app, redis_url: str, clock=time.monotonic) -> None:
        super().__init__(celery_app)
        self.redis_url = redis_url
        self._clock = clock
        self._waiting_since: dict[str, float] = {}
        self._last_ping = (-float("inf"), True)  # (when, some worker answered)

    def get_result(self, key: str, job: Any) -> Any:
        result = super().get_result(key, job)
        if result is not self.UNDEFINED or not job:
            return result
        problem = self.lost(str(job))
        if problem is None:
            return result
        self._waiting_since.pop(str(job), None)
        log.warning("background job %s: %s", job, problem)
        return {"background_callback_error": {"msg": LOST_JOB_MARK + problem, "tb": ""}}

    def lost(self, job: str) -> str | None:
        """Why job ``job`` will never finish, or None while it may still."""
        state = self.handle.AsyncResult(job).state
        if state == "FAILURE":  # WorkerLostError: Celery saw the worker process die
            return WORKER_GONE
        if state == "STARTED":
            alive = self.handle.backend.client.exists(heartbeat_key(job))
            return None if alive else WORKER_GONE
        if state == "PENDING":
            since = self._waiting_since.setdefault(job, self._clock())
            if self._clock() - since >= NO_WORKER_SECONDS and not self.workers_answer():
                return NO_WORKER.format(url=self.redis_url)
        return None

    def workers_answer(self) -> bool:
        """Whether some worker answers a ping (asked at most every ``NO_WORKER_SECONDS``)."""
        when, answered = self._last_ping
        if self._clock() - when >= NO_WORKER_SECONDS:
            answered = bool(self.handle.control.ping(timeout=1.0))
            self._last_ping = (self._clock(), answered)
        return answered


def install_heartbeat(app) -> None:
    """In a worker: keep each running job's heartbeat key alive while the job runs.

    A thread of the process running the job refreshes the key; when the process dies the key
    expires after :data:`HEARTBEAT_TTL_SECONDS`, which :class:`WatchedCeleryManager` reads as a
    lost job.
    """
    from celery.signals import task_postrun, task_prerun

    beating: dict[str, threading.Event] = {}

    def beat(task_id: str, stop: threading.Event) -> None:
        client = app.backend.client
        while not stop.is_set():
            try:
                client.set(heartbeat_key(task_id), 1, ex=HEARTBEAT_TTL_SECONDS)
            except Exception as error:  # Redis away for a moment: the next beat may reach it
                log.warning("job heartbeat: %s", error)
            stop.wait(HEARTBEAT_SECONDS)
        with contextlib.suppress(Exception):  # else it expires by itself
            client.delete(heartbeat_key(task_id))

    @task_prerun.connect(weak=False)
    def started(task_id=None, **_):
        stop = threading.Event()
        # The first beat before the job's STARTED state is stored: never STARTED without one.
        app.backend.client.set(heartbeat_key(task_id), 1, ex=HEARTBEAT_TTL_SECONDS)
        beating[task_id] = stop
        threading.Thread(target=beat, args=(task_id, stop), daemon=True).start()

    @task_postrun.connect(weak=False)
    def finished(task_id=None, **_):
        stop = beating.pop(task_id, None)
        if stop is not None:
            stop.set()
