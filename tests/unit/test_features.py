"""Mel frames and patches: the definition, the streaming, and Essentia's own MusiCNN input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extraction.audio import decode_audio
from extraction.errors import AudioDecodeError
from extraction.essentia_env import import_essentia_standard
from extraction.features import (
    FRAME_SIZE,
    HOP_SIZE,
    MEL_BANDS,
    PATCH_FRAMES,
    SAMPLE_RATE,
    SEGMENT_SECONDS,
    MelPatcher,
    essentia_log_mel,
    iter_patches,
    mel_frames,
    n_frames,
    patches_from_signal,
    segment_offsets,
)
from tests.support.paths import REPO
from tests.support.synth import make_signal, write_audio

MUSICNN_GRAPH = REPO / "extraction" / "models" / "musicnn-msd.pb"


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    n = int(round(seconds * SAMPLE_RATE))
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def test_features001_constants() -> None:
    assert (SAMPLE_RATE, FRAME_SIZE, HOP_SIZE, MEL_BANDS) == (16000, 512, 256, 96)
    assert PATCH_FRAMES == 187
    assert abs(SEGMENT_SECONDS - 2.992) < 1e-12


# --- the mel definition ------------------------------------------------------------------------


def _slaney_hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's Auditory Toolbox mel scale: linear (3/200 mel per Hz) below 1 kHz, log above."""
    hz = np.asarray(hz, dtype=np.float64)
    log_step = np.log(6.4) / 27
    return np.where(hz < 1000, hz * 3 / 200, 15 + np.log(np.maximum(hz, 1e-9) / 1000) / log_step)


def _slaney_mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27
    return np.where(mel < 15, mel * 200 / 3, 1000 * np.exp((mel - 15) * log_step))


def _reference_filterbank() -> np.ndarray:
    """MelBands as TensorflowInputMusiCNN configures it, written from its parameters.

    96 triangles with edges equally spaced on the Slaney mel scale over 0–8000 Hz, "linear"
    weighting (the triangle is linear in Hz between its edges), "unit_tri" normalisation (each
    triangle divided by its area, (upper − lower edge) / 2), applied to every FFT bin inside the
    triangle. Returns shape (96, 257).
    """
    edges = _slaney_mel_to_hz(np.linspace(0.0, _slaney_hz_to_mel(8000.0), MEL_BANDS + 2))
    bins = np.arange(FRAME_SIZE // 2 + 1) * SAMPLE_RATE / FRAME_SIZE
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    triangles = np.clip(np.minimum(rising, falling), 0.0, None)
    return triangles / ((upper - lower) / 2)


def _reference_mel(frames: np.ndarray) -> np.ndarray:
    """log10(1 + 10000 · mel power) of frames (k, 512): symmetric Hann, |rfft|², filterbank."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_SIZE) / (FRAME_SIZE - 1))
    power = np.abs(np.fft.rfft(frames.astype(np.float64) * window, axis=1)) ** 2
    return np.log10(1 + 10000 * power @ _reference_filterbank().T)


def _reference_framing(audio: np.ndarray) -> np.ndarray:
    """Frames centred on 0, 256, 512, ... (zero-padded), until one is centred at/after the end."""
    count = -(-audio.size // HOP_SIZE) + 1
    padded = np.concatenate([np.zeros(256), audio, np.zeros(HOP_SIZE * count + FRAME_SIZE)])
    return np.stack([padded[i * HOP_SIZE : i * HOP_SIZE + FRAME_SIZE] for i in range(count)])


def test_features002_mel_frames_match_the_definition() -> None:
    # Noise, a chirp through every band, a loud tone, and silence (log10(1) = 0).
    audio = np.concatenate(
        [
            _noise(0.3),
            make_signal(0.4, SAMPLE_RATE, signal="chirp")[0],
            0.9 * make_signal(0.2, SAMPLE_RATE, signal="tone")[0],
            np.zeros(3000, np.float32),
        ]
    )
    ours = mel_frames(audio)
    reference = _reference_mel(_reference_framing(audio))
    assert ours.shape == reference.shape == (n_frames(audio.size), 96)
    assert ours.dtype == np.float32
    # Essentia works in float32 (eps 1.2e-7): its FFT and band sums carry relative errors of
    # ~1e-6, at most a few 1e-6 after log10(1 + 10000x) (slope ≤ 1/ln 10 per unit of relative
    # error). 1e-4 is far above that and far below what a wrong window, filterbank edge, bin or
    # frame offset gives (≥ 1e-2 on many bands).
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-4)
    assert np.all(ours[-5:] == 0)  # the silent tail


@pytest.mark.parametrize("n", [1, 255, 256, 257, 511, 512, 513, 1000, 48123])
def test_features003_frame_count_follows_the_centred_framing(n: int) -> None:
    assert n_frames(n) == len(_reference_framing(np.zeros(n))) == len(mel_frames(np.ones(n)))


# --- patches -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"), [(10.0, 3), (2.9, 1), (0.5, 1), (0.01, 1), (5.99, 2), (6.0, 2)]
)
def test_features004_segment_counts(seconds: float, expected: int) -> None:
    assert len(patches_from_signal(_noise(seconds))) == expected


def test_features005_short_track_is_repeat_padded() -> None:
    audio = _noise(0.5)
    frames = mel_frames(audio)  # 33 frames
    (patch,) = patches_from_signal(audio)
    np.testing.assert_array_equal(patch, frames[np.arange(PATCH_FRAMES) % len(frames)])


def test_features006_track_shorter_than_a_frame_tiles_its_samples_first() -> None:
    audio = _noise(0.01)  # 160 samples
    (patch,) = patches_from_signal(audio)
    frames = mel_frames(np.resize(audio, FRAME_SIZE))
    np.testing.assert_array_equal(patch, frames[np.arange(PATCH_FRAMES) % len(frames)])


def test_features007_long_track_drops_its_remainder() -> None:
    audio = _noise(10.0)
    frames = mel_frames(audio)  # 626 frames: 3 patches and 65 dropped frames
    np.testing.assert_array_equal(
        patches_from_signal(audio), frames[: 3 * PATCH_FRAMES].reshape(3, PATCH_FRAMES, 96)
    )


def test_features008_zero_samples_raise() -> None:
    patcher = MelPatcher()
    patcher.feed(np.zeros(0, np.float32))
    with pytest.raises(AudioDecodeError, match="no audio samples"):
        patcher.finish()


# 47616 and 95488 samples: the final right-padded frame completes a patch only at finish().
@pytest.mark.parametrize("n", [100, 600, 8000, 47616, 47872, 95488, 96000, 160037])
@pytest.mark.parametrize("sizes", [(1, 7, 255, 256, 257), (511, 1000, 3), (4099,)])
def test_features009_streaming_equals_one_shot(n: int, sizes: tuple[int, ...]) -> None:
    audio = _noise(n / SAMPLE_RATE, seed=n)
    patcher = MelPatcher()
    parts, start, i = [], 0, 0
    while start < n:
        parts.append(patcher.feed(audio[start : start + sizes[i % len(sizes)]]))
        start += sizes[i % len(sizes)]
        i += 1
    parts.append(patcher.finish())
    streamed = np.concatenate(parts)
    assert streamed.dtype == np.float32 and streamed.shape[1:] == (PATCH_FRAMES, MEL_BANDS)
    np.testing.assert_array_equal(streamed, patches_from_signal(audio))
    count = n_frames(n) // PATCH_FRAMES
    if count:
        one_shot = mel_frames(audio)[: count * PATCH_FRAMES].reshape(count, PATCH_FRAMES, 96)
        np.testing.assert_array_equal(streamed, one_shot)


def test_features010_iter_patches_batches_in_order(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "chirp.flac", 20.0, signal="chirp", sample_rate=16000)
    batches = list(iter_patches(path, batch_patches=4))
    assert [len(batch) for batch in batches] == [4, 2]
    np.testing.assert_array_equal(np.concatenate(batches), patches_from_signal(decode_audio(path)))


def test_features011_segment_offsets() -> None:
    offsets = segment_offsets(4)
    assert offsets.dtype == np.float32
    np.testing.assert_allclose(offsets, [0.0, 2.992, 5.984, 8.976], rtol=1e-7)
    assert segment_offsets(0).shape == (0,)


# --- against TensorflowPredictMusiCNN ----------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _flattening_graph() -> bytes:
    """A GraphDef "model/Sigmoid = reshape(model/Placeholder, [-1, 187·96])", protobuf by hand.

    Run by TensorflowPredictMusiCNN it returns, as each patch's "prediction", the very patch
    Essentia built, so its framing and patching can be compared with ours exactly.
    """
    dt_float, dt_int32 = 1, 3

    def attr(key: str, value: bytes) -> bytes:
        return _field(5, _field(1, key.encode()) + _field(2, value))

    def node(name: str, op: str, inputs: tuple[str, ...], attrs: bytes) -> bytes:
        body = _field(1, name.encode()) + _field(2, op.encode())
        body += b"".join(_field(3, item.encode()) for item in inputs)
        return _field(1, body + attrs)

    minus_one = (1 << 64) - 1  # int32 -1 as a protobuf varint
    shape = _field(1, dt_int32) + _field(2, _field(2, _field(1, 2)))
    shape += _field(7, _varint(minus_one) + _varint(PATCH_FRAMES * MEL_BANDS))
    return (
        node("model/Placeholder", "Placeholder", (), attr("dtype", _field(6, dt_float)))
        + node(
            "model/shape",
            "Const",
            (),
            attr("dtype", _field(6, dt_int32)) + attr("value", _field(8, shape)),
        )
        + node(
            "model/Sigmoid",
            "Reshape",
            ("model/Placeholder", "model/shape"),
            attr("T", _field(6, dt_float)) + attr("Tshape", _field(6, dt_int32)),
        )
    )


def test_features012_patches_are_the_ones_tensorflowpredictmusicnn_builds(tmp_path: Path) -> None:
    graph = tmp_path / "flatten.pb"
    graph.write_bytes(_flattening_graph())
    standard = import_essentia_standard()
    predict = standard.TensorflowPredictMusiCNN(graphFilename=str(graph), patchHopSize=PATCH_FRAMES)
    signals = [_noise(n / SAMPLE_RATE, seed=n) for n in (47872, 95488, 160037)]
    # 1 patch, a patch completed by the last frame, 3 patches; and digital silence, where
    # Essentia's streaming FrameCutter could add -100 dB noise (it does not change a bit here).
    for audio in [*signals, np.zeros(48000, np.float32)]:
        essentia_patches = np.asarray(predict(audio)).reshape(-1, PATCH_FRAMES, MEL_BANDS)
        np.testing.assert_array_equal(
            patches_from_signal(audio, essentia_log_mel), essentia_patches
        )
        # The pipeline's numpy mel: the same framing, bands within 1e-4.
        np.testing.assert_allclose(patches_from_signal(audio), essentia_patches, rtol=0, atol=1e-4)


@pytest.mark.skipif(not MUSICNN_GRAPH.exists(), reason=f"{MUSICNN_GRAPH.name} not built yet")
def test_features013_shipped_musicnn_gives_the_reference_taggram(tmp_path: Path) -> None:
    import essentia

    standard = import_essentia_standard()
    path = write_audio(tmp_path / "tone.flac", 9.5, signal="tone", sample_rate=44100)
    audio = decode_audio(path)
    reference = standard.TensorflowPredictMusiCNN(
        graphFilename=str(MUSICNN_GRAPH), patchHopSize=PATCH_FRAMES
    )(audio)
    patches = np.concatenate(list(iter_patches(path)))
    pool = essentia.Pool()
    pool.set("model/Placeholder", patches[:, np.newaxis])
    predict = standard.TensorflowPredict(
        graphFilename=str(MUSICNN_GRAPH), inputs=["model/Placeholder"], outputs=["model/Sigmoid"]
    )
    ours = np.asarray(predict(pool)["model/Sigmoid"]).reshape(len(patches), -1)
    assert ours.shape == (3, 50)
    # Same patches, same graph: equal up to TensorFlow's batch-size-dependent float32 summation.
    np.testing.assert_allclose(ours, np.asarray(reference), rtol=0, atol=1e-5)
