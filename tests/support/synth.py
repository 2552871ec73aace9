"""Tiny synthesized audio files for tests: real encoded files of every library format, and bad ones.

Tags are written where each format keeps them so that ``tinytag`` reads them back: container
metadata (ID3v2 for MP3, iTunes atoms for M4A/MP4, RIFF INFO for WAV, ID3v2 for AIFF, ASF
attributes for WMA) and the stream's Vorbis comment for Ogg Vorbis and Opus. ``.aac`` (raw ADTS)
has no place for tags, so tags are refused there. Output is byte-identical for the same arguments
(muxers and encoders run with ``bitexact``, so no random Ogg serial numbers or version strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SIGNALS = ("tone", "noise", "silence", "chirp")
TONE_HZ = 440.0


@dataclass(frozen=True)
class _Format:
    container: str
    codec: str
    tags_on_stream: bool = False
    sample_rate: int | None = None  # forced encoder rate (Opus only runs at 48 kHz here)
    can_tag: bool = True
    container_options: tuple[tuple[str, str], ...] = ()
    bit_rate: int | None = None
    key_overrides: tuple[tuple[str, str], ...] = ()  # FFmpeg key -> key this muxer needs
    stereo_only: bool = False


_FORMATS: dict[str, _Format] = {
    ".wav": _Format("wav", "pcm_s16le"),
    ".flac": _Format("flac", "flac"),
    ".mp3": _Format("mp3", "libmp3lame"),
    # FFmpeg's native Vorbis encoder (there is no libvorbis in the wheel) only takes stereo.
    ".ogg": _Format("ogg", "vorbis", tags_on_stream=True, stereo_only=True),
    ".oga": _Format("ogg", "vorbis", tags_on_stream=True, stereo_only=True),
    ".opus": _Format("opus", "libopus", tags_on_stream=True, sample_rate=48000),
    ".m4a": _Format("ipod", "aac"),
    ".mp4": _Format("mp4", "aac"),
    ".aac": _Format("adts", "aac", can_tag=False),
    # The AIFF muxer only writes tags as an ID3v2 chunk when asked to.
    ".aiff": _Format("aiff", "pcm_s16be", container_options=(("write_id3v2", "1"),)),
    ".aif": _Format("aiff", "pcm_s16be", container_options=(("write_id3v2", "1"),)),
    # wmav2 refuses to open without a bit rate; the ASF muxer writes "date" verbatim, which no
    # reader maps, so write the WM/Year attribute itself.
    ".wma": _Format("asf", "wmav2", bit_rate=64000, key_overrides=(("date", "WM/Year"),)),
}
WRITABLE_SUFFIXES = frozenset(_FORMATS)

# Our tag names -> FFmpeg metadata keys (each muxer maps these to its own frames/atoms/comments).
_TAG_KEYS = {
    "artist": "artist",
    "album": "album",
    "title": "title",
    "genre": "genre",
    "date": "date",
    "year": "date",
    "track": "track",
    "tracknumber": "track",
    "track_number": "track",
}


def make_signal(
    seconds: float, sample_rate: int, channels: int = 1, signal: str = "tone", seed: int = 0
) -> np.ndarray:
    """Synthesize a test signal.

    Parameters
    ----------
    seconds : float
        Duration; the sample count is ``round(seconds * sample_rate)``.
    sample_rate : int
        Samples per second.
    channels : int
        Number of channels; extra channels of a tone or chirp are shifted in pitch so that a
        downmix never cancels out.
    signal : {"tone", "noise", "silence", "chirp"}
        A 440 Hz sine at half scale, white noise (std 0.1, from ``seed``), zeros, or an
        exponential sweep from 50 Hz to 0.45 × the sample rate.
    seed : int
        Seed of the noise generator.

    Returns
    -------
    np.ndarray, shape (channels, n_samples), float32
    """
    if signal not in SIGNALS:
        raise ValueError(f"unknown signal {signal!r}; expected one of {SIGNALS}")
    n = int(round(seconds * sample_rate))
    t = np.arange(n, dtype=np.float64) / sample_rate
    rows = []
    for channel in range(channels):
        if signal == "tone":
            row = 0.5 * np.sin(2 * np.pi * TONE_HZ * (1 + 0.25 * channel) * t)
        elif signal == "noise":
            rng = np.random.default_rng([seed, channel])
            row = np.clip(0.1 * rng.standard_normal(n), -1.0, 1.0)
        elif signal == "silence":
            row = np.zeros(n)
        else:
            f0, f1 = 50.0 * (1 + 0.25 * channel), 0.45 * sample_rate
            span = max(seconds, 1e-9)
            k = np.log(f1 / f0) / span
            row = 0.5 * np.sin(2 * np.pi * f0 * (np.expm1(k * t)) / k)
        rows.append(row)
    return np.asarray(rows, dtype=np.float32).reshape(channels, n)


def write_audio(
    path: Path,
    seconds: float,
    *,
    sample_rate: int = 22050,
    channels: int = 1,
    signal: str = "tone",
    tags: dict[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Encode a synthesized signal into a real audio file whose format follows the suffix.

    Parameters
    ----------
    path : Path
        Destination; the suffix picks container and codec (see ``WRITABLE_SUFFIXES``).
    seconds : float
        Duration of the signal (encoders may add a few ms of priming/padding).
    sample_rate : int
        Sample rate of the signal (Opus is resampled to 48 kHz, the only rate used here).
    channels : int
        1 or 2.
    signal : {"tone", "noise", "silence", "chirp"}
        See ``make_signal``.
    tags : dict of str to str, optional
        Keys among artist, album, title, genre, date (or year), track (or tracknumber).
    seed : int
        Seed of the noise signal.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot write {path.suffix!r}; known: {sorted(_FORMATS)}")
    if tags and not fmt.can_tag:
        raise ValueError(f"{path.suffix} files cannot carry tags")
    if channels not in (1, 2):
        raise ValueError("channels must be 1 or 2")
    metadata = {}
    for key, value in (tags or {}).items():
        if key not in _TAG_KEYS:
            raise ValueError(f"unknown tag {key!r}; known: {sorted(_TAG_KEYS)}")
        ffmpeg_key = _TAG_KEYS[key]
        metadata[dict(fmt.key_overrides).get(ffmpeg_key, ffmpeg_key)] = str(value)

    samples = make_signal(seconds, sample_rate, channels, signal, seed)
    if fmt.stereo_only and channels == 1:
        # Copy the channel rather than let FFmpeg upmix, which would lower it by 3 dB.
        samples = np.vstack([samples, samples])
    layout = "mono" if len(samples) == 1 else "stereo"
    options = {"fflags": "+bitexact", **dict(fmt.container_options)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format=fmt.container, options=options) as container:
        stream = container.add_stream(fmt.codec, rate=fmt.sample_rate or sample_rate)
        stream.codec_context.layout = layout
        if fmt.bit_rate:
            stream.codec_context.bit_rate = fmt.bit_rate
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        # FFmpeg's native Vorbis encoder is flagged experimental.
        stream.codec_context.options = {"strict": "experimental"}
        if fmt.tags_on_stream:
            stream.metadata.update(metadata)
        else:
            container.metadata.update(metadata)
        # Feed ~0.1 s float frames; PyAV resamples to the encoder's format/rate and re-frames
        # them to its frame size.
        step = max(1, sample_rate // 10)
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


def write_truncated(src: Path, dest: Path, fraction: float) -> Path:
    """Copy the first ``fraction`` of ``src``'s bytes to ``dest`` (a file cut short)."""
    data = Path(src).read_bytes()
    Path(dest).write_bytes(data[: int(len(data) * fraction)])
    return Path(dest)


def write_random_bytes(path: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` random bytes (deterministic for ``seed``), e.g. under an audio suffix."""
    data = np.random.default_rng(seed).integers(0, 256, size=n, dtype=np.uint8).tobytes()
    Path(path).write_bytes(data)
    return Path(path)
