"""Mel-spectrogram patches fed to the MusiCNN/VGG auto-taggers, computed in a stream.

The mel frames are Essentia's ``TensorflowInputMusiCNN`` (symmetric Hann window, |FFT|² of 512
samples, 96 triangles with edges equally spaced on Slaney's mel scale over 0–8 kHz, linear in
Hz, each divided by its area and covering every bin between its edges, then
log10(1 + 10000·mel)), framed exactly as inside Essentia's ``TensorflowPredictMusiCNN``: a
``FrameCutter`` configured with only frameSize=512 / hopSize=256, so startFromZero=false and
validFrameThresholdRatio=0 (MTG/essentia tensorflowpredictmusicnn.cpp, framecutter.cpp):

- frame ``i`` covers samples ``[256·i − 256, 256·i + 256)``: the first frame is centred on sample
  0 and zero-padded on the left, frames past the end are zero-padded on the right;
- a signal of ``N ≥ 1`` samples gives ``ceil(N / 256) + 1`` frames (the last frame is the first
  whose centre is at or past the end).

Patches are 187 consecutive frames without overlap (the reference run with
``patchHopSize=187``, ``lastPatchMode="discard"``), so patch ``i`` starts at
``i × SEGMENT_SECONDS``. ``tests/unit/test_features.py`` checks that, with Essentia's own mel
(:func:`essentia_log_mel`), the patches are bit-identical to the ones ``TensorflowPredictMusiCNN``
builds, digital silence included; the pipeline computes the same bands in numpy
(:mod:`extraction.mel`, equal within 2e-5, 2.4 times cheaper).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from extraction.audio import iter_audio
from extraction.contract import SEGMENT_SECONDS
from extraction.errors import AudioDecodeError
from extraction.essentia_env import import_essentia_standard
from extraction.mel import log_mel

SAMPLE_RATE = 16000
FRAME_SIZE = 512
HOP_SIZE = 256
MEL_BANDS = 96
PATCH_FRAMES = 187
# One patch is one segment of the data folder's contract (2.992 s).
assert PATCH_FRAMES * HOP_SIZE / SAMPLE_RATE == SEGMENT_SECONDS

# Left zero padding that centres the first frame on sample 0 (FrameCutter startFromZero=false).
_LEFT_PAD = (FRAME_SIZE + 1) // 2

_local = threading.local()

# A function of frames (k, 512) float32 → log-mel bands (k, 96) float32.
MelFunction = Callable[[np.ndarray], np.ndarray]


def essentia_log_mel(frames: np.ndarray) -> np.ndarray:
    """Essentia's ``TensorflowInputMusiCNN`` on each row of ``frames`` (k, 512) → (k, 96).

    The reference the numpy :func:`extraction.mel.log_mel` is checked against (equal within
    2e-5), which the pipeline uses instead: on whole chunks it costs a core 1.1 ms per patch
    against this one's 2.6 ms frame by frame (``benchmarks/extraction.py --ceiling``).

    Raises
    ------
    ImportError
        Essentia is not installed.
    """
    algorithm = getattr(_local, "mel", None)
    if algorithm is None:  # Essentia algorithms are not thread-safe: one per thread
        algorithm = _local.mel = import_essentia_standard().TensorflowInputMusiCNN()
    out = np.empty((len(frames), MEL_BANDS), dtype=np.float32)
    for i, frame in enumerate(frames):
        out[i] = algorithm(frame)
    return out


def n_frames(n_samples: int) -> int:
    """Number of frames Essentia's framing gives for ``n_samples`` samples (0 for none)."""
    return 0 if n_samples <= 0 else -(-n_samples // HOP_SIZE) + 1


def _frame_view(padded: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` frames of a left-padded signal, as a strided view (count, 512)."""
    if count == 0:
        return np.empty((0, FRAME_SIZE), dtype=np.float32)
    return np.lib.stride_tricks.sliding_window_view(padded, FRAME_SIZE)[::HOP_SIZE][:count]


def mel_frames(audio: np.ndarray, mel: MelFunction = log_mel) -> np.ndarray:
    """Log-mel frames of a whole 16 kHz mono signal, framed as in ``TensorflowPredictMusiCNN``.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,), float32
        Mono signal at ``SAMPLE_RATE``.
    mel : MelFunction
        The mel bands of frames (default the numpy one; :func:`essentia_log_mel` is Essentia's).

    Returns
    -------
    np.ndarray, shape (n_frames, 96), float32
        ``n_frames = ceil(n_samples / 256) + 1`` (0 for an empty signal).
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    count = n_frames(audio.size)
    padded = np.zeros(HOP_SIZE * (count - 1) + FRAME_SIZE if count else 0, dtype=np.float32)
    padded[_LEFT_PAD : _LEFT_PAD + audio.size] = audio
    return mel(_frame_view(padded, count))


def _tile_to_patch(frames: np.ndarray) -> np.ndarray:
    """Repeat frames cyclically up to one patch (187, 96)."""
    return frames[np.arange(PATCH_FRAMES) % len(frames)]


class MelPatcher:
    """Turn a signal fed in chunks into non-overlapping mel patches, identical to doing it at once.

    ``feed`` returns the patches completed so far; ``finish`` ends the track. A track of at least
    187 frames drops its remainder shorter than a patch; a shorter track gives exactly one patch,
    its frames repeated cyclically up to 187 (a signal shorter than one frame, 512 samples, is
    first repeated cyclically up to 512 samples). ``mel`` computes the bands of frames (see
    :func:`mel_frames`).
    """

    def __init__(self, mel: MelFunction = log_mel) -> None:
        self._mel = mel
        # Samples not yet consumed by a frame, starting at frame ``_next_frame``'s first sample
        # (the left padding counts as samples here).
        self._buffer = np.zeros(_LEFT_PAD, dtype=np.float32)
        self._next_frame = 0
        self._n_samples = 0
        self._n_patches = 0
        self._head = np.empty(0, dtype=np.float32)  # first samples, kept for very short tracks
        self._frames: list[np.ndarray] = []  # mel frames not yet in a patch
        self._n_pending_frames = 0
        self._finished = False

    @property
    def n_patches(self) -> int:
        """Patches returned so far."""
        return self._n_patches

    def _add_frames(self, mels: np.ndarray) -> np.ndarray:
        if mels.size:
            self._frames.append(mels)
            self._n_pending_frames += len(mels)
        k = self._n_pending_frames // PATCH_FRAMES
        if k == 0:
            return np.empty((0, PATCH_FRAMES, MEL_BANDS), dtype=np.float32)
        pending = np.concatenate(self._frames) if len(self._frames) > 1 else self._frames[0]
        patches = pending[: k * PATCH_FRAMES].reshape(k, PATCH_FRAMES, MEL_BANDS)
        rest = pending[k * PATCH_FRAMES :]
        self._frames = [rest] if len(rest) else []
        self._n_pending_frames = len(rest)
        self._n_patches += k
        return np.ascontiguousarray(patches)

    def feed(self, chunk: np.ndarray) -> np.ndarray:
        """Add samples; return the patches they complete.

        Parameters
        ----------
        chunk : np.ndarray, shape (n_samples,), float32
            The next samples of the 16 kHz mono signal (any length, 0 included).

        Returns
        -------
        np.ndarray, shape (k, 187, 96), float32
            Newly complete patches, k ≥ 0.
        """
        if self._finished:
            raise RuntimeError("MelPatcher.feed() after finish()")
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self._n_samples += chunk.size
        if self._head.size < FRAME_SIZE:
            self._head = np.concatenate([self._head, chunk[: FRAME_SIZE - self._head.size]])
        self._buffer = np.concatenate([self._buffer, chunk])
        # Frames whose 512 samples are all known now; a frame at the very end may still need
        # right padding, which only finish() can decide.
        count = max(0, (self._buffer.size - FRAME_SIZE) // HOP_SIZE + 1)
        mels = self._mel(_frame_view(self._buffer, count))
        self._buffer = self._buffer[count * HOP_SIZE :].copy()
        self._next_frame += count
        return self._add_frames(mels)

    def finish(self) -> np.ndarray:
        """End the track; return its last patches (see the class docstring).

        Returns
        -------
        np.ndarray, shape (k, 187, 96), float32
            Usually k = 0 when the track already gave a patch and k = 1 for a track shorter than
            one patch. k = 1 also when the final right-padded frames (which only the end of the
            track can tell) complete a patch, exactly as in the one-shot framing.

        Raises
        ------
        AudioDecodeError
            No samples were fed at all.
        """
        if self._finished:
            raise RuntimeError("MelPatcher.finish() called twice")
        self._finished = True
        if self._n_samples == 0:
            raise AudioDecodeError("no audio samples")
        if self._n_samples < FRAME_SIZE:
            self._n_patches = 1
            return _tile_to_patch(mel_frames(np.resize(self._head, FRAME_SIZE), self._mel))[
                np.newaxis
            ]
        had_patches = self._n_patches > 0
        # The last frames reach past the end and are zero-padded on the right.
        remaining = n_frames(self._n_samples) - self._next_frame
        padded = np.zeros(HOP_SIZE * (remaining - 1) + FRAME_SIZE, dtype=np.float32)
        padded[: self._buffer.size] = self._buffer
        self._buffer = np.empty(0, dtype=np.float32)
        self._next_frame += remaining
        patches = self._add_frames(self._mel(_frame_view(padded, remaining)))
        if had_patches or len(patches):
            return patches
        frames = np.concatenate(self._frames) if len(self._frames) > 1 else self._frames[0]
        self._frames, self._n_pending_frames = [], 0
        self._n_patches = 1
        return _tile_to_patch(frames)[np.newaxis]


def patches_from_signal(audio: np.ndarray, mel: MelFunction = log_mel) -> np.ndarray:
    """All patches of a whole signal at once (same result as streaming through ``MelPatcher``).

    ``mel`` computes the bands of frames (see :func:`mel_frames`).

    Returns
    -------
    np.ndarray, shape (n_patches, 187, 96), float32
    """
    patcher = MelPatcher(mel)
    first = patcher.feed(audio)
    last = patcher.finish()
    return np.concatenate([first, last]) if len(last) else first


def iter_patches(path: Path, batch_patches: int = 64) -> Iterator[np.ndarray]:
    """Decode a file and yield its mel patches in order, in batches.

    Parameters
    ----------
    path : Path
        Audio file.
    batch_patches : int
        Largest number of patches per batch.

    Yields
    ------
    np.ndarray, shape (n, 187, 96), float32
        1 ≤ n ≤ batch_patches; the i-th patch overall starts at ``i × SEGMENT_SECONDS``.

    Raises
    ------
    AudioDecodeError
        The file cannot be decoded (possibly after some batches were yielded).
    """
    if batch_patches < 1:
        raise ValueError("batch_patches must be at least 1")
    patcher = MelPatcher()
    pending: list[np.ndarray] = []
    n_pending = 0
    # ~10 s chunks: a few hundred frames per feed keeps the per-chunk overhead negligible.
    for chunk in iter_audio(path, sample_rate=SAMPLE_RATE, chunk_seconds=10.0):
        patches = patcher.feed(chunk)
        if len(patches):
            pending.append(patches)
            n_pending += len(patches)
        while n_pending >= batch_patches:
            batch, pending, n_pending = _split_batch(pending, batch_patches)
            yield batch
    last = patcher.finish()
    if len(last):
        pending.append(last)
        n_pending += len(last)
    while n_pending:
        batch, pending, n_pending = _split_batch(pending, batch_patches)
        yield batch


def _split_batch(pending: list[np.ndarray], n: int) -> tuple[np.ndarray, list[np.ndarray], int]:
    joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
    rest = joined[n:]
    return joined[:n], ([rest] if len(rest) else []), len(rest)


def segment_offsets(n: int) -> np.ndarray:
    """Start time in seconds of each of ``n`` consecutive patches.

    Returns
    -------
    np.ndarray, shape (n,), float32
    """
    return (np.arange(n, dtype=np.float64) * SEGMENT_SECONDS).astype(np.float32)
