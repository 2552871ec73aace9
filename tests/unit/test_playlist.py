"""Playlists: which tracks and in what order, the exact M3U8 text, and safe saving."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explore_dash.listening.playlist import (
    PlaylistEntry,
    playlist_from_segments,
    safe_playlist_name,
    save_playlist,
    to_m3u8,
)
from extraction.contract import segment_id


@pytest.fixture()
def tracks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "artist": ["Alpha", "Beta", "Gamma", ""],
            "album": ["One", "Two", "Three", ""],
            "title": ["Song A", "Étude", "Crowd", "Untitled"],
            "genre": ["", "", "", ""],
            "duration": [61.6, 200.4, 3.0, float("nan")],
            "path": ["Alpha/One/a.mp3", "Beta/Two/é.flac", "Gamma/c.ogg", "u.wav"],
        },
        index=pd.Index([0, 2, 5, 9], name="track"),
    )


def ids(*pairs: tuple[int, int]) -> list[int]:
    return [segment_id(track, index * 2.992) for track, index in pairs]


def test_playlist001_playlist_orders_by_selected_segments_then_first_appearance(
    tracks: pd.DataFrame,
):
    selection = ids((5, 0), (2, 3), (0, 1), (2, 4), (0, 0), (2, 5), (9, 0))
    entries = playlist_from_segments(selection, tracks)
    # Selected segments: track 2 three, track 0 two, tracks 5 and 9 one each (5 came first).
    assert [e.track for e in entries] == [2, 0, 5, 9]
    assert entries[0] == PlaylistEntry(2, "Beta/Two/é.flac", "Beta", "Étude", 200.4)
    assert len({e.track for e in entries}) == len(entries)


def test_playlist002_playlist_ties_keep_first_appearance(tracks: pd.DataFrame):
    entries = playlist_from_segments(np.array(ids((9, 0), (5, 2), (0, 7))), tracks)
    assert [e.track for e in entries] == [9, 5, 0]


def test_playlist003_playlist_skips_unknown_tracks_and_handles_nothing(tracks: pd.DataFrame):
    assert [e.track for e in playlist_from_segments(ids((4, 0), (0, 0)), tracks)] == [0]
    assert playlist_from_segments([], tracks) == []


@pytest.fixture()
def entries() -> list[PlaylistEntry]:
    return [
        PlaylistEntry(2, "Beta/Two/é.flac", "Beta", "Étude", 200.4),
        PlaylistEntry(0, "Alpha/One/a.mp3", "Alpha", "Song A", 61.6),
        PlaylistEntry(9, "u.wav", "", "Untitled", float("nan")),
    ]


def test_playlist004_m3u8_relative(entries: list[PlaylistEntry]):
    assert (
        to_m3u8(entries, Path("/music"), relative_to_library=True)
        == (
            "#EXTM3U\n"
            "#EXTINF:200,Beta - Étude\n"
            "Beta/Two/é.flac\n"
            "#EXTINF:62,Alpha - Song A\n"
            "Alpha/One/a.mp3\n"
            "#EXTINF:-1,Untitled\n"
            "u.wav\n"
        ).encode()
    )


def test_playlist005_m3u8_absolute(
    entries: list[PlaylistEntry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    library = tmp_path / "My Music"
    content = to_m3u8(entries[:2], library)  # absolute unless asked otherwise
    assert (
        content
        == (
            "#EXTM3U\n"
            f"#EXTINF:200,Beta - Étude\n{library}/Beta/Two/é.flac\n"
            f"#EXTINF:62,Alpha - Song A\n{library}/Alpha/One/a.mp3\n"
        ).encode()
    )
    # A relative library is made absolute.
    monkeypatch.chdir(tmp_path)
    assert to_m3u8(entries[1:2], Path("My Music")).splitlines()[2] == (
        f"{library}/Alpha/One/a.mp3".encode()
    )


def test_playlist006_m3u8_of_nothing():
    assert to_m3u8([], Path("/music")) == b"#EXTM3U\n"


def test_playlist007_m3u8_writes_a_non_utf8_name_as_its_original_bytes(tmp_path: Path):
    from extraction.contract import stored_path

    real = b"caf\xe9 #1.wav"  # Latin-1, as copied from an old disk
    (tmp_path / os.fsdecode(real)).write_bytes(b"RIFF")
    stored = stored_path(os.fsdecode(real))
    assert stored.encode("utf-8") != real  # valid text in tracks.parquet, not the raw bytes
    entry = PlaylistEntry(1, stored, "A", "B", 1.0)
    assert to_m3u8([entry], tmp_path).splitlines()[2] == os.fsencode(tmp_path) + b"/" + real
    assert to_m3u8([entry], tmp_path, relative_to_library=True).splitlines()[2] == real


def test_playlist008_m3u8_tags_cannot_inject_lines():
    hostile = PlaylistEntry(
        1,
        "ok.mp3",
        "Evil\r\n#EXTINF:1,x",
        "Title\n/etc/passwd\r\u2028\x85\x00end",
        10.0,
    )
    content = to_m3u8([hostile], Path("/music"), relative_to_library=True)
    assert content == (b"#EXTM3U\n#EXTINF:10,Evil #EXTINF:1,x - Title /etc/passwd end\nok.mp3\n")
    assert content.count(b"\n") == 3 and b"\r" not in content


def test_playlist009_m3u8_leaves_out_paths_with_line_breaks_and_guards_hash_paths():
    entries = [
        PlaylistEntry(1, "bad\nname.mp3", "A", "B", 1.0),
        PlaylistEntry(2, "#hash.mp3", "A", "C", 1.0),
    ]
    assert to_m3u8(entries, Path("/music"), relative_to_library=True) == (
        b"#EXTM3U\n#EXTINF:1,A - C\n./#hash.mp3\n"
    )
    assert to_m3u8(entries, Path("/music")) == b"#EXTM3U\n#EXTINF:1,A - C\n/music/#hash.mp3\n"


@pytest.mark.parametrize(
    ("name", "file_name"),
    [
        ("Evening mix", "Evening mix.m3u8"),
        ("Évening — mix", "Évening _ mix.m3u8"),
        ("../../etc/passwd", "_.._etc_passwd.m3u8"),
        ("/abs/path", "_abs_path.m3u8"),
        ("a\\b", "a_b.m3u8"),
        ("..", "playlist.m3u8"),
        ("", "playlist.m3u8"),
        ("   ", "playlist.m3u8"),
        ("///", "playlist.m3u8"),
        (".hidden", "hidden.m3u8"),
        ("mix.M3U8", "mix.m3u8"),
        ("mix.m3u", "mix.m3u8"),
        ("line\nbreak", "line break.m3u8"),
        ("CON", "_CON.m3u8"),
        ("lpt1.txt", "_lpt1.txt.m3u8"),
        ('mix: <best> "of" a|b?*', "mix_ _best_ _of_ a_b__.m3u8"),
        ("trailing dot. ", "trailing dot.m3u8"),
        ("🎵 night", "_ night.m3u8"),
        ("x" * 300, "x" * 200 + ".m3u8"),
        # Cut by UTF-8 bytes at a character boundary: 100 CJK characters are 300 bytes, more
        # than a file name holds (255), and were "File name too long".
        ("夜" * 100, "夜" * 66 + ".m3u8"),
        ("a" + "夜" * 100, "a" + "夜" * 66 + ".m3u8"),
        ("ab" + "夜" * 100, "ab" + "夜" * 66 + ".m3u8"),
    ],
)
def test_playlist010_safe_playlist_name(name: str, file_name: str):
    assert safe_playlist_name(name) == file_name


def test_playlist011_save_playlist(tmp_path: Path):
    content = "#EXTM3U\n#EXTINF:1,É\na.mp3\n".encode()
    path = save_playlist(content, tmp_path, "My mix")
    assert path == tmp_path / "playlists" / "My mix.m3u8"
    assert path.read_bytes() == content  # "\n" kept as is
    path = save_playlist(b"#EXTM3U\n", tmp_path, "My mix")
    assert path.read_text(encoding="utf-8") == "#EXTM3U\n"
    assert sorted(p.name for p in (tmp_path / "playlists").iterdir()) == ["My mix.m3u8"]


@pytest.mark.parametrize("name", ["../escape", "../../escape", "/tmp/escape", "sub/dir", ".."])
def test_playlist012_save_playlist_stays_in_the_playlists_folder(tmp_path: Path, name: str):
    data_dir = tmp_path / "data"
    path = save_playlist(b"#EXTM3U\n", data_dir, name)
    assert path.parent == data_dir / "playlists"
    assert path.exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]


def test_playlist013_a_name_of_100_cjk_characters_is_saved(tmp_path: Path):
    path = save_playlist(b"#EXTM3U\n", tmp_path, "夜" * 100)
    assert path.is_file() and len(os.fsencode(path.name)) <= 255


def test_playlist014_the_playlists_folder_and_its_files_are_capped(tmp_path: Path, monkeypatch):
    import explore_dash.listening.playlist as playlist

    monkeypatch.setattr(playlist, "MAX_SAVED_PLAYLISTS", 3)
    for name in ("a", "b", "c"):
        save_playlist(b"#EXTM3U\n", tmp_path, name)
    with pytest.raises(playlist.PlaylistError, match="3 playlists"):
        save_playlist(b"#EXTM3U\n", tmp_path, "d")  # a fourth file: refused
    assert save_playlist(b"#EXTM3U\nx\n", tmp_path, "b").read_bytes() == b"#EXTM3U\nx\n"
    monkeypatch.setattr(playlist, "MAX_PLAYLIST_BYTES", 10)
    with pytest.raises(playlist.PlaylistError, match="too long"):
        save_playlist(b"#EXTM3U\n" + b"x" * 10, tmp_path, "a")
    assert sorted(p.name for p in (tmp_path / "playlists").iterdir()) == [
        "a.m3u8", "b.m3u8", "c.m3u8"]  # fmt: skip


def test_playlist015_durations_round_half_up_as_the_page_shows_them():
    from explore_dash.formatting import format_time

    # A 74.5-s track: 1:15 in the player and the playlist, so 75 in #EXTINF (not 74, as Python's
    # round() to even gave); a 0.5-s file lasts 1 s, not "0:00"; a moment at 2.99 s is @ 0:03.
    assert [format_time(s) for s in (74.5, 74.49, 0.5, 2.99, 3599.5)] == [
        "1:15", "1:14", "0:01", "0:03", "1:00:00"
    ]  # fmt: skip
    lines = to_m3u8(
        [PlaylistEntry(1, "a.wav", "A", "x", 74.5), PlaylistEntry(2, "b.wav", "B", "y", 0.5)],
        Path("/music"),
        relative_to_library=True,
    ).splitlines()
    assert lines[1] == b"#EXTINF:75,A - x" and lines[3] == b"#EXTINF:1,B - y"
