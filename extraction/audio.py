"""Decoding audio files to 16 kHz mono float32, in bounded memory, with PyAV (FFmpeg).

PyAV rather than Essentia's loaders: its wheel carries FFmpeg with libopus (Essentia's
AudioLoader rejects Opus), and one decoder/resampler for every format keeps the embeddings
comparable. Channels are averaged, (L + R) / 2 as in Essentia's MonoLoader, not FFmpeg's
louder 1/√2 mono matrix. Decoding is streamed: at most about one chunk of output is held at a
time.

Failure policy: every case raises ``AudioDecodeError`` with a short reason, no raw ``av``
exception escapes, and a plausible prefix is never passed off as the track.

- missing path, directory, unreadable, empty: checked before FFmpeg sees the file;
- not audio despite the extension (text, random bytes, no audio stream): FFmpeg cannot open it
  ("not a readable audio file: ..."), finds no audio stream, fails before the first sample, or
  decodes zero samples ("not audio: ...");
- an FFmpeg error once audio has come out: "corrupt or truncated at 12.3 s: <FFmpeg message>"
  (12.3 s decoded before it); a demuxer's partial-read flag on a packet counts as one.

What FFmpeg 8 (PyAV 18) does with a file cut in half, and what we add:

- FLAC, ADTS AAC, WMA: the decoder raises on the partial last frame.
- WAV: no error, but the last packet is flagged corrupt (the data chunk is longer than the file).
- M4A/MP4 (moov atom at the end, FFmpeg's default): the file no longer opens.
- MP3, Ogg Vorbis, Opus, AIFF: decoding stops quietly at the last whole frame/page.

So after a clean decode we also compare the decoded duration with the declared one where that
is exact, with a per-format tolerance (``SHORTFALL_TOLERANCE_S``): FLAC STREAMINFO and MP3
Xing/Info/VBRI frame counts (read here; FFmpeg would fall back to a bit-rate estimate), AIFF
COMM, M4A mdhd, and the Ogg last-page granule. This also catches audio lost mid-stream that
FFmpeg skips without a word (a damaged FLAC frame, an Ogg page failing its CRC): "corrupt or
truncated: decoded 5.8 s of 6.0 s". An Ogg file ending inside a page is cut too ("truncated at
3.1 s: last Ogg page incomplete"). Left undetectable: a cut CBR MP3 without a Xing/Info header,
and damage inside PCM data. ``tests/unit/test_audio.py`` pins each format's behaviour.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from extraction.errors import AudioDecodeError
from extraction.library import AUDIO_EXTENSIONS

# How far short of its declared duration a file may decode before it counts as cut or damaged,
# per FFmpeg demuxer, for the formats whose declared duration is exact (never a bit-rate
# estimate). FLAC/AIFF decode to their sample count exactly; the declared MP3 and M4A durations
# include encoder delay and padding (at most 3 codec frames, 0.22 s even at 8 kHz); the Ogg
# duration is the last page's granule, minus Opus pre-skip (6.5 ms typical, 80 ms at most).
SHORTFALL_TOLERANCE_S = {
    "flac": 0.02,
    "aiff": 0.02,
    "mp3": 0.25,
    "mov,mp4,m4a,3gp,3g2,mj2": 0.25,
    "ogg": 0.1,
}


def _ffmpeg_reason(error: BaseException) -> str:
    """A short human message from an FFmpeg/PyAV error (no errno, no C function name)."""
    reason = str(getattr(error, "strerror", None) or error).strip().rstrip(".")
    # Codec-private error codes have no text in FFmpeg ("Error number -50531338 occurred").
    return "decoder error" if reason.startswith("Error number") else reason


def _check_readable(path: Path) -> None:
    """Reject what FFmpeg should never see: a missing path, not a file, unreadable, empty."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AudioDecodeError("file not found") from None
    except PermissionError:
        raise AudioDecodeError("permission denied") from None
    except OSError as error:
        raise AudioDecodeError(f"cannot read file: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise AudioDecodeError("not a regular file")
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except PermissionError:
        raise AudioDecodeError("permission denied") from None
    except OSError as error:
        raise AudioDecodeError(f"cannot read file: {error.strerror or error}") from None
    if info.st_size == 0:
        raise AudioDecodeError("empty file")


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.PermissionError:
        raise AudioDecodeError("permission denied") from None
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as error:
        raise AudioDecodeError(f"not a readable audio file: {_ffmpeg_reason(error)}") from None


def _declared_seconds(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    """Duration the container declares, in seconds, or None when it declares none."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def iter_audio(
    path: Path, sample_rate: int = 16000, chunk_seconds: float = 30.0
) -> Iterator[np.ndarray]:
    """Decode the first audio stream of a file to mono at ``sample_rate``, chunk by chunk.

    Parameters
    ----------
    path : Path
        Audio file in any format FFmpeg reads.
    sample_rate : int
        Output sample rate in Hz.
    chunk_seconds : float
        Approximate length of each yielded chunk; only one chunk is held in memory.

    Yields
    ------
    np.ndarray, shape (n_samples,), float32
        Consecutive chunks of ``round(chunk_seconds * sample_rate)`` samples; the last one may be
        shorter.

    Raises
    ------
    AudioDecodeError
        The file is missing, unreadable, empty, not audio, corrupt or truncated, or decodes to no
        samples (see the module docstring for the policy).
    """
    if sample_rate <= 0 or chunk_seconds <= 0:
        raise ValueError("sample_rate and chunk_seconds must be positive")
    path = Path(path)
    _check_readable(path)
    chunk_samples = max(1, int(round(chunk_seconds * sample_rate)))

    container = _open(path)
    with container:
        if not container.streams.audio:
            raise AudioDecodeError("not audio: no audio stream")
        stream = container.streams.audio[0]
        pending: list[np.ndarray] = []
        n_pending = 0
        n_total = 0
        resampler: av.AudioResampler | None = None
        input_setup: tuple | None = None

        def resample(frame: av.AudioFrame | None) -> Iterator[np.ndarray]:
            assert resampler is not None
            for out in resampler.resample(frame):
                planes = out.to_ndarray()  # (channels, n) for planar float
                yield planes[0] if len(planes) == 1 else planes.mean(axis=0, dtype=np.float32)

        try:
            for packet in container.demux(stream):
                if packet.is_corrupt:
                    # Demuxers flag a packet they could only read in part (a cut WAV).
                    seconds = (n_total + n_pending) / sample_rate
                    raise AudioDecodeError(
                        f"corrupt or truncated at {seconds:.1f} s: incomplete packet"
                    )
                for frame in packet.decode():
                    setup = (frame.format.name, frame.layout.name, frame.sample_rate)
                    if setup != input_setup:
                        # A stream may change rate/layout mid-way (concatenated MP3s): drain the
                        # old resampler and start a new one.
                        if resampler is not None:
                            for samples in resample(None):
                                pending.append(samples)
                                n_pending += samples.size
                        resampler = _make_resampler(frame, sample_rate)
                        input_setup = setup
                    for samples in resample(frame):
                        pending.append(samples)
                        n_pending += samples.size
                    while n_pending >= chunk_samples:
                        chunk, pending, n_pending = _take(pending, chunk_samples)
                        n_total += chunk.size
                        yield chunk
            if resampler is not None:
                for samples in resample(None):
                    pending.append(samples)
                    n_pending += samples.size
        except (av.FFmpegError, ValueError) as error:
            n_decoded = n_total + n_pending
            if n_decoded == 0:
                raise AudioDecodeError(
                    f"not audio or corrupt from the start: {_ffmpeg_reason(error)}"
                ) from None
            raise AudioDecodeError(
                f"corrupt or truncated at {n_decoded / sample_rate:.1f} s: {_ffmpeg_reason(error)}"
            ) from None

        n_decoded = n_total + n_pending
        if n_decoded == 0:
            raise AudioDecodeError("not audio: no samples decoded")
        reason = _truncation_reason(path, container, stream, n_decoded / sample_rate)
        if reason:
            raise AudioDecodeError(reason)
        while n_pending:
            chunk, pending, n_pending = _take(pending, chunk_samples)
            yield chunk


def _make_resampler(frame: av.AudioFrame, sample_rate: int) -> av.AudioResampler:
    """Resampler to planar float at ``sample_rate`` that keeps mono/stereo channels apart.

    The mono mix is then the channel mean, (L + R) / 2 like Essentia's MonoLoader and the
    loaders the taggers were trained with; FFmpeg's own stereo-to-mono matrix weighs each
    channel by 1/√2, 3 dB louder. Layouts beyond stereo go through FFmpeg's stereo downmix
    first (centre and surrounds folded in at its standard levels).
    """
    layout = None if len(frame.layout.channels) <= 2 else "stereo"
    return av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)


def _truncation_reason(
    path: Path, container: av.container.InputContainer, stream: av.AudioStream, decoded: float
) -> str | None:
    """Why a file that decoded without error is still cut short or damaged, or None."""
    name = container.format.name
    if name == "ogg" and _ogg_last_page_cut(path):
        return f"truncated at {decoded:.1f} s: last Ogg page incomplete"
    tolerance = SHORTFALL_TOLERANCE_S.get(name)
    if tolerance is None:
        return None
    if name == "flac":
        declared = _flac_declared_seconds(path)
    elif name == "mp3":
        declared = _mp3_declared_seconds(path)
    elif stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    else:
        declared = None
    if declared is not None and decoded < declared - tolerance:
        # FFmpeg skips frames it cannot parse without an error (FLAC, Ogg pages failing their
        # CRC), so a shortfall means a cut file or lost audio in the middle.
        return f"corrupt or truncated: decoded {decoded:.1f} s of {declared:.1f} s"
    return None


def _flac_declared_seconds(path: Path) -> float | None:
    """Duration from a FLAC file's STREAMINFO block (None if it says "unknown", i.e. 0).

    Read here because FFmpeg falls back to a bit-rate estimate when the count is unknown.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4 + 4 + 34)
    except OSError:
        return None
    if len(head) < 42 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return None
    info = int.from_bytes(head[18:26], "big")  # rate:20 channels:3 bits:5 total_samples:36
    sample_rate = info >> 44
    total_samples = info & ((1 << 36) - 1)
    return total_samples / sample_rate if sample_rate and total_samples else None


_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_declared_seconds(path: Path) -> float | None:
    """Duration from the Xing/Info or VBRI header of an MP3's first frame, or None.

    Only such a header gives an exact frame count; FFmpeg otherwise estimates the duration from
    the bit rate and the file size (trailing tags and VBR make that wrong by seconds).
    """
    try:
        with open(path, "rb") as handle:
            start = 0
            id3 = handle.read(10)
            if len(id3) == 10 and id3[:3] == b"ID3":
                size = (id3[6] << 21) | (id3[7] << 14) | (id3[8] << 7) | id3[9]
                start = 10 + size + (10 if id3[5] & 0x10 else 0)
            handle.seek(start)
            data = handle.read(1 << 16)
    except OSError:
        return None
    for offset in range(len(data) - 4):
        if data[offset] != 0xFF or (data[offset + 1] & 0xE0) != 0xE0:
            continue
        b1, b2, b3 = data[offset + 1], data[offset + 2], data[offset + 3]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        rate_index, bitrate_index = (b2 >> 2) & 3, b2 >> 4
        if version == 1 or layer != 1 or rate_index == 3 or bitrate_index in (0, 15):
            continue  # not a Layer III frame header; keep looking for the sync word
        sample_rate = _MP3_RATES[version][rate_index]
        mono = (b3 >> 6) == 3
        samples_per_frame = 1152 if version == 3 else 576
        xing_at = offset + (4 + (17 if mono else 32) if version == 3 else 4 + (9 if mono else 17))
        frames = None
        if data[xing_at : xing_at + 4] in (b"Xing", b"Info"):
            flags = int.from_bytes(data[xing_at + 4 : xing_at + 8], "big")
            if flags & 1:
                frames = int.from_bytes(data[xing_at + 8 : xing_at + 12], "big")
        elif data[offset + 36 : offset + 40] == b"VBRI":
            frames = int.from_bytes(data[offset + 50 : offset + 54], "big")
        return frames * samples_per_frame / sample_rate if frames else None
    return None


def _ogg_last_page_cut(path: Path) -> bool:
    """Whether an Ogg file ends inside a page, walking the page headers from the start.

    FFmpeg drops an incomplete last page without a word, so a cut Ogg/Opus file otherwise
    decodes as a shorter track. Trailing non-Ogg bytes (stray tags) are not counted as a cut.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            position = 0
            while position < size:
                handle.seek(position)
                header = handle.read(27)
                if len(header) < 27:  # a cut page header, unless these bytes are not Ogg at all
                    return b"OggS".startswith(header[:4])
                if header[:4] != b"OggS":
                    return False
                lacing = handle.read(header[26])
                if len(lacing) < header[26]:
                    return True
                position += 27 + header[26] + sum(lacing)
            return position > size
    except OSError:
        return False


def _take(pending: list[np.ndarray], n: int) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Split the first ``n`` samples (or all, if fewer) off a list of arrays."""
    joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
    chunk = np.ascontiguousarray(joined[:n], dtype=np.float32)
    rest = joined[n:]
    return chunk, ([rest] if rest.size else []), int(rest.size)


def decode_audio(path: Path, sample_rate: int = 16000) -> np.ndarray:
    """Decode a whole file to mono at ``sample_rate`` (for tests and short files).

    Returns
    -------
    np.ndarray, shape (n_samples,), float32

    Raises
    ------
    AudioDecodeError
        As ``iter_audio``.
    """
    chunks = list(iter_audio(path, sample_rate=sample_rate))
    return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]


def probe_duration(path: Path) -> float | None:
    """Duration in seconds the container declares (header only, no decoding), or None.

    For MP3 without a Xing/Info header this is FFmpeg's bit-rate estimate.
    """
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                return None
            return _declared_seconds(container, container.streams.audio[0])
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        return None


__all__ = [
    "AUDIO_EXTENSIONS",
    "decode_audio",
    "iter_audio",
    "probe_duration",
]
