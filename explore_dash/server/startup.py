"""The checks every entry point runs before serving or working: the library, the data folder,
the jobs' backend, the access token and host names, each failing as one :class:`StartupError`.

``python -m explore_dash`` (cli.py), the Celery worker (worker.py) and the WSGI app (wsgi.py)
all import them from here, so none of them imports another.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from explore_dash.server.access import (
    MIN_TOKEN_LENGTH,
    TOKEN_VARIABLE,
    host_name,
    is_loopback_address,
    new_token,
)

CELERY_HINT = "--redis needs Celery and the Redis client: pip install 'explore-dash[cluster]'"


class StartupError(Exception):
    """A problem found before serving, said in one line a user can act on."""


def check_library(library: Path) -> Path:
    """The library folder, resolved; :class:`StartupError` if it is missing or unreadable."""
    library = library.expanduser()
    if not library.is_dir():
        raise StartupError(f"music library not found: {library}")
    try:
        with os.scandir(library) as entries:
            next(entries, None)
    except OSError as error:
        raise StartupError(
            f"music library not readable: {library} ({error.strerror}; check its permissions)"
        ) from None
    return library.resolve()


def data_dir_for(library: Path, data: Path | None) -> Path:
    """The data folder the extraction uses for ``library`` (same default as the extractor)."""
    if data is not None:
        return data.expanduser().resolve()
    # Only the small path helper; the extraction package's heavy modules stay unimported.
    from extraction.contract import default_data_dir

    return default_data_dir(library)


def check_data_dir(data_dir: Path) -> None:
    """Create ``data_dir`` if needed; :class:`StartupError` if it cannot be made or written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StartupError(f"cannot create the data folder {data_dir}: {error.strerror}") from None
    if not os.access(data_dir, os.W_OK):
        raise StartupError(f"the data folder is not writable: {data_dir} (choose one with --data)")


def check_jobs_backend(redis_url: str | None) -> None:
    """:class:`StartupError` if ``--redis`` is given but Celery is missing or Redis is away."""
    if redis_url is None:
        return
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError:
        raise StartupError(CELERY_HINT) from None
    from explore_dash.server.jobs import check_redis

    try:
        check_redis(redis_url)
    except ConnectionError as error:
        raise StartupError(str(error)) from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    # A host name other than localhost may resolve to anything: not loopback.
    return host.lower() in ("localhost", "localhost.") or is_loopback_address(host)


def access_token(host: str, given: str | None, environ: Mapping[str, str]) -> str | None:
    """The token visitors need: ``--token``, else the environment's, else a new one off loopback.

    :class:`StartupError` for a token too short to be a secret.
    """
    token = given or environ.get(TOKEN_VARIABLE) or None
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise StartupError(f"the access token must have at least {MIN_TOKEN_LENGTH} characters")
    if token is None and not is_loopback(host):
        token = new_token()
    return token


def allowed_hosts(names: Sequence[str]) -> tuple[str, ...]:
    """The ``--allow-host`` names as the Host check compares them (lower case, no port).

    :class:`StartupError` for one that is not a host name (a URL, a path, a space), which
    would never match and leave the user wondering why.
    """
    allowed = []
    for name in names:
        normal = host_name(name)
        if not re.fullmatch(r"[a-z0-9_-][a-z0-9._-]*|\[[0-9a-f:.]+\]", normal):
            raise StartupError(
                f"--allow-host {name!r} is not a host name: give a name such as music.example "
                "or an address, without scheme or path"
            )
        allowed.append(normal)
    return tuple(allowed)


def check_subsonic(url: str | None, user: str | None, environ: Mapping[str, str]) -> None:
    """``--subsonic`` needs its user and, in the environment, the password (never an argument:
    other users of the machine see those)."""
    from explore_dash.players.subsonic import PASSWORD_VARIABLE

    if url is None:
        if user is not None:
            raise StartupError("--subsonic-user needs --subsonic URL")
        return
    if not url.startswith(("http://", "https://")):
        raise StartupError(f"--subsonic expects an http:// or https:// address, got {url!r}")
    if not user:
        raise StartupError("--subsonic needs --subsonic-user NAME")
    if not environ.get(PASSWORD_VARIABLE):
        raise StartupError(f"--subsonic needs the password of {user!r} in {PASSWORD_VARIABLE}")
