"""What the map tests share: a t-SNE panel's settings, the empty highlight, how many maps the
projection cache has computed, and the maps-ahead process started as the app starts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from explore_dash.maps.cache import MAP_CACHE_DIR, ProjectionCache
from explore_dash.maps.settings import PanelSettings
from tests.support.paths import REPO

#: A panel whose map is computed in the background (t-SNE of the MusiCNN MSD embedding).
TSNE = PanelSettings("musicnn", "msd", "embedding", "tsne")
#: The Highlight card with nothing picked: (artists, albums, tracks, tags).
NONE = ([], [], [], [])


def computations(cache: Path) -> int:
    """How many maps the projection cache under ``cache`` has computed (not read back)."""
    store = ProjectionCache(cache / MAP_CACHE_DIR)
    try:
        return store.computations
    finally:
        store.close()


def run_ahead(data: Path) -> subprocess.Popen:
    """``python -m explore_dash.maps.ahead`` on ``data``, t-SNE only; its stderr is piped."""
    command = [sys.executable, "-m", "explore_dash.maps.ahead", "--data", str(data),
               "--projections", "tsne"]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE)


def job_processes() -> list:
    """Background-job processes of the app served in this process (forked copies of it).

    Returns
    -------
    list of psutil.Process
    """
    import psutil

    this = psutil.Process()
    return [
        child
        for child in this.children(recursive=True)
        if child.is_running() and child.status() != psutil.STATUS_ZOMBIE
        and child.cmdline() == this.cmdline()
    ]  # fmt: skip
