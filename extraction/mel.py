"""The MusiCNN/VGG input mel bands in numpy, equal to Essentia's ``TensorflowInputMusiCNN``.

For machines without Essentia (no essentia-tensorflow wheel for the platform), with the
OpenVINO backend. Per 512-sample frame: a symmetric Hann window (not normalised), the power
spectrum |FFT|², 96 mel bands, log10(1 + 10000·bands). The band weights are the ones Essentia's
``MelBands`` uses (Slaney's mel scale over 0–8 kHz, triangles linear in Hz of unit area): they
are stored in ``mel_filterbank.npz``, read from Essentia itself by :func:`essentia_filterbank`
(``python -m extraction.mel --write`` regenerates the file), because a float64 rebuild from the
formulas differs by up to 1.6 % on a few weights at the triangles' feet, which moves some log-mel
values by 4e-4. With the stored weights the bands equal Essentia's to about 2e-5
(``tests/unit/test_mel.py``).
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np

FRAME_SIZE = 512
SPECTRUM_BINS = FRAME_SIZE // 2 + 1
MEL_BANDS = 96
SAMPLE_RATE = 16000
FILTERBANK_FILE = Path(__file__).with_name("mel_filterbank.npz")
# Essentia's settings inside TensorflowInputMusiCNN (the MelBands defaults fill in the rest:
# lowFrequencyBound 0, type "power").
MEL_BANDS_SETTINGS = {
    "inputSize": SPECTRUM_BINS,
    "numberBands": MEL_BANDS,
    "sampleRate": SAMPLE_RATE,
    "highFrequencyBound": SAMPLE_RATE / 2,
    "warpingFormula": "slaneyMel",
    "weighting": "linear",
    "normalize": "unit_tri",
}


@lru_cache(maxsize=1)
def hann_window() -> np.ndarray:
    """Symmetric Hann window of one frame, shape (512,), float64."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_SIZE) / (FRAME_SIZE - 1))


@lru_cache(maxsize=1)
def filterbank() -> np.ndarray:
    """The stored band weights, shape (96, 257), float64 (read-only)."""
    with np.load(FILTERBANK_FILE) as stored:
        weights = np.asarray(stored["weights"], dtype=np.float64)
    if weights.shape != (MEL_BANDS, SPECTRUM_BINS):
        raise ValueError(f"{FILTERBANK_FILE} holds weights of shape {weights.shape}")
    weights.setflags(write=False)
    return weights


def log_mel(frames: np.ndarray) -> np.ndarray:
    """Log-compressed mel bands of each frame.

    Parameters
    ----------
    frames : np.ndarray, shape (n_frames, 512), float
        Audio frames at 16 kHz.

    Returns
    -------
    np.ndarray, shape (n_frames, 96), float32
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != FRAME_SIZE:
        raise ValueError(f"frames must have shape (n, {FRAME_SIZE}), got {frames.shape}")
    power = np.abs(np.fft.rfft(frames * hann_window(), axis=1)) ** 2
    return np.log10(1.0 + 10000.0 * (power @ filterbank().T)).astype(np.float32)


def essentia_filterbank() -> np.ndarray:
    """Essentia's own MelBands weights, read by feeding it each spectrum bin alone.

    MelBands of type "power" squares its input, so a unit bin gives that bin's weights.

    Returns
    -------
    np.ndarray, shape (96, 257), float32
    """
    from extraction.essentia_env import import_essentia_standard

    bands = import_essentia_standard().MelBands(**MEL_BANDS_SETTINGS)
    unit = np.eye(SPECTRUM_BINS, dtype=np.float32)
    return np.stack([bands(unit[k]) for k in range(SPECTRUM_BINS)], axis=1)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--write"]:
        print("usage: python -m extraction.mel --write   (regenerates mel_filterbank.npz)")
        return 2
    np.savez_compressed(FILTERBANK_FILE, weights=essentia_filterbank())
    print(f"wrote {FILTERBANK_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
