"""numba's compiled code on disk, and the warm-up that fills it: UMAP compiles for tens of
seconds in a fresh process otherwise (docs/projections.md). One folder per version set of
numba, umap-learn and pynndescent, under the data folder's cache (:func:`numba_cache_dir`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

from explore_dash.maps.tsne import project_tsne
from explore_dash.maps.umap import project_umap
from extraction.contract import CACHE_DIR

log = logging.getLogger(__name__)

#: Under the data folder's cache/.
NUMBA_FOLDER = "numba"

_warm = False


def numba_cache_dir(data_dir: Path) -> Path:
    """The folder under which :func:`configure_numba_cache` keeps a data folder's compiled code."""
    return Path(data_dir) / CACHE_DIR / NUMBA_FOLDER


def numba_cache_path(cache_dir: Path) -> Path:
    """Where numba's compiled code goes under ``cache_dir``: one folder per library versions.

    numba checks a cached function against its own source file only, so a cached umap function
    could keep inlined code of an older pynndescent; a folder per version set avoids that.
    """
    versions = "-".join(
        f"{package}{_version(package)}" for package in ("numba", "umap-learn", "pynndescent")
    )
    return Path(cache_dir) / versions


def configure_numba_cache(cache_dir: Path) -> Path:
    """Keep numba's compiled code in ``cache_dir`` for this process and the ones it starts.

    Call at app start, before anything imports umap: functions decorated before this still
    use numba's default cache location. Returns the folder used (:func:`numba_cache_path`).
    """
    path = numba_cache_path(cache_dir)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    if "numba" in sys.modules:
        import numba

        numba.config.CACHE_DIR = str(path)
    if "umap" in sys.modules:
        log.warning("umap was imported before configure_numba_cache; its cache stays elsewhere")
    return path


def warm_up(cache_dir: Path) -> None:
    """Fill numba's disk cache with UMAP's compiled code by mapping a few hundred points.

    A fresh process then loads instead of compiling (docs/projections.md has the timings).
    Also runs a tiny t-SNE so its libraries are loaded. Cheap when called again in the same
    process. Never run it in the Dash server process itself: numba's OpenMP threads make the
    forked background jobs abort (use :func:`start_warm_up`).
    """
    global _warm
    configure_numba_cache(cache_dir)
    if _warm:
        return
    features = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    project_umap(features)
    project_tsne(features)
    _warm = True


def start_warm_up(cache_dir: Path) -> subprocess.Popen[bytes]:
    """Run :func:`warm_up` in a separate process (so the server never touches numba)."""
    code = "import sys; from pathlib import Path; "
    code += "from explore_dash.maps.numba_cache import warm_up; "
    code += "warm_up(Path(sys.argv[1]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, str(cache_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Low priority: at start-up the extraction (the user's first map) comes first.
        preexec_fn=lambda: os.nice(10),
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "0"
