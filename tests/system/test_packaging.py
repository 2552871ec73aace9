"""`pip install .` (not only an editable install) gives a working app: assets and model graphs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.paths import REPO


def test_packaging001_installed_wheel_finds_assets_and_models(tmp_path: Path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "wheel"),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("explore_dash-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("explore-core.js", "explore-view.js", "style.css", "vendor/bootstrap.min.css"):
        assert f"explore_dash/assets/{asset}" in names
    shipped = {Path(n).name for n in names if n.startswith("extraction/models/")}
    assert {"musicnn-msd.pb", "musicnn-mtt.json", "vgg-mtt.pb", "vgg-mtt.json"} <= shipped
    assert "extraction/mel_filterbank.npz" in names  # the mel bands without Essentia

    target = tmp_path / "site"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    # Away from the checkout, with the installed copy first on the path.
    probe = (
        "import explore_dash, extraction.registry as r;"
        "from explore_dash.server.app import ASSETS_DIR;"
        "print(explore_dash.__file__); print(ASSETS_DIR);"
        "print((ASSETS_DIR / 'explore-core.js').is_file()); print(sorted(r.load_registry()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    module, assets, has_js, models = out.stdout.splitlines()
    assert module.startswith(str(target))
    assert assets.startswith(str(target)) and has_js == "True"
    assert models == "['musicnn-msd', 'musicnn-mtt', 'vgg-msd', 'vgg-mtt']"
