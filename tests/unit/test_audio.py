"""Decoding every library format to 16 kHz mono, and the reasons bad files are refused."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tinytag import TinyTag

from extraction.audio import AUDIO_EXTENSIONS, decode_audio, iter_audio, probe_duration
from extraction.errors import AudioDecodeError
from tests.support.synth import WRITABLE_SUFFIXES, write_audio, write_random_bytes, write_truncated

SECONDS = 1.5
TAGS = {
    "artist": "Ann Artist",
    "album": "Some Album",
    "title": "A Title",
    "genre": "Ambient",
    "date": "2019",
    "track": "3",
}
# Decoded length minus the signal's, allowed per format. PCM, FLAC, MP3 (LAME gapless info) and
# Opus (pre-skip) decode to the exact length; AAC, Vorbis and WMA keep up to ~2 codec frames of
# priming/padding (1024–2048 samples at 22.05 kHz ≈ 0.05–0.09 s).
EXACT = {".wav", ".flac", ".mp3", ".opus", ".aif", ".aiff"}
LOOSE_TOLERANCE_S = 0.1


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One 1.5 s stereo 22.05 kHz tone per writable suffix, tagged where the format allows."""
    folder = tmp_path_factory.mktemp("encoded")
    return {
        suffix: write_audio(
            folder / f"tone{suffix}",
            SECONDS,
            channels=2,
            tags=None if suffix == ".aac" else TAGS,
        )
        for suffix in sorted(WRITABLE_SUFFIXES)
    }


def test_audio001_audio_extensions_cover_the_library_formats() -> None:
    expected = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".wav", ".aif"}
    assert expected | {".aiff", ".wma"} == AUDIO_EXTENSIONS
    assert WRITABLE_SUFFIXES == AUDIO_EXTENSIONS


@pytest.mark.parametrize("suffix", sorted(WRITABLE_SUFFIXES))
def test_audio002_every_format_decodes_to_its_duration_at_16k(
    encoded: dict[str, Path], suffix: str
) -> None:
    audio = decode_audio(encoded[suffix])
    assert audio.dtype == np.float32 and audio.ndim == 1
    error = audio.size / 16000 - SECONDS
    if suffix in EXACT:
        assert abs(error) <= 2 / 16000
    else:
        assert abs(error) <= LOOSE_TOLERANCE_S
    # Two half-scale tones averaged: never louder than 0.5 (FFmpeg's own mono matrix gives 0.7).
    peak = float(np.abs(audio).max())
    assert 0.3 < peak < (0.65 if suffix in {".ogg", ".oga"} else 0.52)


@pytest.mark.parametrize("suffix", sorted(WRITABLE_SUFFIXES - {".aac"}))
def test_audio003_tags_round_trip_through_tinytag(encoded: dict[str, Path], suffix: str) -> None:
    tag = TinyTag.get(encoded[suffix])
    assert (tag.artist, tag.album, tag.title, tag.genre) == (
        "Ann Artist",
        "Some Album",
        "A Title",
        "Ambient",
    )
    assert tag.year == "2019"
    assert tag.track == 3


def test_audio004_aac_refuses_tags(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot carry tags"):
        write_audio(tmp_path / "x.aac", 0.1, tags=TAGS)


def test_audio005_output_is_deterministic(tmp_path: Path) -> None:
    for suffix in (".ogg", ".mp3", ".m4a"):
        first = write_audio(tmp_path / f"a{suffix}", 0.3, signal="noise", seed=3, tags=TAGS)
        second = write_audio(tmp_path / f"b{suffix}", 0.3, signal="noise", seed=3, tags=TAGS)
        assert first.read_bytes() == second.read_bytes()


def test_audio006_tone_lands_at_440_hz(encoded: dict[str, Path]) -> None:
    mono = write_audio(encoded[".wav"].with_name("mono.wav"), 1.0, sample_rate=44100)
    audio = decode_audio(mono)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    assert np.fft.rfftfreq(audio.size, 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=2)


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".opus"])
def test_audio007_chunked_decoding_equals_whole_decoding(
    encoded: dict[str, Path], suffix: str
) -> None:
    whole = decode_audio(encoded[suffix])
    chunks = list(iter_audio(encoded[suffix], chunk_seconds=0.37))
    assert {chunk.size for chunk in chunks[:-1]} == {round(0.37 * 16000)}
    assert 0 < chunks[-1].size <= round(0.37 * 16000)
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_audio008_other_sample_rates(encoded: dict[str, Path]) -> None:
    audio = decode_audio(encoded[".flac"], sample_rate=22050)
    assert audio.size == round(SECONDS * 22050)


def test_audio009_probe_duration(encoded: dict[str, Path], tmp_path: Path) -> None:
    assert probe_duration(encoded[".flac"]) == pytest.approx(SECONDS)
    assert probe_duration(tmp_path / "missing.flac") is None


# --- bad files -------------------------------------------------------------------------------


def _reason(path: Path) -> str:
    with pytest.raises(AudioDecodeError) as caught:
        decode_audio(path)
    return str(caught.value)


def test_audio010_missing_file(tmp_path: Path) -> None:
    assert _reason(tmp_path / "nope.mp3") == "file not found"


def test_audio011_directory(tmp_path: Path) -> None:
    (tmp_path / "album.mp3").mkdir()
    assert _reason(tmp_path / "album.mp3") == "not a regular file"


def test_audio012_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.flac").write_bytes(b"")
    assert _reason(tmp_path / "empty.flac") == "empty file"


@pytest.mark.parametrize("suffix", sorted(AUDIO_EXTENSIONS))
def test_audio013_random_bytes_are_not_audio(tmp_path: Path, suffix: str) -> None:
    path = write_random_bytes(tmp_path / f"noise{suffix}", 20000, seed=7)
    reason = _reason(path)
    assert reason.startswith(("not a readable audio file", "not audio")), reason


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".ogg", ".m4a"])
def test_audio014_text_file_with_audio_suffix_is_not_audio(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"notes{suffix}"
    path.write_text("shopping list: eggs, milk, a new turntable belt\n" * 40)
    reason = _reason(path)
    assert reason.startswith(("not a readable audio file", "not audio")), reason


# What a file cut in half gives, per format (see extraction/audio.py): FFmpeg itself raises for
# FLAC, ADTS AAC and WMA; a cut WAV has an incomplete last packet; M4A/MP4 lose their moov atom;
# AIFF falls short of its header, MP3 of its Xing frame count; Ogg ends inside a page.
CUT_REASON = {
    ".flac": "corrupt or truncated at",
    ".aac": "corrupt or truncated at",
    ".wma": "corrupt or truncated at",
    ".wav": "corrupt or truncated at",
    ".m4a": "not a readable audio file",
    ".mp4": "not a readable audio file",
    ".aif": "corrupt or truncated: decoded",
    ".aiff": "corrupt or truncated: decoded",
    ".mp3": "corrupt or truncated: decoded",
    ".ogg": "truncated at",
    ".oga": "truncated at",
    ".opus": "truncated at",
}


@pytest.fixture(scope="module")
def long_encoded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("long")
    return {
        suffix: write_audio(folder / f"chirp{suffix}", 4.0, signal="chirp", channels=2)
        for suffix in sorted(WRITABLE_SUFFIXES)
    }


@pytest.mark.parametrize("suffix", sorted(WRITABLE_SUFFIXES))
def test_audio015_file_cut_in_half_is_refused(
    long_encoded: dict[str, Path], tmp_path: Path, suffix: str
) -> None:
    assert decode_audio(long_encoded[suffix]).size > 3.9 * 16000  # the whole file is fine
    cut = write_truncated(long_encoded[suffix], tmp_path / f"cut{suffix}", 0.5)
    reason = _reason(cut)
    assert reason.startswith(CUT_REASON[suffix]), reason
    prefix = re.search(r"(\d+\.\d) s", reason)
    if prefix:
        assert 1.0 < float(prefix.group(1)) < 3.0  # the plausible prefix, about half of the 4 s


def _damage(source: Path, dest: Path, n_bytes: int) -> Path:
    """Copy ``source`` with ``n_bytes`` random bytes written over its middle."""
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle : middle + n_bytes] = np.random.default_rng(1).bytes(n_bytes)
    dest.write_bytes(bytes(data))
    return dest


def test_audio016_decoder_error_mid_stream_names_the_time(
    long_encoded: dict[str, Path], tmp_path: Path
) -> None:
    reason = _reason(_damage(long_encoded[".mp3"], tmp_path / "damaged.mp3", 4000))
    assert reason.startswith("corrupt or truncated at "), reason
    assert 1.0 < float(re.search(r"(\d+\.\d) s", reason).group(1)) < 3.0


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
def test_audio017_audio_skipped_mid_stream_is_caught(
    long_encoded: dict[str, Path], tmp_path: Path, suffix: str
) -> None:
    """FFmpeg drops a damaged FLAC frame or an Ogg page failing its CRC without an error."""
    reason = _reason(_damage(long_encoded[suffix], tmp_path / f"damaged{suffix}", 50))
    assert reason.startswith("corrupt or truncated: decoded "), reason
    assert reason.endswith("of 4.0 s")


def test_audio018_mp3_without_xing_header_cut_short_is_accepted(tmp_path: Path) -> None:
    """Documented limit: without a frame count, a cut MP3 is just a shorter MP3."""
    import av

    path = tmp_path / "plain.mp3"
    with av.open(str(path), "w", format="mp3", options={"write_xing": "0"}) as container:
        stream = container.add_stream("libmp3lame", rate=16000)
        stream.codec_context.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 32000), np.float32), "fltp", "mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    cut = write_truncated(path, tmp_path / "cut.mp3", 0.5)
    assert 0.5 < decode_audio(cut).size / 16000 < 1.5


@contextlib.contextmanager
def _as_nobody() -> Iterator[None]:
    """Drop the effective uid to nobody for a moment (root reads any file whatever its mode)."""
    if os.geteuid() != 0:
        yield
        return
    try:
        os.seteuid(65534)
    except PermissionError:
        pytest.skip("running as root without the right to change the effective uid")
    try:
        yield
    finally:
        os.seteuid(0)


def test_audio019_unreadable_file(encoded: dict[str, Path], tmp_path: Path) -> None:
    locked = tmp_path / "locked.flac"
    locked.write_bytes(encoded[".flac"].read_bytes())
    locked.chmod(0)
    try:
        with _as_nobody(), pytest.raises(AudioDecodeError) as caught:
            decode_audio(locked)
    finally:
        locked.chmod(0o644)
    assert str(caught.value) == "permission denied"
