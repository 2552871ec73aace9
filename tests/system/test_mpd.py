"""Sending music to a real MPD (Debian's mpd on loopback, a null audio output): the playlist and
a radio's moments queued with their ranges, the library found inside MPD's music folder, MPD
absent, restarted, or asking a password."""

from __future__ import annotations

import logging
import time

import pytest

from explore_dash.callbacks.player import chain_queue, library_sample, playlist_queue, send
from explore_dash.callbacks.stores import Chain, ChainItem
from explore_dash.data.snapshot import Snapshot
from explore_dash.players.mpd import PASSWORD_VARIABLE, MpdPlayer, QueueItem
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


def queue_of(server: MpdServer) -> list[tuple[str, str | None]]:
    """(file, range) of each song in MPD's queue, in order."""
    client = server.client()
    try:
        return [(song["file"], song.get("range")) for song in client.playlistinfo()]
    finally:
        client.disconnect()


def status_of(server: MpdServer) -> dict:
    client = server.client()
    try:
        return client.status()
    finally:
        client.disconnect()


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
    sent, text = send(player, chain_queue(snapshot.tracks, chain, 15.0), True,
                      library_sample(snapshot.tracks), "empty")  # fmt: skip
    assert sent and text == "Playing 3 songs in MPD"
    assert player._found_root == "library/"
    starts = [round(index * SEGMENT_SECONDS, 3) for index in (3, 1, 0)]
    assert queue_of(server) == [
        ("library/Beta/Second/01 Étude.wav", f"{starts[0]:.3f}-{starts[0] + 15:.3f}"),
        ("library/Alpha/First Album/01 Song A.wav", f"{starts[1]:.3f}-{starts[1] + 15:.3f}"),
        ("library/Delta/Greatest Hits/01 Hit.wav", f"0.000-{15:.3f}"),
    ]
    status = status_of(server)
    assert status["state"] == "play" and status["song"] == "0"
    assert float(status["duration"]) == pytest.approx(15.0)  # the range, not the whole song


def test_mpd002_add_keeps_what_plays_and_replace_starts_over(server, collection):
    snapshot = Snapshot.load(collection.data_dir)
    player = MpdPlayer.from_options(server.address)
    sample = library_sample(snapshot.tracks)
    # Added to an empty, stopped MPD: it plays what was added.
    sent, text = send(player, playlist_queue(snapshot.tracks, [0, 1], None), False, sample, "")
    assert sent and text == "Added 2 songs in MPD"
    assert status_of(server)["state"] == "play"
    # Added while it plays: queued after, the song playing goes on.
    playing = status_of(server)["songid"]
    send(player, playlist_queue(snapshot.tracks, [5], {5: 2.0}), False, sample, "")
    assert [path for path, _ in queue_of(server)] == [
        "library/Alpha/First Album/01 Song A.wav", "library/Alpha/First Album/02 Song B.wav",
        "library/Gamma/Live/01 Crowd.wav",
    ]  # fmt: skip
    assert queue_of(server)[2][1] == "2.000-"  # from its moment to its end
    assert status_of(server)["songid"] == playing
    # Replaced: only the new songs, playing from the first.
    send(player, playlist_queue(snapshot.tracks, [7, 2], None), True, sample, "")
    assert queue_of(server) == [("library/Delta/Greatest Hits/01 Hit.wav", None),
                                ("library/Beta/Second/01 Étude.wav", None)]  # fmt: skip
    assert status_of(server)["song"] == "0" and status_of(server)["state"] == "play"
    # Added while paused: it stays paused where it was.
    client = server.client()
    client.pause(1)
    client.disconnect()
    send(player, playlist_queue(snapshot.tracks, [0], None), False, sample, "")
    assert status_of(server)["state"] == "pause" and status_of(server)["song"] == "0"
    assert len(queue_of(server)) == 3


def test_mpd003_songs_mpd_lacks_are_named_and_a_wrong_root_says_what_to_do(server, collection):
    snapshot = Snapshot.load(collection.data_dir)
    sample = library_sample(snapshot.tracks)
    # A file MPD's database has not seen yet (added after its last update) is named.
    write_wav(collection.library / "New/new.wav", seconds=5)
    items = [QueueItem("Alpha/First Album/01 Song A.wav"), QueueItem("New/new.wav")]
    sent, text = send(MpdPlayer.from_options(server.address), items, True, sample, "")
    assert sent and text.startswith("Playing 1 song in MPD; 1 not in MPD's database")
    assert "New/new.wav" in text
    # A root that is not where the library is: the page says why, and a queue to be replaced
    # stays as it was.
    queued = queue_of(server)
    wrong = MpdPlayer.from_options(server.address, root="elsewhere")
    sent, text = send(wrong, items, True, sample, "")
    assert not sent and text.startswith("MPD has none of these 2 songs")
    assert queue_of(server) == queued == [("library/Alpha/First Album/01 Song A.wav", None)]


def test_mpd004_the_library_as_mpds_own_music_folder_needs_no_root(tmp_path, collection):
    with running_mpd(tmp_path / "mpd-own", collection.library) as server:
        snapshot = Snapshot.load(collection.data_dir)
        player = MpdPlayer.from_options(server.address)
        sent, _ = send(player, playlist_queue(snapshot.tracks, [2], None), True,
                       library_sample(snapshot.tracks), "")  # fmt: skip
        assert sent and player._found_root == ""
        assert queue_of(server) == [("Beta/Second/01 Étude.wav", None)]


def test_mpd005_mpd_absent_then_restarted_answers_again_without_a_new_player(tmp_path, collection):
    snapshot = Snapshot.load(collection.data_dir)
    sample = library_sample(snapshot.tracks)
    items = playlist_queue(snapshot.tracks, [0], None)
    server = start_mpd(tmp_path / "mpd", tmp_path)
    player = MpdPlayer.from_options(server.address)
    assert send(player, items, True, sample, "")[0]
    stop_mpd(server)
    sent, text = send(player, items, True, sample, "")
    assert not sent and text.startswith(f"MPD at {server.address} does not answer")
    restarted = start_mpd(tmp_path / "mpd", tmp_path, port=server.port)
    try:
        sent, text = send(player, items, True, sample, "")
        assert sent and text == "Playing 1 song in MPD"
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
        sent, text = send(MpdPlayer.from_options(server.address), items, True, sample, "")
        assert not sent and text.startswith("MPD refused")
        monkeypatch.setenv(PASSWORD_VARIABLE, "wrong")
        sent, text = send(MpdPlayer.from_options(server.address), items, True, sample, "")
        assert not sent and text == (f"MPD at {server.address} refused the password "
                                     f"({PASSWORD_VARIABLE})")  # fmt: skip
        monkeypatch.setenv(PASSWORD_VARIABLE, secret)
        player = MpdPlayer.from_options(server.address)
        sent, text = send(player, items, True, sample, "")
        assert sent and text == "Playing 2 songs in MPD"
        assert secret not in repr(player) and secret not in caplog.text


def test_mpd007_the_queue_plays_on_by_itself(server, collection):
    """MPD moves to the next moment when a range ends: a radio plays through without the page."""
    snapshot = Snapshot.load(collection.data_dir)
    chain = radio(collection, (0, 0), (2, 0))
    player = MpdPlayer.from_options(server.address)
    send(player, chain_queue(snapshot.tracks, chain, 1.0), True, library_sample(snapshot.tracks),
         "")  # fmt: skip
    wait_until(lambda: status_of(server).get("song") == "1", 10, "MPD to reach the second moment")
    time.sleep(0.2)
    assert status_of(server)["state"] == "play"
