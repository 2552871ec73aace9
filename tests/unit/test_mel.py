"""The numpy mel bands the pipeline uses against Essentia's TensorflowInputMusiCNN."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from extraction import features, mel
from tests.support.paths import REPO
from tests.support.synth import make_signal


def mixed_signal() -> np.ndarray:
    rng = np.random.default_rng(0)
    parts = [make_signal(3, 16000, signal=s, seed=3).reshape(-1) for s in
             ("tone", "noise", "chirp", "silence")]  # fmt: skip
    parts += [rng.standard_normal(16000 * 3) * 0.3, rng.standard_normal(16000) * 1e-4]
    return np.concatenate(parts).astype(np.float32)


def frames_of(signal: np.ndarray) -> np.ndarray:
    count = features.n_frames(signal.size)
    padded = np.zeros(features.HOP_SIZE * (count - 1) + features.FRAME_SIZE, np.float32)
    padded[features.HOP_SIZE : features.HOP_SIZE + signal.size] = signal
    return features._frame_view(padded, count)


def test_mel001_numpy_bands_equal_essentias_within_1e4():
    frames = frames_of(mixed_signal())
    reference = features.essentia_log_mel(frames)
    bands = mel.log_mel(frames)
    assert bands.shape == reference.shape == (len(frames), 96) and bands.dtype == np.float32
    assert np.abs(bands - reference).max() < 1e-4


def test_mel002_the_stored_weights_are_essentias():
    stored = mel.filterbank()
    np.testing.assert_array_equal(stored, mel.essentia_filterbank().astype(np.float64))
    assert (stored >= 0).all() and (stored.sum(axis=1) > 0).all()  # every band covers a bin


def test_mel003_patches_come_from_numpy_and_agree_with_essentias_within_1e4():
    signal = mixed_signal()[: 16000 * 6]
    patcher = features.MelPatcher()
    ours = np.concatenate([patcher.feed(signal), patcher.finish()])
    np.testing.assert_array_equal(ours, features.patches_from_signal(signal, mel.log_mel))
    reference = features.patches_from_signal(signal, features.essentia_log_mel)
    assert ours.shape == reference.shape == (2, 187, 96)
    assert 0 < np.abs(ours - reference).max() < 1e-4  # 0 would mean Essentia computed both


def test_mel005_features_work_without_essentia(tmp_path: Path):
    signal = mixed_signal()[: 16000 * 6]
    code = (
        "import sys, numpy as np; sys.modules['essentia'] = None\n"
        "from extraction import features\n"
        "np.save(sys.argv[2], features.patches_from_signal(np.load(sys.argv[1])))\n"
    )
    np.save(tmp_path / "signal.npy", signal)
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "signal.npy"), str(tmp_path / "out.npy")],
        cwd=REPO,
        check=True,
    )
    np.testing.assert_array_equal(
        np.load(tmp_path / "out.npy"), features.patches_from_signal(signal)
    )


def test_mel004_frames_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"\(n, 512\)"):
        mel.log_mel(np.zeros((3, 256)))
