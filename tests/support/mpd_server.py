"""A real MPD (Debian's ``mpd``) on loopback for the tests: a null audio output, its own
database, state and playlists in a temporary folder, over a music folder the test chooses."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mpd
import pytest

from tests.support.doubles import free_port, wait_for_port


@dataclass(frozen=True)
class MpdServer:
    """A running MPD: where it listens, and its process."""

    port: int
    music: Path
    process: subprocess.Popen

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, password: str | None = None) -> mpd.MPDClient:
        """A connected client; the caller disconnects it."""
        client = mpd.MPDClient()
        client.timeout = 10
        client.connect("127.0.0.1", self.port)
        if password:
            client.password(password)
        return client

    def queue(self) -> list[tuple[str, str | None]]:
        """(file, range) of each song in the queue, in order."""
        client = self.client()
        try:
            return [(song["file"], song.get("range")) for song in client.playlistinfo()]
        finally:
            client.disconnect()

    def status(self) -> dict:
        client = self.client()
        try:
            return client.status()
        finally:
            client.disconnect()

    def playing(self) -> tuple[str, str | None, float]:
        """(file, range, seconds into the song: the range's start plus elapsed) of what plays."""
        client = self.client()
        try:
            song, status = client.currentsong(), client.status()
        finally:
            client.disconnect()
        start = song.get("range", "").partition("-")[0]
        seconds = (float(start) if start else 0.0) + float(status.get("elapsed", 0.0))
        return song["file"], song.get("range"), seconds


def mpd_program() -> str:
    """Debian's mpd, or skip (fail under CI, which must run these tests)."""
    program = shutil.which("mpd") or ("/usr/bin/mpd" if os.path.exists("/usr/bin/mpd") else None)
    if program is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide MPD: apt-get install mpd")
        pytest.skip("no mpd (sudo apt install mpd)")
    return program


def write_config(folder: Path, music: Path, port: int, password: str | None) -> Path:
    """mpd.conf for an MPD of the tests' own: nothing outside ``folder`` written."""
    (folder / "playlists").mkdir(parents=True, exist_ok=True)
    lines = [
        f'music_directory "{music}"',
        f'db_file "{folder / "database"}"',
        f'state_file "{folder / "state"}"',
        f'playlist_directory "{folder / "playlists"}"',
        f'log_file "{folder / "log"}"',
        'bind_to_address "127.0.0.1"',
        f'port "{port}"',
        'audio_output {\n  type "null"\n  name "tests"\n}',
    ]
    if password:
        # Without the password a client may do nothing at all.
        lines += [f'password "{password}@read,add,control,admin"', 'default_permissions ""']
    config = folder / "mpd.conf"
    config.write_text("\n".join(lines) + "\n")
    return config


def update_database(server: MpdServer, password: str | None = None, timeout: float = 30) -> None:
    """Scan the music folder and wait for the scan to end."""
    client = server.client(password)
    try:
        client.update()
        deadline = time.monotonic() + timeout
        while "updating_db" in client.status():
            if time.monotonic() > deadline:
                raise TimeoutError("MPD's database update did not end")
            time.sleep(0.05)
    finally:
        client.disconnect()


def start_mpd(folder: Path, music: Path, port: int | None = None,
              password: str | None = None) -> MpdServer:  # fmt: skip
    """An MPD serving ``music``, its files under ``folder``, its database up to date."""
    port = port or free_port()
    config = write_config(folder, music, port, password)
    process = subprocess.Popen([mpd_program(), "--no-daemon", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for_port(port, process, timeout=30)
    except BaseException:
        process.kill()
        raise
    server = MpdServer(port, music, process)
    update_database(server, password)
    return server


def stop_mpd(server: MpdServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(10)


@contextmanager
def running_mpd(folder: Path, music: Path, password: str | None = None) -> Iterator[MpdServer]:
    server = start_mpd(folder, music, password=password)
    try:
        yield server
    finally:
        stop_mpd(server)
