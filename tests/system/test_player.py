"""Exported playlists open in a real player (mpv), wherever they are saved, whatever the names."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from explore_dash.listening.playlist import entries_for_tracks, export_playlist
from extraction.library import scan_library
from tests.support.fake_collection import write_wav

# Names players and playlist writers trip over; bytes, since one of them is not UTF-8.
AWKWARD_NAMES = (
    b"Artist With Space/Album 'Quoted' \"Double\"/01 a song.wav",
    b"#hash first.wav",
    b"Sub/#2 hash in a folder.wav",
    "Ünïcødé/日本語のトラック.wav".encode(),
    "emoji 🎵🔥.wav".encode(),
    b"Latin-1 caf\xe9 (old disk).wav",
    b"semi;colon & amp %20 percent, comma.wav",
    b"back\\slash and tab\tinside.wav",
)
# Reserved on Windows, where a playlist may be copied: < > : " / \ | ? *
PLAYLIST_NAME = 'Mix: <best> of "2026" | a/b\\c?*'


def require_mpv() -> str:
    mpv = shutil.which("mpv")
    if mpv is None:
        message = "mpv not found: 'sudo apt install mpv' (CI installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return mpv


def play(playlist: Path, cwd: Path) -> subprocess.CompletedProcess:
    """mpv, headless, 0.2 s of each entry, from ``cwd`` (a player's own working folder)."""
    return subprocess.run(
        [
            require_mpv(),
            "--no-config",
            "--no-video",
            "--ao=null",
            "--length=0.2",
            "--msg-level=all=info",
            f"--playlist={playlist}",
        ],
        cwd=cwd,
        capture_output=True,
        timeout=120,
    )


def assert_every_entry_opens(result: subprocess.CompletedProcess, n_entries: int) -> None:
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert "Failed to open" not in output, output
    assert output.count("Playing: ") == n_entries, output
    assert output.count("(+) Audio") == n_entries, output  # each one decoded, not just named
    assert result.returncode == 0, output


@pytest.fixture()
def awkward_library(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """Real WAV files with awkward names, and their tracks as the extraction stores them."""
    library = tmp_path / "music"
    for number, name in enumerate(AWKWARD_NAMES):
        path = Path(os.fsdecode(os.path.join(os.fsencode(library), name)))
        write_wav(path, seconds=0.5, hz=220.0 + 40 * number)
    files = scan_library(library)  # the names as tracks.parquet holds them
    assert len(files) == len(AWKWARD_NAMES)
    tracks = pd.DataFrame(
        {
            "path": [f.path for f in files],
            "artist": ['Artist, "quoted"'] * len(files),
            "title": [Path(f.path).stem for f in files],
            "duration": [1.2] * len(files),
        },
        index=pd.Index(range(len(files)), name="track"),
    )
    return library, tracks


def test_player001_every_exported_playlist_opens_in_mpv_wherever_it_is_saved(
    tmp_path: Path, awkward_library
):
    library, tracks = awkward_library
    data = tmp_path / "data"
    entries = entries_for_tracks(tracks.index, tracks)
    before = sorted(library.rglob("*"))

    kept = export_playlist(entries, library, data, PLAYLIST_NAME)
    assert kept.saved.parent == data / "playlists"
    assert kept.filename == kept.saved.name == "Mix_ _best_ of _2026_ _ a_b_c__.m3u8"
    assert sorted(library.rglob("*")) == before  # the music folder is never written to
    assert kept.download.startswith(b'#EXTM3U\n#EXTINF:1,Artist, "quoted" - ')

    # The copy kept in the data folder, played from elsewhere.
    assert_every_entry_opens(play(kept.saved, cwd=tmp_path), len(entries))
    # The download, saved wherever a browser puts downloads, and next to the data folder's copy.
    for folder in (tmp_path / "Downloads", data / "playlists" / "elsewhere"):
        folder.mkdir(parents=True)
        downloaded = folder / kept.filename
        downloaded.write_bytes(kept.download)
        assert_every_entry_opens(play(downloaded, cwd=folder), len(entries))

    # Paths relative to the library: made for a playlist kept at the library's root.
    relative = export_playlist(entries, library, data, PLAYLIST_NAME, relative_to_library=True)
    assert not any(line.startswith(os.fsencode(library)) for line in relative.download.splitlines())
    at_root = library / relative.filename
    at_root.write_bytes(relative.download)  # as the user would, after downloading it
    assert_every_entry_opens(play(at_root, cwd=tmp_path), len(entries))
    # The kept copy is absolute all the same: it lives outside the library.
    assert_every_entry_opens(play(relative.saved, cwd=tmp_path), len(entries))
