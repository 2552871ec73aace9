"""Wrong access tokens per client, counted where every process of the app sees them.

The limit (explore_dash/server/access.py) must hold for the app as a whole: gunicorn's workers are
separate processes, so a count kept in one of them let ``gunicorn -w 4`` take four times the
tries. Three stores, one policy (:meth:`FailedTries.attempt`):

- :class:`MemoryTries`: this process only (an app in one process; a fallback);
- :class:`SqliteTries`: an SQLite file in the data folder's cache, for the processes of one
  machine (``python -m explore_dash``, gunicorn without Redis);
- :class:`RedisTries`: the app's Redis (``--redis``), for app processes on several machines,
  whose shared data folder may be a network share SQLite cannot lock reliably.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path

MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 60.0
#: Failing clients remembered at most (the quiet ones are forgotten first).
MAX_ADDRESSES = 10_000
#: How long a process waits for another one's try to be counted before giving up.
LOCK_WAIT_SECONDS = 5.0
log = logging.getLogger(__name__)


def client_of(address: str) -> str:
    """Who an address stands for: one IPv6 host picks freely within its /64; an IPv4 client
    of a dual-stack socket (``::ffff:a.b.c.d``) is its IPv4 address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def wait_left(first_try: float, now: float) -> float:
    """Seconds a client whose oldest counted try is at ``first_try`` must still wait, within
    ``[0, FAILURE_WINDOW_SECONDS]`` (a clock set back never locks anyone out for longer)."""
    return min(FAILURE_WINDOW_SECONDS, max(0.0, FAILURE_WINDOW_SECONDS - (now - first_try)))


class FailedTries(ABC):
    """Wrong tokens per client over the last :data:`FAILURE_WINDOW_SECONDS`."""

    client = staticmethod(client_of)

    @abstractmethod
    def attempt(self, address: str, correct: bool) -> float:
        """Count one try of ``address``; how long it must wait first (0: it is looked at).

        A client with :data:`MAX_FAILURES` wrong tries in the window waits, whatever it sends.
        One locked step, so a burst of tries (from any process) cannot slip past the limit.
        """


class MemoryTries(FailedTries):
    """The tries seen by this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tries: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def attempt(self, address: str, correct: bool) -> float:
        now = self._clock()
        client = self.client(address)
        with self._lock:
            tries = self._tries.get(client)
            while tries and now - tries[0] >= FAILURE_WINDOW_SECONDS:
                tries.popleft()
            if tries and len(tries) >= MAX_FAILURES:
                return wait_left(tries[0], now)
            if not correct:
                if tries is None:
                    self._forget_quiet(now)
                    tries = self._tries.setdefault(client, deque())
                tries.append(now)
            return 0.0

    def _forget_quiet(self, now: float) -> None:
        if len(self._tries) < MAX_ADDRESSES:
            return
        for client in [c for c, t in self._tries.items()
                       if not t or now - t[-1] >= FAILURE_WINDOW_SECONDS]:  # fmt: skip
            del self._tries[client]
        while len(self._tries) >= MAX_ADDRESSES:  # a flood within the minute: oldest first
            del self._tries[next(iter(self._tries))]


class _FallingBack(FailedTries):
    """A shared store that counts in this process while it cannot reach the shared one: a
    limit per process is weaker, but refusing every visitor (or none) would be worse."""

    #: The failures of the shared store that mean "count here for now".
    store_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._fallback = MemoryTries(clock)
        self._warned = False

    @abstractmethod
    def _shared_attempt(self, client: str, correct: bool) -> float: ...

    def attempt(self, address: str, correct: bool) -> float:
        try:
            return self._shared_attempt(self.client(address), correct)
        except self.store_errors as error:
            if not self._warned:
                log.warning("cannot count wrong tokens in %s (%s): counting them in this "
                            "process only", self, error)  # fmt: skip
                self._warned = True
            return self._fallback.attempt(address, correct)


class SqliteTries(_FallingBack):
    """The tries in an SQLite file, for every process on this machine.

    SQLite rather than a file of our own under ``fcntl`` locks: a transaction is the locked
    step (``BEGIN IMMEDIATE`` admits one writer, the busy timeout makes the others wait for
    it rather than fail), a process killed in the middle leaves the file consistent, and it
    is in the standard library. WAL journal: a try costs an append to the log, not a rewrite
    of the file, and with ``synchronous=NORMAL`` no flush to disk (a count lost to a power
    cut is of no matter). A connection per try: tries are rare (only requests carrying a
    token), and none is then shared across gunicorn's fork.
    """

    store_errors = (sqlite3.Error, OSError)

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)  # wall time: the one clock all processes share
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        # Busy: another process is creating the file. The WAL is a saving, not the lock; a
        # later try sets it. (Failing here fell back to counting in this process: one try too
        # many in a burst of four processes on a new file.)
        with suppress(sqlite3.OperationalError):
            db.execute("PRAGMA journal_mode=WAL")  # kept by the file once set
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _shared_attempt(self, client: str, correct: bool) -> float:
        with closing(self._connect()) as db:  # closed uncommitted: rolled back
            db.execute("BEGIN IMMEDIATE")
            # The schema inside the locked step: concurrent first tries create it once.
            db.execute("CREATE TABLE IF NOT EXISTS tries (client TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS tries_by_client ON tries (client, at)")
            db.execute("CREATE INDEX IF NOT EXISTS tries_by_time ON tries (at)")
            # The time once the lock is held: a process that read it before waiting would
            # take the tries counted meanwhile for tries from the future.
            wait = count_try(db, client, correct, self._clock())
            db.execute("COMMIT")
            return wait


def count_try(db: sqlite3.Connection, client: str, correct: bool, now: float) -> float:
    """The policy of :meth:`FailedTries.attempt` on the ``tries`` table, in the caller's
    transaction. Tries out of the window (or ahead of a clock set back by more than a second)
    are dropped; at most :data:`MAX_ADDRESSES` × :data:`MAX_FAILURES` rows are kept, the
    oldest dropped first."""
    db.execute(
        "DELETE FROM tries WHERE at <= ? OR at > ?", (now - FAILURE_WINDOW_SECONDS, now + 1.0)
    )
    count, first = db.execute(
        "SELECT COUNT(*), MIN(at) FROM tries WHERE client = ?", (client,)
    ).fetchone()
    if count >= MAX_FAILURES:
        return wait_left(first, now)
    if not correct:
        db.execute("INSERT INTO tries (client, at) VALUES (?, ?)", (client, now))
        db.execute(
            "DELETE FROM tries WHERE rowid IN "
            "(SELECT rowid FROM tries ORDER BY at DESC LIMIT -1 OFFSET ?)",
            (MAX_ADDRESSES * MAX_FAILURES,),
        )
    return 0.0


#: The policy in Redis, one atomic step on the server, timed by the server's clock (the app
#: processes' machines may disagree on the time). A sorted set per client, try times as
#: scores; it expires with the window, so quiet clients cost nothing.
_REDIS_ATTEMPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local window, most = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. (now + 1), '+inf')
if redis.call('ZCARD', KEYS[1]) >= most then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return tostring(math.min(window, math.max(0, window - (now - tonumber(first[2])))))
end
if ARGV[3] == '0' then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
end
return '0'
"""
REDIS_PREFIX = "explore_dash:failed_tries:"


class RedisTries(_FallingBack):
    """The tries in Redis, for app processes on any machine that reaches it."""

    def __init__(self, url: str) -> None:
        import redis

        super().__init__(time.monotonic)  # for the fallback only: Redis keeps its own time
        self.store_errors = (redis.RedisError, OSError)
        self.url = url
        # redis-py's pool opens new connections in a forked process: safe under gunicorn.
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        self._script = client.register_script(_REDIS_ATTEMPT)

    def __str__(self) -> str:
        return self.url

    def _shared_attempt(self, client: str, correct: bool) -> float:
        member = secrets.token_hex(8)  # two tries in one microsecond are two members
        wait = self._script(
            keys=[REDIS_PREFIX + client],
            args=[FAILURE_WINDOW_SECONDS, MAX_FAILURES, int(correct), member],
        )
        return float(wait)


#: The SQLite file of :class:`SqliteTries`, in the data folder's cache.
TRIES_FILE = "failed-tries.sqlite"


def shared_tries(data_dir: Path, redis_url: str | None = None) -> FailedTries:
    """Where the app's processes count wrong tokens together: Redis when the app has one (its
    processes may be on several machines), else the data folder's cache."""
    from extraction.contract import CACHE_DIR

    if redis_url is not None:
        return RedisTries(redis_url)
    return SqliteTries(Path(data_dir) / CACHE_DIR / TRIES_FILE)
