"""Library scanning, fallback tags and stable track ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from extraction.errors import LibraryError
from extraction.library import (
    assign_track_ids,
    check_library,
    read_tags,
    scan_library,
    tags_from_path,
)


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_library001_scan_finds_audio_extensions_case_insensitively_and_ignores_the_rest(
    tmp_path: Path,
):
    for name in ["A/B/one.MP3", "A/B/two.flac", "A/three.opus", "four.Ogg", "x.m4a", "y.aiff"]:
        touch(tmp_path / name)
    for name in ["A/B/cover.jpg", "A/B/album.cue", "notes.nfo", ".hidden.mp3", "A/._one.mp3"]:
        touch(tmp_path / name)
    paths = [f.path for f in scan_library(tmp_path)]
    assert paths == sorted(
        ["A/B/one.MP3", "A/B/two.flac", "A/three.opus", "four.Ogg", "x.m4a", "y.aiff"]
    )


def test_library002_scan_records_size_and_mtime(tmp_path: Path):
    f = touch(tmp_path / "a.wav", b"12345")
    os.utime(f, ns=(1_000_000_000, 2_000_000_000))
    (entry,) = scan_library(tmp_path)
    assert (entry.size, entry.mtime_ns) == (5, 2_000_000_000)


def test_library003_scan_skips_links_leaving_the_library_and_survives_loops(tmp_path: Path):
    library = tmp_path / "lib"
    outside = touch(tmp_path / "secret" / "private.mp3")
    touch(library / "in.mp3")
    (library / "escape.mp3").symlink_to(outside)
    (library / "loop").symlink_to(library, target_is_directory=True)
    (library / "inside-link.mp3").symlink_to(library / "in.mp3")
    paths = [f.path for f in scan_library(library)]
    assert paths == ["in.mp3", "inside-link.mp3"]


def test_library004_check_library_errors_are_clear(tmp_path: Path):
    with pytest.raises(LibraryError, match="not found"):
        check_library(tmp_path / "nope")
    touch(tmp_path / "file")
    with pytest.raises(LibraryError, match="not a folder"):
        check_library(tmp_path / "file")
    assert check_library(tmp_path) == tmp_path.resolve()


def test_library005_track_ids_are_stable_and_never_reused():
    ids, next_id = assign_track_ids(["b", "a"], {}, 0)
    assert ids == {"a": 0, "b": 1} and next_id == 2
    # "a" removed, "c" added: "b" keeps 1, "c" gets a fresh id, not 0.
    ids, next_id = assign_track_ids(["b", "c"], {"b": 1}, next_id)
    assert ids == {"b": 1, "c": 2} and next_id == 3


def test_library006_fallback_tags_from_folders():
    assert tags_from_path("Artist/Album/01 Song.ogg") == {
        "artist": "Artist",
        "album": "Album",
        "title": "01 Song",
    }
    assert tags_from_path("Song.ogg") == {"artist": None, "album": None, "title": "Song"}


def test_library007_read_tags_on_garbage_falls_back_to_path(tmp_path: Path):
    touch(tmp_path / "Some Artist" / "Some Album" / "track.mp3", b"not audio at all")
    tags = read_tags(tmp_path, "Some Artist/Some Album/track.mp3")
    assert tags["artist"] == "Some Artist"
    assert tags["album"] == "Some Album"
    assert tags["title"] == "track"
    assert tags["duration"] is None
