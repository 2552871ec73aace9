"""Extraction with worker processes gives the same tables as the straightforward in-process path."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from extraction import cli
from extraction.cli import MAX_DEFAULT_WORKERS, default_workers
from extraction.errors import ModelError
from extraction.inference import limit_tensorflow_threads
from extraction.library import LibraryFile
from extraction.pipeline import POOL_BATCH_PATCHES, extract_tracks
from extraction.pool import InferencePool
from extraction.registry import LAYERS, load_registry, resolve_models
from extraction.task import TrackTask
from tests.support.synth import write_audio, write_random_bytes

MODELS = ("vgg-mtt", "musicnn-msd")  # one of each architecture


def specs():
    return resolve_models(list(MODELS), load_registry())


def tasks_for(library: Path, names: list[str]) -> list[TrackTask]:
    tasks = []
    for track, name in enumerate(names):
        stat = (library / name).stat()
        tasks.append(TrackTask(LibraryFile(name, stat.st_size, stat.st_mtime_ns), track, {}))
    return tasks


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("lib")
    # Longer than one pool batch (16 patches = 47.9 s), so a track spans several workers' tasks.
    long_seconds = POOL_BATCH_PATCHES * 2.992 * 1.4
    write_audio(root / "long.flac", long_seconds, signal="chirp")
    write_audio(root / "short.ogg", 1.2, signal="noise")
    write_random_bytes(root / "broken.mp3", 4000)
    write_audio(root / "tone.wav", 7.0, signal="tone")
    return root, ["long.flac", "short.ogg", "broken.mp3", "tone.wav"]


def test_parallel001_workers_give_the_in_process_results(library):
    root, names = library
    tasks = tasks_for(root, names)
    serial = list(extract_tracks(root, specs(), tasks, workers=1))
    # Completion order: a failed file can overtake a long one still in the workers.
    pooled = sorted(extract_tracks(root, specs(), tasks, workers=2), key=lambda r: r.row["track"])
    assert [r.row["path"] for r in pooled] == names
    for one, other in zip(serial, pooled, strict=True):
        assert one.row == other.row
        assert one.segments.keys() == other.segments.keys()
        for space, block in one.segments.items():
            twin = other.segments[space]
            assert np.array_equal(block.track, twin.track)
            assert np.array_equal(block.offset, twin.offset)
            # Thread counts differ between the two paths: float rounding only.
            np.testing.assert_allclose(twin.vector, block.vector, rtol=1e-4, atol=1e-5)
    long = pooled[0]
    assert len(long.segments[("vgg-mtt", "taggram")].vector) > POOL_BATCH_PATCHES
    assert {space[1] for space in long.segments} == set(LAYERS)
    assert pooled[2].row["status"] == "error" and pooled[2].row["error"]
    assert not pooled[2].segments


def test_parallel002_a_batch_a_model_refuses_comes_back_as_model_error():
    rng = np.random.default_rng(0)
    good = rng.random((2, 187, 96), dtype=np.float32)
    wrong = rng.random((2, 100, 96), dtype=np.float32)
    with InferencePool[str](specs(), workers=1, intra_op_threads=1) as pool:
        results = list(pool.submit("good", good)) + list(pool.submit("wrong", wrong))
        results += list(pool.drain())
    assert [tag for tag, _ in results] == ["good", "wrong"]
    assert set(results[0][1]) == set(MODELS)
    assert results[0][1]["vgg-mtt"]["taggram"].shape == (2, 50)
    assert isinstance(results[1][1], ModelError)


def test_parallel003_thread_settings_never_override_the_user(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    limit_tensorflow_threads(1)
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "3"
    assert os.environ["TF_NUM_INTEROP_THREADS"] == "1"
    assert os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


@pytest.mark.parametrize(
    ("backend", "cores", "expected"),
    [
        ("essentia", 1, 1),
        ("essentia", 2, 2),
        ("essentia", 16, MAX_DEFAULT_WORKERS),
        ("openvino", 2, 1),  # its own threads use both cores
        ("openvino", 8, 2),
        ("openvino", 64, MAX_DEFAULT_WORKERS),
    ],
)
def test_parallel004_default_workers_per_backend(backend, cores, expected):
    assert default_workers(backend, cores) == expected


def test_parallel005_the_cli_takes_the_default_for_the_resolved_backend(monkeypatch, tmp_path):
    chosen = {}

    def record(library, store, specs, **kwargs):
        chosen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_extraction", record)
    (tmp_path / "music").mkdir()
    with pytest.raises(KeyboardInterrupt):
        cli.run(tmp_path / "music", tmp_path / "data", workers=None, backend="essentia")
    assert chosen["workers"] == default_workers("essentia")
    assert cli.build_parser().parse_args(["--library", "x"]).workers is None
