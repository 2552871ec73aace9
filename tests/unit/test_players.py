"""The player's pure parts: MPD addresses, ranges, where the library sits in MPD, what the page
says; the playlist's and a chain's songs; the buttons only with --mpd; --mpd checked at start."""

from __future__ import annotations

import pandas as pd
import pytest

from explore_dash.callbacks.player import (
    chain_queue,
    library_sample,
    now_store,
    player_line,
    playlist_queue,
    track_at,
)
from explore_dash.callbacks.stores import Chain, ChainItem
from explore_dash.cli import parse_args
from explore_dash.players.mpd import (
    MpdAddress,
    MpdPlayer,
    QueueItem,
    library_prefix,
    parse_address,
    play_position,
    queued_message,
)
from explore_dash.players.mpd_watch import NowPlaying, PlayerView, now_playing
from extraction.contract import SEGMENT_SECONDS, segment_id


@pytest.mark.parametrize("text, address", [
    ("localhost", MpdAddress("localhost", 6600)),
    ("music.lan:6601", MpdAddress("music.lan", 6601)),
    (" 192.168.1.5:6600 ", MpdAddress("192.168.1.5", 6600)),
    ("[::1]:6602", MpdAddress("::1", 6602)),
    ("[::1]", MpdAddress("::1", 6600)),
    ("/run/mpd/socket", MpdAddress("/run/mpd/socket", 0)),
])  # fmt: skip
def test_players001_mpd_addresses(text, address):
    assert parse_address(text) == address
    assert parse_address(str(address)) == address  # what --mpd stores reads back the same


@pytest.mark.parametrize("text", ["", ":6600", "host:", "host:port", "host:0", "host:70000"])
def test_players002_bad_addresses_are_refused(text):
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address(text)


def test_players003_a_bad_mpd_option_stops_at_start_in_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--library", "/music", "--mpd", "host:port"])
    assert stopped.value.code == 2
    assert "argument --mpd: expected HOST:PORT for MPD, got 'host:port'" in capsys.readouterr().err
    args = parse_args(["--library", "/music", "--mpd", "host", "--mpd-root", "Music/"])
    assert (args.mpd, args.mpd_root) == ("host:6600", "Music/")


@pytest.mark.parametrize("item, text", [
    (QueueItem("a.ogg"), None),
    (QueueItem("a.ogg", 0.0, 15.0), "0.000:15.000"),
    (QueueItem("a.ogg", 8.976), "8.976:"),
    (QueueItem("a.ogg", 8.976, 23.976), "8.976:23.976"),
])  # fmt: skip
def test_players004_a_moment_is_a_range_and_a_whole_song_none(item, text):
    assert item.range_text() == text


def test_players005_the_library_is_where_most_of_its_files_are_found():
    found = {
        "A/one.ogg": ["Music/mine/A/one.ogg", "Music/mine/A/one.ogg.bak"],
        "B/two.ogg": ["Music/mine/B/two.ogg", "Other/B/two.ogg"],  # two copies: two votes
        "C/three.ogg": ["Music/mine/C/three.ogg"],
        "D/four.ogg": [],  # not in MPD's database yet
        "E/five.ogg": ["Music/mine/XE/five.ogg"],  # a longer name containing it: no vote
    }
    assert library_prefix(found) == "Music/mine/"
    assert library_prefix({"A/one.ogg": ["A/one.ogg"]}) == ""  # MPD's music_directory itself
    assert library_prefix({"A/one.ogg": [], "B/two.ogg": []}) is None


@pytest.mark.parametrize("state, replace, played", [
    ("play", True, 0), ("pause", True, 0), ("stop", True, 0),
    ("play", False, None), ("pause", False, None), ("stop", False, 4),
])  # fmt: skip
def test_players006_replacing_plays_the_first_adding_leaves_what_plays(state, replace, played):
    assert play_position({"state": state}, replace, 0 if replace else 4) == played


def test_players007_what_the_page_says():
    assert queued_message(1, [], True, True) == "Playing 1 song in MPD"
    assert queued_message(3, [], False, True) == "Added 3 songs in MPD"
    text = queued_message(2, ["a", "b", "c", "d"], True, True)
    assert text == "Playing 2 songs in MPD; 4 not in MPD's database (mpc update): a, b, c…"
    assert queued_message(2, [], True, False).endswith("older than 0.20 and cannot play a "
                                                       "moment's range)")  # fmt: skip


def test_players008_the_password_is_read_from_the_environment_and_kept_out_of_repr(monkeypatch):
    monkeypatch.setenv("EXPLORE_DASH_MPD_PASSWORD", "hunter2")
    player = MpdPlayer.from_options("host:6601", root="/Music/mine/")
    assert player.password == "hunter2" and "hunter2" not in repr(player)
    assert player.root == "Music/mine/"
    assert MpdPlayer.from_options("host", root="/").root == ""
    monkeypatch.setenv("EXPLORE_DASH_MPD_PASSWORD", "")
    assert MpdPlayer.from_options("host").password is None


TRACKS = pd.DataFrame(
    {"path": ["A/one.ogg", "B/two.ogg", "C/three.ogg"]}, index=pd.Index([4, 9, 12], name="track")
)


def test_players009_the_playlists_songs_whole_or_from_their_moments():
    assert playlist_queue(TRACKS, [9, 4, 77], None) == [QueueItem("B/two.ogg"),
                                                       QueueItem("A/one.ogg")]  # fmt: skip
    assert playlist_queue(TRACKS, [9, 4], {4: 30.0}) == [QueueItem("B/two.ogg"),
                                                        QueueItem("A/one.ogg", 30.0)]  # fmt: skip


def test_players010_a_chains_moments_each_for_the_item_length():
    items = (ChainItem(1, 12, 6.0, "x"), ChainItem(2, 4, 0.0, "y"), ChainItem(3, 77, 3.0, "gone"))
    chain = Chain("c", "path", 1, "vgg-mtt", "taggram", items, True)
    assert chain_queue(TRACKS, chain, 15.0) == [QueueItem("C/three.ogg", 6.0, 21.0),
                                                QueueItem("A/one.ogg", 0.0, 15.0)]  # fmt: skip
    assert chain_queue(TRACKS, chain, None) == [QueueItem("C/three.ogg", 6.0),
                                                QueueItem("A/one.ogg", 0.0)]  # fmt: skip
    assert chain_queue(TRACKS, None, 15.0) == []


def test_players011_a_sample_of_the_library_spread_over_it():
    tracks = pd.DataFrame({"path": [f"f{i}.ogg" for i in range(100)]})
    assert library_sample(tracks, 4) == ["f0.ogg", "f25.ogg", "f50.ogg", "f75.ogg"]
    assert library_sample(TRACKS, 8) == ["A/one.ogg", "B/two.ogg", "C/three.ogg"]


def test_players012_what_mpd_plays_read_from_its_answers():
    status = {"state": "play", "elapsed": "2.500", "song": "0"}
    song = {"file": "Music/A/one.ogg", "id": "7", "range": "30.000-45.000"}
    playing = now_playing(status, song, read_at=100.0)
    assert playing == NowPlaying("play", "Music/A/one.ogg", 7, 30.0, 2.5, 100.0)
    assert playing.position(101.0) == pytest.approx(33.5)  # counts on while it plays
    paused = now_playing({**status, "state": "pause"}, {"file": "x.ogg", "id": "1"}, 100.0)
    assert paused.position(150.0) == pytest.approx(2.5)  # a whole song: from 0, held
    assert now_playing({"state": "stop"}, {}, 5.0) == NowPlaying("stop", read_at=5.0)


def test_players013_the_player_line():
    paths = {"A/one.ogg": 4, "B/two.ogg": 9}
    names = {4: "Alpha – One", 9: "Beta – Two"}
    assert track_at("Music/mine/A/one.ogg", paths) == 4
    assert track_at("A/one.ogg", paths) == 4
    assert track_at("Music/XA/one.ogg", paths) is None
    playing = NowPlaying("play", "Music/A/one.ogg", 7, 60.0, 5.0, 10.0)
    view = PlayerView(True, "", playing, "radio in MPD")
    assert player_line(view, 11.0, paths, names) == "MPD ▶ Alpha – One @ 1:06 · radio in MPD"
    paused = PlayerView(True, "", NowPlaying("pause", "other/x.ogg", 1, 0.0, 3.0, 0.0))
    line = player_line(paused, 9.0, paths, names)
    assert line == "MPD ‖ other/x.ogg (not in this library) @ 0:03"
    assert player_line(PlayerView(True, "", NowPlaying("stop")), 0.0, paths, names) == (
        "MPD: stopped")  # fmt: skip
    gone = PlayerView(False, "MPD at h:6600 does not answer (refused); trying again")
    assert player_line(gone, 0.0, paths, names) == gone.error


def test_players014_the_segment_mpd_plays_for_the_ring_on_the_maps():
    paths = {"A/one.ogg": 4}
    playing = NowPlaying("play", "Music/A/one.ogg", 7, 30.0, 2.5, 100.0)
    # 30 + 2.5 + 1 = 33.5 s: the 12th segment (index 11, from 32.912 s).
    assert now_store(PlayerView(True, "", playing), 101.0, paths) == {
        "segment": segment_id(4, 11 * SEGMENT_SECONDS), "track": 4}  # fmt: skip
    other = NowPlaying("play", "Elsewhere/x.ogg", 8, 0.0, 1.0, 0.0)
    assert now_store(PlayerView(True, "", other), 1.0, paths) is None
    assert now_store(PlayerView(True, "", NowPlaying("stop")), 1.0, paths) is None
    assert now_store(PlayerView(False, "gone"), 1.0, paths) is None
