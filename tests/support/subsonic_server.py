"""A real Subsonic API server (Supysonic, from PyPI) on loopback for the tests: its own SQLite
database and config in a temporary folder, one user, one music folder scanned.

Supysonic pins its own Flask and peewee, so it lives in a venv of its own: ``.ci/run`` makes
``.venv-subsonic`` and names its ``bin`` folder in ``EXPLORE_DASH_TEST_SUPYSONIC``; elsewhere
``supysonic-server`` is looked for on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.doubles import free_port, wait_for_port

USER = "listener"
#: Non-ASCII and a colon on purpose: both must survive the password's encodings.
PASSWORD = "pw:sécret-42"


@dataclass(frozen=True)
class SubsonicServer:
    url: str
    log: Path
    process: subprocess.Popen


def supysonic_bin() -> Path:
    """The folder holding supysonic-cli and supysonic-server, or skip (fail under CI)."""
    named = os.environ.get("EXPLORE_DASH_TEST_SUPYSONIC")
    if named and (Path(named) / "supysonic-server").exists():
        return Path(named)
    found = shutil.which("supysonic-server")
    if found:
        return Path(found).parent
    if os.environ.get("CI"):
        pytest.fail("CI must provide Supysonic: EXPLORE_DASH_TEST_SUPYSONIC=<venv>/bin")
    pytest.skip("no Supysonic (python -m venv v && v/bin/pip install supysonic waitress; "
                "EXPLORE_DASH_TEST_SUPYSONIC=v/bin)")  # fmt: skip


@contextmanager
def running_subsonic(folder: Path, music: Path) -> Iterator[SubsonicServer]:
    """Supysonic serving ``music`` (scanned once) to :data:`USER`, its files under ``folder``."""
    tools = supysonic_bin()
    folder.mkdir(parents=True, exist_ok=True)
    # Supysonic 0.7 reads supysonic.conf from its working directory (besides /etc and ~), not
    # from an environment variable: so every command runs in ``folder``.
    (folder / "supysonic.conf").write_text(
        f"[base]\ndatabase_uri = sqlite:///{folder / 'supysonic.db'}\n"
        f"[webapp]\nmount_api = on\nmount_webui = off\ncache_dir = {folder / 'cache'}\n"
        f"log_file = {folder / 'server.log'}\nlog_level = DEBUG\n"
        f"[daemon]\nsocket = {folder / 'daemon.sock'}\n"
    )

    def cli(*arguments: str) -> None:
        subprocess.run([str(tools / "supysonic-cli"), *arguments], cwd=folder, check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    cli("user", "add", USER, "-p", PASSWORD)
    cli("folder", "add", "music", str(music))
    cli("folder", "scan", "music")
    port = free_port()
    log = folder / "server.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(tools / "supysonic-server"), "-S", "waitress", "-h", "127.0.0.1", "-p", str(port)],
            cwd=folder, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process, timeout=60)
        yield SubsonicServer(f"http://127.0.0.1:{port}", folder / "server.log", process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
