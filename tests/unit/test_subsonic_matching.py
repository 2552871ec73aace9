"""Matching the library's tracks to a Subsonic server's songs, the password's two forms, the
page's words, and --subsonic checked at start."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from explore_dash.callbacks.stores import Chain, ChainItem
from explore_dash.callbacks.subsonic import chain_name, tracks_to_match
from explore_dash.cli import parse_args
from explore_dash.players.subsonic import (
    Saved,
    SubsonicServer,
    TrackToMatch,
    best_song,
    folded,
    same_file,
    search_terms,
)
from explore_dash.server.startup import StartupError, check_subsonic

TRACK = TrackToMatch("Björk/Post/01 Army of Me.flac", "Björk", "Post", "Army of Me", 234.0)


@pytest.mark.parametrize("server_path, same", [
    ("Björk/Post/01 Army of Me.flac", True),
    ("/music/Björk/Post/01 Army of Me.flac", True),  # the server's folder above the library
    ("Post/01 Army of Me.flac", True),  # ... or below it
    ("XBjörk/Post/01 Army of Me.flac", False),
    ("Björk/Post/01 Army of Me.mp3", False),
])  # fmt: skip
def test_subsonic_matching001_same_file_at_folder_boundaries(server_path, same):
    assert same_file(server_path, TRACK.path) is same


def test_subsonic_matching002_path_first_then_names_album_and_duration():
    by_path = [{"id": "a", "path": "x/Björk/Post/01 Army of Me.flac", "title": "other"}]
    assert best_song(TRACK, by_path) == "a"
    songs = [
        {"id": "live", "title": "Army of Me", "artist": "Björk", "album": "Live", "duration": 235},
        {"id": "post", "title": "ARMY OF ME", "artist": "bjork", "album": "Post", "duration": 236},
        {"id": "long", "title": "Army of Me", "artist": "Björk", "album": "Post", "duration": 400},
        {"id": "cover", "title": "Army of Me", "artist": "Someone", "album": "Post",
         "duration": 234},
    ]  # fmt: skip
    assert best_song(TRACK, songs) == "post"  # case and accents folded; the album breaks the tie
    assert best_song(TRACK, songs[:1]) == "live"  # another album still is the recording
    assert best_song(TRACK, songs[2:]) is None  # 166 s longer, or another artist
    assert folded("  Sigur   Rós ") == "sigur ros"


def test_subsonic_matching003_search_for_the_title_then_the_files_name():
    assert search_terms(TRACK) == ["Army of Me", "01 Army of Me"]
    untagged = TrackToMatch("a/b/track07.ogg", "b", "a", "track07", 10.0)
    assert search_terms(untagged) == ["track07"]


def test_subsonic_matching004_token_or_hex_password_never_the_plain_one():
    server = SubsonicServer("http://h:4533", "me", "pw:sécret")
    legacy = server._auth(legacy=True)
    assert legacy == {"v": "1.12.0", "p": "enc:" + "pw:sécret".encode().hex()}
    token = server._auth(legacy=False)
    assert token["v"] == "1.13.0" and set(token) == {"v", "t", "s"}
    assert token["t"] == hashlib.md5(("pw:sécret" + token["s"]).encode()).hexdigest()
    assert server._auth(legacy=False)["s"] != token["s"]  # a new salt each call
    assert "pw:sécret" not in repr(server)


def test_subsonic_matching005_what_the_page_says():
    assert Saved("mix", 3, ()).message() == "Saved 'mix' on the server: 3 of 3 tracks matched"
    many = Saved("mix", 1, tuple(f"A – {i}" for i in range(12))).message()
    assert many.startswith("Saved 'mix' on the server: 1 of 13 tracks matched; not on the "
                           "server: A – 0, A – 1") and many.endswith("A – 9…")  # fmt: skip


def test_subsonic_matching006_the_tracks_and_a_chains_name():
    tracks = pd.DataFrame(
        {"path": ["a.ogg", "b.ogg"], "artist": ["A", "B"], "album": ["X", "Y"],
         "title": ["One", "Two"], "duration": [10.0, 20.0]},
        index=pd.Index([3, 8], name="track"),
    )  # fmt: skip
    assert tracks_to_match(tracks, [8, 99, 3]) == [TrackToMatch("b.ogg", "B", "Y", "Two", 20.0),
                                                  TrackToMatch("a.ogg", "A", "X", "One", 10.0)]
    chain = Chain("c", "radio", 0, "m", "l", (ChainItem(1, 3, 6.0, "A – One @ 0:06"),), False)
    assert chain_name(chain) == "explore-dash radio from A – One"


def test_subsonic_matching007_checked_at_start(capsys):
    environ = {"EXPLORE_DASH_SUBSONIC_PASSWORD": "x"}
    check_subsonic(None, None, {})
    check_subsonic("http://h:4533", "me", environ)
    for url, user, env, said in [
        ("http://h:4533", None, environ, "--subsonic needs --subsonic-user NAME"),
        ("h:4533", "me", environ, "expects an http:// or https:// address"),
        ("http://h:4533", "me", {}, "in EXPLORE_DASH_SUBSONIC_PASSWORD"),
        (None, "me", {}, "--subsonic-user needs --subsonic URL"),
    ]:
        with pytest.raises(StartupError, match=said):
            check_subsonic(url, user, env)
    args = parse_args(["--library", "x", "--subsonic", "http://h:4533", "--subsonic-user", "me"])
    assert (args.subsonic, args.subsonic_user) == ("http://h:4533", "me")
