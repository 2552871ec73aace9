"""The app as a WSGI application, for several app processes behind one address.

    EXPLORE_DASH_LIBRARY=~/Music EXPLORE_DASH_REDIS=redis://HOST:6379/0 \\
        EXPLORE_DASH_TOKEN=a-long-secret gunicorn -w 4 -b 0.0.0.0:8050 'explore_dash.wsgi:app'

Configured from the environment (a WSGI server passes no arguments):

``EXPLORE_DASH_LIBRARY``
    the music folder (required);
``EXPLORE_DASH_DATA``
    the data folder (default: the library's, as ``python -m explore_dash`` chooses it);
``EXPLORE_DASH_REDIS``
    the Redis URL of the Celery jobs. With more than one process, set it: the processes then
    share the t-SNE/UMAP jobs and their results, and the maps are computed by
    ``python -m explore_dash.worker``;
``EXPLORE_DASH_ANONYMIZE``
    ``1`` for neutral codes instead of the model names;
``EXPLORE_DASH_TOKEN``
    the access token every visitor needs (explore_dash/server/access.py). This module cannot see the
    address the WSGI server listens on: without a token it answers clients on this machine
    only (403 to any other), so sharing it needs one;
``EXPLORE_DASH_ALLOW_HOSTS``
    host names to answer without a token besides localhost and loopback addresses, separated
    by commas or spaces (``--allow-host``: a reverse proxy on this machine passing its own name).

Each process serves the tables as they are (no extraction is started here: run
``python -m extraction`` beside it, and the pages take the new tracks in as it merges them).
"""

from __future__ import annotations

import os
from pathlib import Path

from explore_dash.config import AppConfig
from explore_dash.server.startup import (
    StartupError,
    access_token,
    allowed_hosts,
    check_data_dir,
    check_jobs_backend,
    check_library,
    data_dir_for,
)

LIBRARY_VARIABLE = "EXPLORE_DASH_LIBRARY"
DATA_VARIABLE = "EXPLORE_DASH_DATA"
REDIS_VARIABLE = "EXPLORE_DASH_REDIS"
ANONYMIZE_VARIABLE = "EXPLORE_DASH_ANONYMIZE"
ALLOW_HOSTS_VARIABLE = "EXPLORE_DASH_ALLOW_HOSTS"


def config_from_environment(environ: dict[str, str]) -> AppConfig:
    """The app's configuration from the variables above; :class:`StartupError` if unusable."""
    if not environ.get(LIBRARY_VARIABLE):
        raise StartupError(f"set {LIBRARY_VARIABLE} to the music folder")
    library = check_library(Path(environ[LIBRARY_VARIABLE]))
    data = environ.get(DATA_VARIABLE)
    data_dir = data_dir_for(library, Path(data) if data else None)
    check_data_dir(data_dir)
    redis_url = environ.get(REDIS_VARIABLE) or None
    check_jobs_backend(redis_url)
    anonymize = environ.get(ANONYMIZE_VARIABLE, "") not in ("", "0", "false", "no")
    token = access_token("127.0.0.1", None, environ)  # only a token given, and checked
    hosts = allowed_hosts(environ.get(ALLOW_HOSTS_VARIABLE, "").replace(",", " ").split())
    return AppConfig(
        library,
        data_dir,
        anonymize=anonymize,
        extract=False,
        redis=redis_url,
        token=token,
        allow_hosts=hosts,
    )


def create_server(environ: dict[str, str]):
    """The Flask server of the app configured by ``environ``."""
    from explore_dash.server.access import install_loopback_only
    from explore_dash.server.app import create_app

    config = config_from_environment(environ)
    server = create_app(config).server
    if config.token is None:
        install_loopback_only(server)
    return server


def __getattr__(name: str):
    """``app`` is built when the WSGI server asks for it (importing this module builds nothing)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        server = create_server(dict(os.environ))
    except StartupError as error:
        # One readable line in the WSGI server's log instead of a traceback.
        raise SystemExit(f"explore-dash: error: {error}") from None
    globals()["app"] = server
    return server
