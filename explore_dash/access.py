"""An access token for an app that other machines can reach.

Bound to loopback the app is as open as any local program. Bound to an address other machines
reach (``--host 0.0.0.0``: a party, a radio team, a family's LAN), every request needs a secret:
the address printed at start carries it (``http://HOST:8050/?token=...``); the first request with
it is answered with a cookie (HttpOnly, SameSite=Lax) and a redirect to the same address without
it, so the token leaves the address bar and the history. Every route (page, callbacks,
``/audio/...``, assets) answers 401 without one or the other.

Comparison is in constant time; an address that sends wrong tokens is slowed down: after
:data:`MAX_FAILURES` within :data:`FAILURE_WINDOW_SECONDS` each further try waits out the rest
of the window (429) before it is looked at. The token is never logged: request lines carrying
it are redacted (:class:`RedactToken`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlencode

#: Where a token may come from besides ``--token``.
TOKEN_VARIABLE = "EXPLORE_DASH_TOKEN"
TOKEN_PARAMETER = "token"
COOKIE_NAME = "explore_dash_access"
#: A cookie for a year: the token changes with each start unless one is given.
COOKIE_SECONDS = 365 * 24 * 3600
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 60.0
#: The shortest token accepted from a user (a generated one has 32 characters).
MIN_TOKEN_LENGTH = 8
DENIED = (
    "explore-dash: this address needs its access token. Open the address the app printed when "
    "it started (…/?token=...), or ask whoever started it.\n"
)
SLOWED = "explore-dash: too many wrong tokens from this address; try again in a minute.\n"
_TOKEN_IN_TEXT = re.compile(rf"({TOKEN_PARAMETER}=)[^&\s\"']+")


def new_token() -> str:
    """A random token for the address to print (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


def cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token, so the cookie never shows the token."""
    return hmac.new(token.encode(), b"explore-dash access cookie", hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Whether ``given`` is ``expected``, in time independent of where they differ."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def redact(text: str) -> str:
    """``text`` with the value of every ``token=`` replaced."""
    return _TOKEN_IN_TEXT.sub(r"\1[redacted]", text)


class RedactToken(logging.Filter):
    """A log filter that takes the token out of every record (request lines, errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if TOKEN_PARAMETER + "=" in message:
            record.msg, record.args = redact(message), ()
        return True


class FailedTries:
    """Wrong tokens per client address over the last :data:`FAILURE_WINDOW_SECONDS`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tries: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        tries = self._tries.setdefault(address, deque())
        while tries and self._clock() - tries[0] >= FAILURE_WINDOW_SECONDS:
            tries.popleft()
        return tries

    def wait_seconds(self, address: str) -> float:
        """How long ``address`` must wait before its next try is looked at (0: now)."""
        with self._lock:
            tries = self._recent(address)
            if len(tries) < MAX_FAILURES:
                return 0.0
            return max(0.0, FAILURE_WINDOW_SECONDS - (self._clock() - tries[0]))

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self._clock())
            if len(self._tries) > 10_000:  # a flood of addresses: forget the quiet ones
                for quiet in [a for a, t in self._tries.items() if not t]:
                    del self._tries[quiet]


def install_access_token(server, token: str, clock: Callable[[], float] = time.monotonic):
    """Make every route of ``server`` (a Flask app) require ``token`` or its cookie.

    Runs before any other request hook, so nothing else sees an unauthenticated request.
    """
    import flask

    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the access token must have at least {MIN_TOKEN_LENGTH} characters")
    expected_cookie = cookie_value(token)
    tries = FailedTries(clock)
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "explore_dash"):
        logging.getLogger(name).addFilter(RedactToken())

    def plain(text: str, status: int, **headers: str) -> flask.Response:
        return flask.Response(text, status=status, mimetype="text/plain", headers=headers)

    def require_token():
        request = flask.request
        given = request.args.get(TOKEN_PARAMETER)
        if given is None:
            cookie = request.cookies.get(COOKIE_NAME, "")
            if cookie and same_secret(cookie, expected_cookie):
                return None
            return plain(DENIED, 401)
        address = request.remote_addr or "?"
        wait = tries.wait_seconds(address)
        if wait > 0:
            return plain(SLOWED, 429, **{"Retry-After": str(int(wait) + 1)})
        if not same_secret(given, token):
            tries.failed(address)
            return plain(DENIED, 401)
        # The same address without the token, and the cookie that stands for it from now on.
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != TOKEN_PARAMETER]
        target = request.script_root + request.path + (f"?{urlencode(rest)}" if rest else "")
        response = flask.redirect(target, code=303)
        response.set_cookie(
            COOKIE_NAME,
            expected_cookie,
            max_age=COOKIE_SECONDS,
            path=request.script_root or "/",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    # First of the request hooks: the callback guard and the maps' pause come after.
    server.before_request_funcs.setdefault(None, []).insert(0, require_token)
    return tries
