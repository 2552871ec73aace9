"""A messy collection, generated here: every file ends with a clear status and nothing crashes.

One corpus holds every kind of file a real music folder has accumulated: empty and cut files,
random bytes and text under audio suffixes, an MP3 whose ID3 header lies about its size, odd
names (quotes, emoji, bytes that are not UTF-8, 250-byte names), symlink loops and links out of
the library, an unreadable file, very short and silent tracks, PCM from 8 kHz/8-bit mono to
192 kHz/32-bit and 6 channels, and the cover art and cue sheets that are not audio at all. One
extraction (one model, the fastest) runs over it and every table is checked.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import stat
import tempfile
import tracemalloc
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import flask
import numpy as np
import pandas as pd
import pytest

from explore_dash.data.collection import Collection
from explore_dash.listening.audio import register_audio_route
from extraction.audio import iter_audio
from extraction.contract import library_file_path, stored_path
from extraction.features import SEGMENT_SECONDS
from extraction.library import read_tags, scan_library
from extraction.pipeline import run_extraction
from extraction.registry import load_registry, resolve_models
from extraction.store import DataStore, read_segment_table
from tests.support.paths import REPO
from tests.support.synth import make_signal, write_audio, write_random_bytes, write_truncated
from tests.support.users import as_nobody

FAST_MODEL = "vgg-mtt"


def write_pcm(path: Path, seconds: float, sample_rate: int, codec: str, channels: int) -> Path:
    """A WAV file of a chirp in any PCM sample format FFmpeg writes (pcm_u8 ... pcm_f32le)."""
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    samples = make_signal(seconds, sample_rate, channels, "chirp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="wav") as container:
        stream = container.add_stream(codec, rate=sample_rate)
        stream.codec_context.layout = layout
        step = sample_rate // 10
        for start in range(0, samples.shape[1], step):
            block = np.ascontiguousarray(samples[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def expected_segments(seconds: float) -> int:
    return max(1, int(seconds * 16000) // int(SEGMENT_SECONDS * 16000))


@dataclass(frozen=True)
class Expect:
    """What extraction must make of one library file: ``ok`` with n segments, or an error."""

    segments: int | None = None  # ok with this many segments
    error: str | None = None  # error whose reason matches this regex


def _fs(root: Path, relative: bytes) -> bytes:
    return os.fsencode(root) + b"/" + relative


def build_corpus(root: Path, outside: Path) -> dict[str, Expect]:
    """Write the hostile library under ``root``; returns stored path -> expectation.

    Files the scan must not list at all (links out, loops, non-audio) are not in the result.
    """
    expect: dict[str, Expect] = {}

    def ok(relative: str | bytes, seconds: float, make: Callable[[Path], object]) -> None:
        raw = relative if isinstance(relative, bytes) else relative.encode()
        path = Path(os.fsdecode(_fs(root, raw)))
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
        expect[stored_path(os.fsdecode(raw))] = Expect(segments=expected_segments(seconds))

    def bad(relative: str, reason: str, make: Callable[[Path], object]) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
        expect[relative] = Expect(error=reason)

    # Valid files, among them the odd names and sample formats.
    ok("plain/chirp.flac", 4.0, lambda p: write_audio(p, 4.0, channels=2, signal="chirp"))
    ok("plain/chirp.mp3", 4.0, lambda p: write_audio(p, 4.0, signal="chirp"))
    ok("plain/chirp.opus", 4.0, lambda p: write_audio(p, 4.0, signal="chirp"))
    ok("plain/chirp.ogg", 4.0, lambda p: write_audio(p, 4.0, signal="chirp"))
    ok(
        "names/with spaces 'single' \"double\" `back` & $dollar.wav",
        3.2,
        lambda p: write_audio(p, 3.2, signal="noise"),
    )
    ok("names/emoji 🎵 🎸 ñ.ogg", 3.3, lambda p: write_audio(p, 3.3, signal="chirp"))
    ok(b"names/caf\xe9 latin-1 \xff.wav", 3.4, lambda p: write_audio(p, 3.4, signal="chirp"))
    ok(("é" * 123 + ".wav").encode(), 3.1, lambda p: write_audio(p, 3.1))  # a 250-byte name
    ok("short/half-second.wav", 0.5, lambda p: write_audio(p, 0.5, signal="chirp"))
    ok("short/silent.flac", 4.0, lambda p: write_audio(p, 4.0, signal="silence"))
    ok("pcm/8k-u8-mono.wav", 3.5, lambda p: write_pcm(p, 3.5, 8000, "pcm_u8", 1))
    ok("pcm/11k-u8-6ch.wav", 3.5, lambda p: write_pcm(p, 3.5, 11025, "pcm_u8", 6))
    ok("pcm/22k-s16-stereo.wav", 3.5, lambda p: write_pcm(p, 3.5, 22050, "pcm_s16le", 2))
    ok("pcm/96k-s24-6ch.wav", 3.5, lambda p: write_pcm(p, 3.5, 96000, "pcm_s24le", 6))
    ok("pcm/192k-s32-stereo.wav", 3.5, lambda p: write_pcm(p, 3.5, 192000, "pcm_s32le", 2))
    ok("pcm/48k-f32-6ch.wav", 3.5, lambda p: write_pcm(p, 3.5, 48000, "pcm_f32le", 6))
    ok("weird.mp3/inside a folder named like a file.wav", 3.0, lambda p: write_audio(p, 3.0))
    ok("links/inside-link.flac", 4.0, lambda p: p.symlink_to(root / "plain" / "chirp.flac"))

    # Broken files: each must end with an error status and a reason a user can act on.
    for suffix in (".mp3", ".flac", ".opus"):
        bad(f"bad/empty{suffix}", "^empty file$", lambda p: p.write_bytes(b""))
    whole = root.parent / "whole"
    whole.mkdir(exist_ok=True)
    for suffix in (".mp3", ".ogg", ".flac", ".opus"):
        source = write_audio(whole / f"long{suffix}", 8.0, signal="chirp")
        bad(f"bad/cut{suffix}", "truncated", lambda p, s=source: write_truncated(s, p, 0.5))
    for index, suffix in enumerate((".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav", ".wma")):
        bad(
            f"bad/random{suffix}",
            "^not a readable audio file|^not audio",
            lambda p, i=index: write_random_bytes(p, 20_000, seed=i),
        )
    bad("bad/readme.mp3", "^not a readable audio file", lambda p: p.write_text("hello\n" * 300))
    mp3 = (whole / "long.mp3").read_bytes()
    assert mp3[:3] == b"ID3"
    # The ID3 header claims 256 MB (the largest size it can express) in a 60 kB file.
    bad(
        "bad/huge-id3.mp3",
        "^not a readable audio file",
        lambda p: p.write_bytes(mp3[:6] + b"\x7f\x7f\x7f\x7f" + mp3[10:]),
    )
    bad(
        "bad/unreadable.flac",
        "^permission denied$",
        lambda p: (write_audio(p, 3.0), p.chmod(0)),
    )

    # Never listed: links leaving the library, link loops, and everything that is not audio.
    secret = write_audio(outside / "secret.wav", 3.0, signal="noise", seed=99)  # unlike any other
    (root / "links" / "escape.wav").symlink_to(secret)
    (root / "links" / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "links" / "loop-a.mp3").symlink_to(root / "links" / "loop-b.mp3")
    (root / "links" / "loop-b.mp3").symlink_to(root / "links" / "loop-a.mp3")
    (root / "links" / "loop-dir").symlink_to(root, target_is_directory=True)
    (root / "links" / "dangling.flac").symlink_to(root / "nowhere.flac")
    for name in ("cover.jpg", "album.cue", "info.nfo", "playlist.m3u", "desktop.ini", ".DS_Store",
                 "._chirp.mp3", "lyrics.txt", "folder.png"):  # fmt: skip
        (root / "plain" / name).write_bytes(b"not audio " * 10)
    return expect


def extract(library: Path, data: Path, **options):
    store = DataStore(data)
    store.prepare()
    with store.exclusive():
        return run_extraction(
            library, store, resolve_models([FAST_MODEL], load_registry()), **options
        )


@dataclass(frozen=True)
class Corpus:
    root: Path
    library: Path
    data: Path
    outside: Path
    expect: dict[str, Expect]
    summary: object
    rerun: object


@pytest.fixture(scope="module")
def corpus() -> Iterator[Corpus]:
    # A world-readable folder outside pytest's private tmp tree, so the run can drop to nobody.
    root = Path(tempfile.mkdtemp(prefix="explore-dash-hostile-"))
    root.chmod(0o755)
    try:
        library, data, outside = root / "library", root / "data", root / "outside"
        library.mkdir()
        outside.mkdir()
        expect = build_corpus(library, outside)
        data.mkdir()
        data.chmod(0o777)
        with as_nobody():
            summary = extract(library, data)
            rerun = extract(library, data)
        yield Corpus(root, library, data, outside, expect, summary, rerun)
    finally:
        for folder, _, names in os.walk(root):
            for name in names:
                if not os.path.islink(os.path.join(folder, name)):
                    os.chmod(os.path.join(folder, name), 0o644)
        shutil.rmtree(root, ignore_errors=True)


def test_hostile001_every_audio_file_ends_with_a_clear_status(corpus: Corpus):
    tracks = DataStore(corpus.data).read_tracks().set_index("path")
    assert sorted(tracks.index) == sorted(corpus.expect)
    assert tracks["track"].is_unique
    for path, expect in corpus.expect.items():
        row = tracks.loc[path]
        if expect.segments is not None:
            assert row.status == "ok" and pd.isna(row.error), (path, row.error)
        else:
            assert row.status == "error", path
            assert re.search(expect.error, row.error), (path, row.error)
            assert "unexpected" not in row.error and "Traceback" not in row.error
    assert corpus.summary.ok == sum(e.segments is not None for e in corpus.expect.values())
    assert set(corpus.summary.failed) == {p for p, e in corpus.expect.items() if e.error}


def test_hostile002_every_valid_file_is_extracted_and_the_tables_agree(corpus: Corpus):
    tracks = DataStore(corpus.data).read_tracks().set_index("path")
    ok_ids = {int(tracks.loc[p, "track"]) for p, e in corpus.expect.items() if e.segments}
    table = read_segment_table(corpus.data).to_pandas()
    assert set(zip(table.model, table.layer, strict=True)) == {
        (FAST_MODEL, "taggram"),
        (FAST_MODEL, "embedding"),
    }
    for layer, rows in table.groupby("layer"):
        assert set(rows.track) == ok_ids, layer
        counts = rows.groupby("track").size()
        for path, expect in corpus.expect.items():
            if expect.segments:
                assert counts[tracks.loc[path, "track"]] == expect.segments, (layer, path)
        vectors = np.stack(rows.vector)
        assert np.isfinite(vectors).all() and np.isfinite(np.stack(rows.pca)).all()
    # Nothing half-done is left behind.
    assert not list((corpus.data / "staging").iterdir())
    assert not [p for p in corpus.data.rglob(".tmp-*")]
    state = DataStore(corpus.data).read_state()
    assert not state.get("pending_ids")
    assert state["next_track_id"] == len(tracks)


def test_hostile003_a_rerun_retries_nothing_and_changes_nothing(corpus: Corpus):
    assert corpus.rerun.ok == 0 and not corpus.rerun.failed
    assert corpus.rerun.unchanged == len(corpus.expect)


def test_hostile004_odd_names_keep_readable_tags_and_round_trip_to_their_files(corpus: Corpus):
    tracks = DataStore(corpus.data).read_tracks().set_index("path")
    latin = stored_path(os.fsdecode(b"names/caf\xe9 latin-1 \xff.wav"))
    assert latin.encode("utf-8")  # valid text, storable in parquet
    assert tracks.loc[latin, "title"] == "caf\ufffd latin-1 \ufffd"
    assert library_file_path(corpus.library, latin).exists()
    long_name = "é" * 123 + ".wav"
    assert len(long_name.encode()) == 250 and long_name in tracks.index


def test_hostile005_the_audio_route_serves_every_extracted_file_and_nothing_else(corpus: Corpus):
    server = flask.Flask(__name__)
    collection = Collection.load(corpus.data)
    register_audio_route(server, lambda: collection, corpus.library)
    client = server.test_client()
    tracks = DataStore(corpus.data).read_tracks()
    for track, path, status in zip(tracks.track, tracks.path, tracks.status, strict=True):
        with client.get(f"/audio/{track}", headers={"Range": "bytes=0-"}) as response:
            if status == "ok":
                assert response.status_code == 206, path
                assert response.data == library_file_path(corpus.library, path).read_bytes()
    secret = (corpus.outside / "secret.wav").read_bytes()
    for track in range(-3, int(tracks.track.max()) + 5):
        with client.get(f"/audio/{track}") as response:
            assert response.data != secret


def test_hostile006_scan_lists_no_link_out_no_loop_and_no_non_audio(corpus: Corpus):
    listed = {f.path for f in scan_library(corpus.library)}
    assert listed == set(corpus.expect)
    assert not any("escape" in p or "loop" in p or "dangling" in p for p in listed)


def test_hostile007_stored_paths_round_trip_every_byte(tmp_path: Path):
    every_byte = bytes(range(1, 256)).replace(b"/", b"")
    name = os.fsdecode(every_byte[:120]) + ".wav"
    text = stored_path(name)
    text.encode("utf-8")  # no lone surrogates left
    (Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + os.fsencode(name)))).write_bytes(b"x")
    assert library_file_path(tmp_path, text).read_bytes() == b"x"
    # Ordinary names are stored as they are.
    assert stored_path("Artist/Album/01 Song ü 🎵.mp3") == "Artist/Album/01 Song ü 🎵.mp3"
    # A real name that happens to use those private-use characters is still found.
    (tmp_path / "\uef80.wav").write_bytes(b"y")
    assert library_file_path(tmp_path, "\uef80.wav").read_bytes() == b"y"


def test_hostile008_tags_of_a_file_without_read_permission_fall_back_to_its_path(tmp_path: Path):
    path = write_audio(tmp_path / "Artist" / "Album" / "locked.flac", 1.0, tags={"title": "T"})
    path.chmod(0)
    try:
        with as_nobody():
            tags = read_tags(tmp_path, "Artist/Album/locked.flac")
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert (tags["artist"], tags["album"], tags["title"]) == ("Artist", "Album", "locked")


# -- files that change under a running extraction -------------------------------------------------


def test_hostile009_files_deleted_or_rewritten_during_extraction(tmp_path: Path, monkeypatch):
    """Between scan and decoding one file disappears and one is rewritten; a third is replaced
    by a shorter song while it is being decoded. The run finishes; the next one repairs it all."""
    import extraction.features
    import extraction.pipeline

    library, data = tmp_path / "lib", tmp_path / "data"
    write_audio(library / "a-kept.wav", 4.0, signal="chirp")
    write_audio(library / "b-deleted.wav", 4.0)
    write_audio(library / "c-rewritten.flac", 4.0)
    write_pcm(library / "d-rewritten-while-decoding.wav", 40.0, 8000, "pcm_s16le", 1)

    replacement = write_audio(tmp_path / "replacement.wav", 6.5, signal="noise").read_bytes()
    real_read_tags = extraction.pipeline.read_tags

    def read_tags_then_meddle(root, relative):
        tags = real_read_tags(root, relative)
        if relative == "d-rewritten-while-decoding.wav":  # the last file: the scan is long done
            (library / "b-deleted.wav").unlink()
            write_audio(library / "c-rewritten.flac", 9.5, signal="noise")
        return tags

    real_iter_audio = extraction.features.iter_audio

    def iter_audio_then_cut(path, *args, **kwargs):
        for index, chunk in enumerate(real_iter_audio(path, *args, **kwargs)):
            if index == 0 and Path(path).name.startswith("d-"):
                with open(path, "r+b") as handle:  # rewritten in place: another, shorter song
                    handle.write(replacement)
                    handle.truncate()
            yield chunk

    monkeypatch.setattr(extraction.pipeline, "read_tags", read_tags_then_meddle)
    monkeypatch.setattr(extraction.features, "iter_audio", iter_audio_then_cut)
    first = extract(library, data)
    tracks = DataStore(data).read_tracks().set_index("path")
    assert tracks.loc["b-deleted.wav", "status"] == "error"
    assert tracks.loc["b-deleted.wav", "error"] == "file not found"
    assert tracks.loc["a-kept.wav", "status"] == "ok"
    assert first.ok + len(first.failed) == 4

    monkeypatch.undo()
    second = extract(library, data)
    assert second.missing == 1  # the deleted file is kept, marked missing, off the map
    # The rewritten and the cut file were recorded with their scan-time size and mtime, so the
    # next run sees them as changed and extracts what is on disk now.
    assert second.ok == 2 and second.unchanged == 1
    tracks = DataStore(data).read_tracks().set_index("path")
    assert tracks.loc["b-deleted.wav", "missing_since"] > 0
    tracks = tracks[tracks["missing_since"].isna()]
    table = read_segment_table(data, columns=["track", "layer"]).to_pandas()
    counts = table[table.layer == "taggram"].groupby("track").size()
    assert counts[tracks.loc["c-rewritten.flac", "track"]] == expected_segments(9.5)
    assert counts[tracks.loc["d-rewritten-while-decoding.wav", "track"]] == expected_segments(6.5)
    for path in tracks.index:
        info = (library / path).stat()
        assert (tracks.loc[path, "size"], tracks.loc[path, "mtime_ns"]) == (
            info.st_size,
            info.st_mtime_ns,
        )


# -- long files ----------------------------------------------------------------------------------


def write_long_wav(path: Path, seconds: float, sample_rate: int = 8000) -> Path:
    """An 8-bit mono WAV of a slow sweep, written a minute at a time (2 h = 58 MB, ~1 s)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    minute = sample_rate * 60
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(sample_rate)
        for start in range(0, int(seconds * sample_rate), minute):
            n = min(minute, int(seconds * sample_rate) - start)
            t = (start + np.arange(n)) / sample_rate
            hz = 200 + 100 * np.sin(2 * math.pi * t / 600)
            wave_ = 127 + 100 * np.sin(2 * math.pi * hz * t)
            out.writeframes(wave_.astype(np.uint8).tobytes())
    return path


def test_hostile010_decoding_holds_one_chunk_in_memory_whatever_the_length(tmp_path: Path):
    """20 minutes at 16 kHz are 77 MB of float32; the decoder's peak stays near one chunk."""
    path = write_long_wav(tmp_path / "long.wav", 20 * 60)
    tracemalloc.start()
    try:
        total = 0
        for chunk in iter_audio(path, chunk_seconds=30.0):
            assert chunk.size <= 30 * 16000
            total += chunk.size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 20 * 60 * 16000
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MB"


@pytest.mark.slow
def test_hostile011_slow_hostile011_a_two_hour_file_is_extracted_in_bounded_memory(tmp_path: Path):
    """The whole pipeline on 2 hours of audio (2406 segments); its memory does not grow with it."""
    import resource
    import subprocess
    import sys

    peaks = {}
    for name, seconds in (("short", 60.0), ("long", 2 * 3600.0)):
        library, data = tmp_path / name, tmp_path / f"{name}-data"
        write_long_wav(library / f"{name}.wav", seconds)
        code = (
            "import resource, sys; from extraction.cli import main;"
            f"code = main(['--library', {str(library)!r}, '--data', {str(data)!r},"
            f" '--models', {FAST_MODEL!r}, '--quiet']);"
            "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=1800
        )
        assert done.returncode == 0, done.stderr
        assert "failed: 0" in done.stdout
        peaks[name] = int(done.stdout.split("maxrss")[-1].split()[0]) * 1024
        table = read_segment_table(data, columns=["track", "layer"])
        assert table.num_rows == 2 * expected_segments(seconds)
    del resource
    print(f"peak RSS: 1 min {peaks['short'] / 2**20:.0f} MB, 2 h {peaks['long'] / 2**20:.0f} MB")
    # Decoded audio alone would be 460 MB and the mel patches 170 MB if held at once.
    assert peaks["long"] - peaks["short"] < 200 * 2**20
