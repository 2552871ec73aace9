"""Saving playlists on a real Subsonic server (Supysonic on loopback, API 1.12): every matched
track in order, those the server lacks named, the password's legacy form for an old API, and
the password in no message, log line or request address."""

from __future__ import annotations

import logging

import pytest

from explore_dash.callbacks.flow import chain_playlist
from explore_dash.callbacks.stores import Chain, ChainItem
from explore_dash.callbacks.subsonic import save, tracks_to_match
from explore_dash.data.snapshot import Snapshot
from explore_dash.players.subsonic import (
    PASSWORD_VARIABLE,
    SubsonicServer,
    TrackToMatch,
)
from extraction.contract import segment_id
from tests.support.fake_collection import FakeCollection, write_fake_collection
from tests.support.subsonic_server import PASSWORD, USER, running_subsonic


@pytest.fixture
def collection(tmp_path) -> FakeCollection:
    return write_fake_collection(tmp_path / "music")


@pytest.fixture
def served(tmp_path, collection):
    """Supysonic over the folder *above* the library: its paths are library/<path>."""
    with running_subsonic(tmp_path / "supysonic", tmp_path / "music") as server:
        yield server


@pytest.fixture
def server(served, monkeypatch) -> SubsonicServer:
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    return SubsonicServer.from_options(served.url, USER)


def saved_paths(server: SubsonicServer, name: str) -> list[str]:
    return server.playlist_paths(server.playlist_id(name))


def test_subsonic001_a_playlist_is_saved_in_order_each_track_matched_by_path(server, collection):
    snapshot = Snapshot.load(collection.data_dir)
    order = [7, 2, 0, 5]
    saved, text = save(server, "evening", tracks_to_match(snapshot.tracks, order), "")
    assert saved and text == "Saved 'evening' on the server: 4 of 4 tracks matched"
    assert saved_paths(server, "evening") == [
        f"library/{collection.by_id(track).path}" for track in order
    ]
    assert server._legacy is True  # Supysonic speaks API 1.12: the enc: form of the password
    # The same name again: the user's playlist gets the new tracks, no second playlist.
    save(server, "evening", tracks_to_match(snapshot.tracks, [1, 0]), "")
    assert saved_paths(server, "evening") == [f"library/{collection.by_id(t).path}" for t in (1, 0)]
    playlists = server.call("getPlaylists")["playlists"]["playlist"]
    assert [p["name"] for p in playlists] == ["evening"]


def test_subsonic002_a_path_is_saved_each_track_once_and_the_unmatched_named(server, collection):
    snapshot = Snapshot.load(collection.data_dir)
    moments = [(2, 0.0), (2, 2.992), (0, 0.0), (7, 5.984)]
    items = tuple(ChainItem(segment_id(t, o), t, o, f"{collection.by_id(t).artist} – x @ 0:00")
                  for t, o in moments)  # fmt: skip
    chain = Chain("p", "path", 0, "musicnn-msd", "embedding", items, True)
    order, _ = chain_playlist(chain)
    tracks = tracks_to_match(snapshot.tracks, order)
    missing = TrackToMatch("Nowhere/none.wav", "Nobody", "No Album", "Nothing", 12.0)
    saved, text = save(server, "a path", [*tracks[:2], missing, *tracks[2:]], "")
    assert saved and text == ("Saved 'a path' on the server: 3 of 4 tracks matched; not on the "
                              "server: Nobody – Nothing")  # fmt: skip
    assert saved_paths(server, "a path") == [
        f"library/{collection.by_id(track).path}" for track in (2, 0, 7)
    ]


def test_subsonic003_refusals_and_absence_are_one_clear_line_without_the_password(
    served, collection, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    snapshot = Snapshot.load(collection.data_dir)
    tracks = tracks_to_match(snapshot.tracks, [0])
    monkeypatch.setenv(PASSWORD_VARIABLE, "not the password")
    saved, text = save(SubsonicServer.from_options(served.url, USER), "x", tracks, "")
    assert not saved and text == "the Subsonic server refused: Wrong username or password."
    gone = SubsonicServer("http://127.0.0.1:9", USER, PASSWORD)
    saved, text = save(gone, "x", tracks, "")
    assert not saved and text.startswith(
        "the Subsonic server at http://127.0.0.1:9 does not answer")  # fmt: skip
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    server = SubsonicServer.from_options(served.url, USER)
    assert save(server, "kept", tracks, "")[0]
    assert PASSWORD not in repr(server)
    # Not in our log, nor in the server's (the password travels in POST bodies, never in an
    # address a server or proxy writes down), in any of its forms.
    forms = (PASSWORD, PASSWORD.encode().hex(), "enc:" + PASSWORD.encode().hex())
    server_log = served.log.read_text(errors="replace")
    assert f"Failed login attempt for user {USER}" in server_log  # the server's own log
    server_log += (served.log.parent / "server.out").read_text(errors="replace")
    for form in forms:
        assert form not in caplog.text and form not in server_log
