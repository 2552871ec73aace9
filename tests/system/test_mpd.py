"""Sending music to a real MPD (Debian's mpd on loopback, a null audio output): the playlist and
a radio's moments queued with their ranges, the library found inside MPD's music folder, MPD
absent, restarted, or asking a password."""

from __future__ import annotations

import logging
import time

import pytest

from explore_dash.callbacks.player import (
    chain_queue,
    library_sample,
    player_line,
    playlist_queue,
    send,
    send_chain,
    track_paths,
)
from explore_dash.callbacks.stores import Chain, ChainItem
from explore_dash.config import AppConfig
from explore_dash.data.snapshot import Snapshot, track_names
from explore_dash.data.state import AppState
from explore_dash.listening.radio import Diversity
from explore_dash.players.mpd import PASSWORD_VARIABLE, MpdPlayer, QueueItem
from explore_dash.players.mpd_watch import MpdWatcher
from extraction.contract import SEGMENT_SECONDS, segment_id
from tests.support.fake_collection import FakeCollection, write_fake_collection, write_wav
from tests.support.mpd_server import MpdServer, running_mpd, start_mpd, stop_mpd
from tests.support.waiting import wait_until


@pytest.fixture
def collection(tmp_path) -> FakeCollection:
    """The fake collection, its files long enough to hold a moment's 15-s range (MPD cuts a range
    at the song's end); its library is the folder ``library/`` inside ``tmp_path``, which the MPD
    below takes as its music folder."""
    fake = write_fake_collection(tmp_path)
    for track in fake.ok_tracks():
        write_wav(fake.library / track.path, seconds=track.duration + 15, sample_rate=4000)
    return fake


@pytest.fixture
def server(tmp_path, collection) -> MpdServer:
    with running_mpd(tmp_path / "mpd", tmp_path) as server:
        yield server






def radio(collection: FakeCollection, *moments: tuple[int, int]) -> Chain:
    """A radio chain of (track, segment index) moments."""
    items = tuple(
        ChainItem(segment_id(track, index * SEGMENT_SECONDS), track, index * SEGMENT_SECONDS,
                  f"{track}@{index}")  # fmt: skip
        for track, index in moments
    )
    return Chain("r1", "radio", 0, "musicnn-msd", "embedding", items, False)


def test_mpd001_a_radio_plays_in_mpd_with_each_moments_range(server, collection):
    """The library is found inside MPD's music folder (at library/) without --mpd-root, and
    each moment plays for the item length from where it is, not the whole track."""
    snapshot = Snapshot.load(collection.data_dir)
    chain = radio(collection, (2, 3), (0, 1), (7, 0))
    player = MpdPlayer.from_options(server.address)
    queued, text = send(player, chain_queue(snapshot.tracks, chain, 15.0), True,
                      library_sample(snapshot.tracks), "empty")  # fmt: skip
    assert queued and text == "Playing 3 songs in MPD"
    assert player._found_root == "library/"
    starts = [round(index * SEGMENT_SECONDS, 3) for index in (3, 1, 0)]
    assert server.queue() == [
        ("library/Beta/Second/01 Étude.wav", f"{starts[0]:.3f}-{starts[0] + 15:.3f}"),
        ("library/Alpha/First Album/01 Song A.wav", f"{starts[1]:.3f}-{starts[1] + 15:.3f}"),
        ("library/Delta/Greatest Hits/01 Hit.wav", f"0.000-{15:.3f}"),
    ]
    status = server.status()
    assert status["state"] == "play" and status["song"] == "0"
    assert float(status["duration"]) == pytest.approx(15.0)  # the range, not the whole song


def test_mpd002_add_keeps_what_plays_and_replace_starts_over(server, collection):
    snapshot = Snapshot.load(collection.data_dir)
    player = MpdPlayer.from_options(server.address)
    sample = library_sample(snapshot.tracks)
    # Added to an empty, stopped MPD: it plays what was added.
    queued, text = send(player, playlist_queue(snapshot.tracks, [0, 1], None), False, sample, "")
    assert queued and text == "Added 2 songs in MPD"
    assert server.status()["state"] == "play"
    # Added while it plays: queued after, the song playing goes on.
    playing = server.status()["songid"]
    send(player, playlist_queue(snapshot.tracks, [5], {5: 2.0}), False, sample, "")
    assert [path for path, _ in server.queue()] == [
        "library/Alpha/First Album/01 Song A.wav", "library/Alpha/First Album/02 Song B.wav",
        "library/Gamma/Live/01 Crowd.wav",
    ]  # fmt: skip
    assert server.queue()[2][1] == "2.000-"  # from its moment to its end
    assert server.status()["songid"] == playing
    # Replaced: only the new songs, playing from the first.
    send(player, playlist_queue(snapshot.tracks, [7, 2], None), True, sample, "")
    assert server.queue() == [("library/Delta/Greatest Hits/01 Hit.wav", None),
                                ("library/Beta/Second/01 Étude.wav", None)]  # fmt: skip
    assert server.status()["song"] == "0" and server.status()["state"] == "play"
    # Added while paused: it stays paused where it was.
    client = server.client()
    client.pause(1)
    client.disconnect()
    send(player, playlist_queue(snapshot.tracks, [0], None), False, sample, "")
    assert server.status()["state"] == "pause" and server.status()["song"] == "0"
    assert len(server.queue()) == 3


def test_mpd003_songs_mpd_lacks_are_named_and_a_wrong_root_says_what_to_do(server, collection):
    snapshot = Snapshot.load(collection.data_dir)
    sample = library_sample(snapshot.tracks)
    # A file MPD's database has not seen yet (added after its last update) is named.
    write_wav(collection.library / "New/new.wav", seconds=5)
    items = [QueueItem("Alpha/First Album/01 Song A.wav"), QueueItem("New/new.wav")]
    queued, text = send(MpdPlayer.from_options(server.address), items, True, sample, "")
    assert queued and text.startswith("Playing 1 song in MPD; 1 not in MPD's database")
    assert "New/new.wav" in text
    # A root that is not where the library is: the page says why, and a queue to be replaced
    # stays as it was.
    before = server.queue()
    wrong = MpdPlayer.from_options(server.address, root="elsewhere")
    queued, text = send(wrong, items, True, sample, "")
    assert queued is None and text.startswith("MPD has none of these 2 songs")
    assert server.queue() == before == [("library/Alpha/First Album/01 Song A.wav", None)]


def test_mpd004_the_library_as_mpds_own_music_folder_needs_no_root(tmp_path, collection):
    with running_mpd(tmp_path / "mpd-own", collection.library) as server:
        snapshot = Snapshot.load(collection.data_dir)
        player = MpdPlayer.from_options(server.address)
        queued, _ = send(player, playlist_queue(snapshot.tracks, [2], None), True,
                       library_sample(snapshot.tracks), "")  # fmt: skip
        assert queued and player._found_root == ""
        assert server.queue() == [("Beta/Second/01 Étude.wav", None)]


def test_mpd005_mpd_absent_then_restarted_answers_again_without_a_new_player(tmp_path, collection):
    snapshot = Snapshot.load(collection.data_dir)
    sample = library_sample(snapshot.tracks)
    items = playlist_queue(snapshot.tracks, [0], None)
    server = start_mpd(tmp_path / "mpd", tmp_path)
    player = MpdPlayer.from_options(server.address)
    assert send(player, items, True, sample, "")[0] is not None
    stop_mpd(server)
    queued, text = send(player, items, True, sample, "")
    assert queued is None and text.startswith(f"MPD at {server.address} does not answer")
    restarted = start_mpd(tmp_path / "mpd", tmp_path, port=server.port)
    try:
        queued, text = send(player, items, True, sample, "")
        assert queued and text == "Playing 1 song in MPD"
    finally:
        stop_mpd(restarted)


def test_mpd006_the_password_comes_from_the_environment_and_is_never_shown(
    tmp_path, collection, monkeypatch, caplog
):
    secret = "s3cret-Pw"
    snapshot = Snapshot.load(collection.data_dir)
    sample = library_sample(snapshot.tracks)
    items = playlist_queue(snapshot.tracks, [0, 1], None)
    caplog.set_level(logging.DEBUG)
    with running_mpd(tmp_path / "mpd", tmp_path, password=secret) as server:
        monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
        queued, text = send(MpdPlayer.from_options(server.address), items, True, sample, "")
        assert queued is None and text.startswith("MPD refused")
        monkeypatch.setenv(PASSWORD_VARIABLE, "wrong")
        queued, text = send(MpdPlayer.from_options(server.address), items, True, sample, "")
        assert queued is None and text == (f"MPD at {server.address} refused the password "
                                     f"({PASSWORD_VARIABLE})")  # fmt: skip
        monkeypatch.setenv(PASSWORD_VARIABLE, secret)
        player = MpdPlayer.from_options(server.address)
        queued, text = send(player, items, True, sample, "")
        assert queued and text == "Playing 2 songs in MPD"
        assert secret not in repr(player) and secret not in caplog.text


def test_mpd007_the_queue_plays_on_by_itself(server, collection):
    """MPD moves to the next moment when a range ends: a radio plays through without the page."""
    snapshot = Snapshot.load(collection.data_dir)
    chain = radio(collection, (0, 0), (2, 0))
    player = MpdPlayer.from_options(server.address)
    send(player, chain_queue(snapshot.tracks, chain, 1.0), True, library_sample(snapshot.tracks),
         "")  # fmt: skip
    wait_until(lambda: server.status().get("song") == "1", 10, "MPD to reach the second moment")
    time.sleep(0.2)
    assert server.status()["state"] == "play"


def mpd_files(server: MpdServer) -> list[str]:
    return [path for path, _ in server.queue()]


@pytest.fixture
def app_state(collection) -> AppState:
    return AppState.load(AppConfig(collection.library, collection.data_dir))


@pytest.fixture
def watcher(server) -> MpdWatcher:
    watcher = MpdWatcher(MpdPlayer.from_options(server.address))
    yield watcher
    watcher.stop()


#: Every track may follow every other: the fake library's 5 playable tracks all play.
ANY_TRACK = Diversity(artist_gap=0, distinct_albums=False)


def test_mpd008_a_radio_sent_to_mpd_goes_on_by_itself_until_every_track_played(
    server, collection, app_state, watcher
):
    """Two moments sent; the watcher keeps two queued ahead of the playing one as MPD plays
    (1-s moments), each a new track by the radio's rules, with no page, until none is left."""
    chain = radio(collection, (0, 0), (2, 1))
    status, message = send_chain(app_state, watcher, chain, 1.0, ANY_TRACK, True)
    assert status == "Playing 2 songs in MPD; the radio goes on in MPD" and message == ""
    # Topped up at once: two after the one playing.
    wait_until(lambda: len(server.queue()) >= 3, 10, "the radio to queue a third moment")
    # Then more by themselves as MPD plays, until every track has played once.
    files = wait_until(lambda: len(mpd_files(server)) == 5 and mpd_files(server), 30,
                       "every track of the library in MPD's queue")  # fmt: skip
    assert len(set(files)) == 5
    assert all(rng is not None and rng.endswith(f"{float(rng.split('-')[0]) + 1:.3f}")
               for _, rng in server.queue())  # fmt: skip
    wait_until(lambda: "played every track" in watcher.view().radio, 15, "the radio's end")
    assert not watcher.radio.active


def test_mpd009_stopping_the_radio_stops_the_additions(server, collection, app_state, watcher):
    chain = radio(collection, (0, 0), (2, 1))
    send_chain(app_state, watcher, chain, 2.0, ANY_TRACK, True)
    wait_until(lambda: len(server.queue()) >= 3, 10, "the radio to queue a third moment")
    watcher.radio.stop("stopped")
    queued = server.queue()
    wait_until(lambda: server.status().get("song") == "1", 10, "MPD to play on")
    time.sleep(2.5)  # another song's change: nothing more is added
    assert server.queue() == queued and watcher.view().radio == "stopped"


def test_mpd010_a_queue_replaced_by_someone_else_ends_the_radio(server, collection, app_state,
                                                               watcher):  # fmt: skip
    send_chain(app_state, watcher, radio(collection, (0, 0), (2, 1)), 5.0, ANY_TRACK, True)
    wait_until(lambda: len(server.queue()) >= 3, 10, "the radio to queue a third moment")
    client = server.client()
    client.clear()
    client.add("library/Gamma/Live/01 Crowd.wav")
    client.play(0)
    client.disconnect()
    wait_until(lambda: not watcher.radio.active, 10, "the radio to end")
    assert "left MPD's queue" in watcher.view().radio
    time.sleep(1)
    assert mpd_files(server) == ["library/Gamma/Live/01 Crowd.wav"]


def test_mpd011_the_watcher_follows_what_mpd_plays_and_comes_back_after_a_restart(
    tmp_path, collection
):
    server = start_mpd(tmp_path / "mpd", tmp_path)
    watcher = MpdWatcher(MpdPlayer.from_options(server.address))
    snapshot = Snapshot.load(collection.data_dir)
    paths, names = track_paths(snapshot), track_names(snapshot.tracks)
    try:
        assert wait_until(lambda: watcher.view().answering, 10, "the watcher to connect")
        assert player_line(watcher.view(), time.monotonic(), paths, names) == "MPD: stopped"
        send(watcher.player, [QueueItem("Beta/Second/01 Étude.wav", 6.0, 20.0)], True, [], "")
        view = wait_until(lambda: (v := watcher.view()).playing and v.playing.state == "play"
                          and v, 10, "the watcher to see MPD play")  # fmt: skip
        assert view.playing.uri == "library/Beta/Second/01 Étude.wav"
        assert view.playing.range_start == 6.0
        time.sleep(1.2)  # the position counts on between MPD's events
        line = player_line(watcher.view(), time.monotonic(), paths, names)
        assert line in ("MPD ▶ Beta – Étude @ 0:07", "MPD ▶ Beta – Étude @ 0:08"), line
        stop_mpd(server)
        # First that it went away, then, as each try fails, that it does not answer.
        view = wait_until(lambda: "does not answer" in (v := watcher.view()).error and v, 10,
                          "MPD gone")  # fmt: skip
        assert not view.answering and view.playing is None
        assert view.error.startswith(f"MPD at {server.address} does not answer (")
        assert view.error.endswith("; trying again")
        server = start_mpd(tmp_path / "mpd", tmp_path, port=server.port)
        assert wait_until(lambda: watcher.view().answering, 15, "the watcher to come back")
    finally:
        watcher.stop()
        stop_mpd(server)




def test_mpd012_play_from_seeks_in_the_moment_or_plays_the_song_again_from_there(
    server, collection
):
    player = MpdPlayer.from_options(server.address)
    etude = "Beta/Second/01 Étude.wav"
    items = [QueueItem(etude, 6.0, 21.0), QueueItem("Alpha/First Album/01 Song A.wav", 0, 15)]
    send(player, items, True, [etude], "")
    # Inside the moment's range: a seek.
    assert player.play_from(etude, 12.0) == "MPD plays from 0:12"
    file, played_range, at = server.playing()
    assert (file, played_range) == (f"library/{etude}", "6.000-21.000") and 12.0 <= at < 13.5
    # Outside it: the song again from there, as long as the moment was, in its place.
    assert player.play_from(etude, 1.5) == "MPD plays from 0:02"
    file, played_range, at = server.playing()
    assert (file, played_range) == (f"library/{etude}", "1.500-16.500") and 1.5 <= at < 3.0
    assert [path for path, _ in server.queue()] == [f"library/{etude}",
                                                      "library/Alpha/First Album/01 Song A.wav"]
    # Another song than MPD's: nothing done.
    assert player.play_from("Alpha/First Album/01 Song A.wav", 3.0) == ""
    assert server.playing()[0] == f"library/{etude}"
