"""The Dash application factory, and the parts of a built app its entry points hold on to."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dash import Dash, set_props
from dash.background_callback.managers import BaseBackgroundCallbackManager

from explore_dash import ids
from explore_dash.callbacks import register_callbacks
from explore_dash.config import AppConfig
from explore_dash.data.options import option_labels
from explore_dash.data.snapshot import library_choices
from explore_dash.data.state import AppState
from explore_dash.layouts.client import install_settings
from explore_dash.layouts.page import page_layout
from explore_dash.listening.audio import register_audio_route
from explore_dash.maps.settings import DEFAULT_PANELS
from explore_dash.maps.yielding import MapsYield, install_maps_yield
from explore_dash.server.access import access_key, install_access_token, install_host_check
from explore_dash.server.failed_tries import shared_tries
from explore_dash.server.jobs import job_manager, lost_job_message

log = logging.getLogger(__name__)


def assets_dir() -> Path:
    """The page's JS and CSS: ``assets/`` of a source checkout, else the installed package.

    Bootstrap's CSS is vendored in assets/vendor: the app must work offline, without a CDN.
    """
    package = Path(__file__).resolve().parent.parent  # explore_dash/, above server/
    for folder in (package.parent / "assets", package / "assets"):
        if (folder / "explore-core.js").is_file():
            return folder
    raise FileNotFoundError(f"explore-dash's assets are missing (looked beside {package})")


ASSETS_DIR = assets_dir()


def build_layout(state: AppState):
    """The page as of now: built on each page load, so a reload shows the latest tracks."""
    from explore_dash.callbacks.library import current_view
    from explore_dash.data.progress import POLL_IDLE_MS, POLL_RUNNING_MS

    state.refresh()
    snapshot = state.snapshot
    status = state.extraction
    view = current_view(status)
    return page_layout(
        options=option_labels(state.config.anonymize),
        **library_choices(snapshot),
        empty=snapshot.empty,
        library=str(state.config.library),
        data_dir=str(state.config.data_dir),
        n_tracks=len(snapshot.tracks),
        segments=snapshot.collection.largest_space(),
        data_version=snapshot.version,
        # Just started: the extraction may not have written its status yet.
        extracting=view.running or (state.config.extract and (status is None or status.running)),
        extraction=view,
        poll_ms=POLL_RUNNING_MS if view.running or state.config.extract else POLL_IDLE_MS,
        mpd=state.config.mpd is not None,
        subsonic=state.config.subsonic is not None,
    )


def show_callback_error(error: Exception) -> None:
    """Tell the user in the page when a callback fails, instead of failing silently.

    A panel's job lost with its worker (server/jobs.py) is told in that panel, which
    offers to try again.
    """
    lost = lost_job_message(error)
    panel = _failed_panel() if lost is not None else None
    if panel is not None:
        log.warning("panel %s: %s", panel, lost)
        set_props(ids.panel(ids.PANEL_COUNT, panel), {"children": f"Not computed: {lost}."})
        set_props(ids.panel(ids.PANEL_RETRY, panel), {"style": {"display": "inline"}})
        return
    log.exception("callback failed", exc_info=error)
    # The first line only: a background job's error carries its traceback after it.
    text = str(error).strip()
    summary = text.splitlines()[0] if text else type(error).__name__
    set_props(
        ids.ERROR_MESSAGE,
        {
            "children": f"Something went wrong: {summary}. The map may be out of date.",
            "is_open": True,
        },
    )


def _failed_panel() -> int | None:
    """The panel whose callback failed, when it is one of a panel's."""
    from dash import callback_context

    try:
        first = callback_context.outputs_list[0]
        output = first[0] if isinstance(first, list) else first
        return int(output["id"]["panel"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def background_manager(cache_dir: Path, redis_url: str | None = None):
    """The t-SNE/UMAP jobs' manager (server/jobs.py); compiled numba code is kept on disk.

    The compile cache must be set before anything imports umap (the CLI fills it in a separate
    warm-up process, so a user's first UMAP does not wait ~25 s for JIT compilation).
    """
    from explore_dash.maps.numba_cache import NUMBA_FOLDER, configure_numba_cache

    cache_dir.mkdir(parents=True, exist_ok=True)
    configure_numba_cache(cache_dir / NUMBA_FOLDER)
    return job_manager(cache_dir, redis_url)


@dataclass(frozen=True)
class BuiltApp:
    """A built app and the parts of it that its entry points hold on to while it serves.

    Attributes
    ----------
    dash : Dash
        The app: its Flask server is ``dash.server``.
    config : AppConfig
        What it was built for.
    state : AppState
        The tables it serves, refreshed as the extraction merges new tracks.
    jobs : BaseBackgroundCallbackManager
        The t-SNE/UMAP jobs' manager (server/jobs.py); with ``config.redis``, its ``handle`` is
        the Celery app a worker runs.
    maps_yield : MapsYield
        Pauses the maps computed ahead while the page is in use; released when the server stops.
    """

    dash: Dash
    config: AppConfig
    state: AppState
    jobs: BaseBackgroundCallbackManager
    maps_yield: MapsYield


def build_app(config: AppConfig, state: AppState | None = None) -> BuiltApp:
    """Build the app for one library's data folder (tables are loaded once, here)."""
    state = state or AppState.load(config)
    state.preload(DEFAULT_PANELS)
    jobs = background_manager(state.cache_dir, config.redis)
    app = Dash(
        __name__,
        title="explore-dash",
        assets_folder=str(ASSETS_DIR),
        suppress_callback_exceptions=True,
        update_title=None,
        on_error=show_callback_error,
        background_callback_manager=jobs,
    )
    if config.token is not None:
        tries = shared_tries(config.data_dir, config.redis)  # one limit for all processes
        install_access_token(app.server, config.token, access_key(config.data_dir), tries)
    else:
        install_host_check(app.server, config.allow_hosts)
    install_settings(app)
    app.layout = lambda: build_layout(state)
    register_callbacks(app, state)
    register_audio_route(app.server, lambda: state.snapshot.collection, Path(config.library))
    maps_yield = install_maps_yield(app.server, state.cache_dir,
                                    app.config.requests_pathname_prefix)  # fmt: skip
    return BuiltApp(app, config, state, jobs, maps_yield)


def create_app(config: AppConfig, state: AppState | None = None) -> Dash:
    """The app alone, for a caller that needs none of its parts (:func:`build_app`)."""
    return build_app(config, state).dash
