"""An access token for an app that other machines can reach.

Bound to loopback the app is as open as any local program. Bound to an address other machines
reach (``--host 0.0.0.0``: a party, a radio team, a family's LAN), every request needs a secret:
the address printed at start carries it (``http://HOST:8050/?token=...``); the first request with
it is answered with a cookie (HttpOnly, SameSite=Lax) and a redirect to the same address without
it, so the token leaves the address bar and the history. Every route (page, callbacks,
``/audio/...``, assets) answers 401 without one or the other.

Comparison is in constant time; an address that sends wrong tokens is slowed down: after
five within a minute, each further try waits out the rest of the minute (429) before it is
looked at, counted for all the app's processes together (explore_dash/server/failed_tries.py). The
cookie is an HMAC of the token under a secret kept in the data folder (:func:`access_key`):
nobody can make one from a guess, so guessing goes through the token and its limit. The
token is never logged: request lines carrying it are redacted (:class:`RedactToken`).

A WSGI server cannot tell this module where it listens: with no token, an app it serves
answers only clients on loopback (:func:`install_loopback_only`).

Without a token the app also answers only requests addressed to this machine by name
(:func:`install_host_check`): ``localhost``, a loopback address, or a name the user allowed.
Otherwise a web page could rebind its own name to 127.0.0.1 (DNS rebinding) and read the
library through the visitor's browser, as if it were a page of the app.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote_plus, urlencode

from explore_dash.server.failed_tries import FailedTries, MemoryTries
from extraction.contract import ACCESS_KEY_FILE

#: Where a token may come from besides ``--token``.
TOKEN_VARIABLE = "EXPLORE_DASH_TOKEN"
TOKEN_PARAMETER = "token"
COOKIE_NAME = "explore_dash_access"
#: A cookie for a year: the token changes with each start unless one is given.
COOKIE_SECONDS = 365 * 24 * 3600
#: The shortest token accepted from a user (a generated one has 32 characters).
MIN_TOKEN_LENGTH = 8
DENIED = (
    "explore-dash: this address needs its access token. Open the address the app printed when "
    "it started (…/?token=...), or ask whoever started it.\n"
)
SLOWED = "explore-dash: too many wrong tokens from this address; try again in a minute.\n"
LOOPBACK_ONLY = (
    "explore-dash: this server was started without an access token, so it answers this machine "
    "only. Set EXPLORE_DASH_TOKEN to share it.\n"
)
FOREIGN_HOST = (
    "explore-dash: refused a request for host {name!r}: without an access token this server "
    "answers only localhost, 127.0.0.1 and [::1], so that no web page can reach it through a "
    "name of its own (DNS rebinding); to use that name, start it with --allow-host {name} "
    "(gunicorn: EXPLORE_DASH_ALLOW_HOSTS={name}) or give it a token.\n"
)
log = logging.getLogger(__name__)
#: A query's ``name=value`` in a log line: after ``?``, ``&`` or ``;``, to the next separator.
_QUERY_PAIR = re.compile(r"(?<=[?&;])([^=&;\s\"'#?]+)=([^&;\s\"'#]*)")


def new_token() -> str:
    """A random token for the address to print (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


def cookie_value(token: str, key: bytes) -> str:
    """What the cookie holds: the token's HMAC under the app's ``key`` (never the token)."""
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Whether ``given`` is ``expected``, in time independent of where they differ (or of
    their lengths: their digests are compared)."""
    digest = lambda text: hashlib.sha256(text.encode("utf-8", "replace")).digest()  # noqa: E731
    return hmac.compare_digest(digest(given), digest(expected))


def access_key(data_dir: Path) -> bytes:
    """The app's cookie secret, kept in the data folder so every process (and the next start)
    shares it; made once, readable by its owner only. A folder that cannot hold it gives a
    secret of this process (cookies then last until it stops)."""
    path = Path(data_dir) / ACCESS_KEY_FILE
    for _ in range(50):
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
            if len(key) >= 16:
                return key
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as error:
            log.warning("cannot read %s (%s): access cookies last until this process stops",
                        path, error)  # fmt: skip
            return secrets.token_bytes(32)
        try:
            _create_key(path)
        except FileExistsError:
            time.sleep(0.01)  # another process of the app made it a moment ago: read it
        except OSError as error:
            log.warning("cannot write %s (%s): access cookies last until this process stops",
                        path, error)  # fmt: skip
            return secrets.token_bytes(32)
    raise RuntimeError(f"{path} stays unreadable")


def _create_key(path: Path) -> None:
    """Write a new key at ``path`` unless one is there (whole or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        os.link(temporary, path)  # fails if another process made one meanwhile
    finally:
        temporary.unlink(missing_ok=True)


def redact(text: str) -> str:
    """``text`` with the value of every query parameter named ``token`` replaced.

    The name is compared percent-decoded, as Flask reads it: ``?%74oken=...`` is the token to
    the app, and a log line carries the query as it was sent.
    """

    def hidden(pair: re.Match[str]) -> str:
        if unquote_plus(pair[1]) != TOKEN_PARAMETER:
            return pair[0]
        return f"{pair[1]}=[redacted]"

    return _QUERY_PAIR.sub(hidden, text)


class RedactToken(logging.Filter):
    """A log filter that takes the token out of every record (request lines, errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message) if "=" in message else message
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_access_token(
    server, token: str, key: bytes, tries: FailedTries | None = None
) -> FailedTries:
    """Make every route of ``server`` (a Flask app) require ``token`` or its cookie.

    ``key``: the cookie secret (:func:`access_key`); ``tries``: where wrong tokens are counted
    (:func:`~explore_dash.server.failed_tries.shared_tries` for an app of several processes;
    default: this process). Runs before any other request hook, so nothing else sees an
    unauthenticated request.
    """
    import flask

    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the access token must have at least {MIN_TOKEN_LENGTH} characters")
    expected_cookie = cookie_value(token, key)
    tries = tries if tries is not None else MemoryTries()
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "explore_dash"):
        logging.getLogger(name).addFilter(RedactToken())

    def require_token():
        request = flask.request
        given = request.args.get(TOKEN_PARAMETER)
        if given is None:
            cookie = request.cookies.get(COOKIE_NAME, "")
            if cookie and same_secret(cookie, expected_cookie):
                return None
            return _plain(DENIED, 401)
        correct = same_secret(given, token)
        wait = tries.attempt(request.remote_addr or "?", correct)
        if wait > 0:
            return _plain(SLOWED, 429, **{"Retry-After": str(int(wait) + 1)})
        if not correct:
            return _plain(DENIED, 401)
        # The same address without the token (quoted, and never "//host": it stays on this
        # server), and the cookie that stands for the token from now on.
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != TOKEN_PARAMETER]
        path = "/" + quote(request.script_root + request.path).lstrip("/")
        response = flask.redirect(path + (f"?{urlencode(rest)}" if rest else ""), code=303)
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


def install_loopback_only(server) -> None:
    """Make ``server`` answer only clients on this machine (403 to others)."""
    import flask

    def require_loopback():
        address = flask.request.remote_addr or ""
        if is_loopback_address(address):
            return None
        if address.startswith("unix:") or not address:
            return None  # a Unix socket (gunicorn -b unix:...): on this machine
        return _plain(LOOPBACK_ONLY, 403)

    server.before_request_funcs.setdefault(None, []).insert(0, require_loopback)


def is_loopback_address(address: str) -> bool:
    """Whether ``address`` (an IP address, IPv6 with or without brackets) is this machine's.

    An IPv4 client of a dual-stack socket shows as ``::ffff:127.0.0.1``: it is unwrapped, as
    Python 3.11's ``is_loopback`` does not.
    """
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def host_name(host: str) -> str:
    """The name or address a ``Host`` header asks for: no port, lower case, no final dot.

    ``"LocalHost.:8050"`` -> ``"localhost"``, ``"[::1]:8050"`` -> ``"[::1]"``.
    """
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    if host.count(":") > 1:  # an IPv6 address without brackets (not valid, but unambiguous)
        return host
    return host.partition(":")[0].rstrip(".")


def is_local_host(name: str, allowed: frozenset[str]) -> bool:
    """Whether the host ``name`` (from :func:`host_name`) names this machine or is ``allowed``."""
    return name == "localhost" or name in allowed or is_loopback_address(name)


def install_host_check(server, allowed_hosts: Iterable[str] = ()) -> None:
    """Make ``server`` answer only requests whose ``Host`` names this machine (403 otherwise).

    ``allowed_hosts``: further names (``--allow-host``), any port. For an app without a token:
    a token already keeps a rebound page out, as it has neither the token nor a cookie for its
    own name.
    """
    import flask

    allowed = frozenset(host_name(name) for name in allowed_hosts)

    def require_local_host():
        host = flask.request.environ.get("HTTP_HOST")
        if host is None:
            return None  # HTTP/1.0 without Host: not a browser, so nothing a page can rebind
        name = host_name(host)
        if is_local_host(name, allowed):
            return None
        # Shown in the answer (plain text), so only the characters a host name can have.
        shown = re.sub(r"[^a-z0-9.:\[\]_-]", "", name)[:253] or "?"
        return _plain(FOREIGN_HOST.format(name=shown), 403)

    server.before_request_funcs.setdefault(None, []).insert(0, require_local_host)


def _plain(text: str, status: int, **headers: str):
    import flask

    return flask.Response(text, status=status, mimetype="text/plain", headers=headers)
