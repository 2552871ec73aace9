"""The shipped frozen graphs: conversion fidelity, ModelRunner, and reproducibility.

Reference outputs in ``tests/data/model_reference.npz`` come from the musicnn checkpoints run by
TensorFlow 2.21 (``python -m tests.support.make_model_reference``), not from the frozen graphs, so
the Essentia runs below check the conversion end to end.

The tolerances, and why they are what they are, live with the comparisons in
tests/support/model_reference.py, which the backends' tests (test_backends.py) share.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from extraction.errors import ModelError
from extraction.inference import ModelRunner
from extraction.registry import DEFAULT_MODEL_NAMES, DEFAULT_MODELS_DIR
from tests.support.make_model_reference import (
    DEFAULT_WHEEL,
    REFERENCE_PATH,
    reference_key,
    reference_patches,
)
from tests.support.model_reference import (
    TAGGRAM_ATOL,
    assert_layers_close,
    assert_matches_checkpoint_reference,
)
from tests.support.paths import REPO
from tools import convert


@pytest.fixture(scope="module")
def essentia_standard():
    pytest.importorskip("essentia", reason="essentia-tensorflow is not installed")
    from extraction.essentia_env import import_essentia_standard

    return import_essentia_standard()


@pytest.fixture(scope="module")
def tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip(
        "tensorflow", reason="TensorFlow is not installed (pip install '.[convert]')"
    )


@pytest.fixture(scope="module")
def musicnn_wheel():
    wheel = Path(os.environ.get("MUSICNN_WHEEL", DEFAULT_WHEEL))
    if not wheel.is_file():
        pytest.skip(
            f"musicnn wheel not found at {wheel}: set MUSICNN_WHEEL or "
            "`pip download musicnn==0.1.0 --no-deps`"
        )
    return wheel


@pytest.fixture(scope="module")
def unpacked_wheel(musicnn_wheel, tmp_path_factory):
    convert.verify_wheel(musicnn_wheel)
    return convert.unpack_wheel(musicnn_wheel, tmp_path_factory.mktemp("musicnn"))


@pytest.mark.parametrize("name", DEFAULT_MODEL_NAMES)
def test_models001_runner_matches_checkpoint_reference(essentia_standard, registry, name):
    assert_matches_checkpoint_reference(ModelRunner(registry[name]))


@pytest.mark.parametrize("name", ["musicnn-msd", "vgg-mtt"])
def test_models002_batch_size_does_not_change_results(essentia_standard, registry, name):
    patches = reference_patches(5)
    whole = ModelRunner(registry[name], batch_size=16).predict(patches)
    for batch_size in (1, 2):
        assert_layers_close(
            ModelRunner(registry[name], batch_size=batch_size).predict(patches), whole
        )


def test_models003_no_patches_gives_empty_layers(registry):
    outputs = ModelRunner(registry["vgg-msd"]).predict(np.zeros((0, 187, 96), np.float32))
    assert outputs["taggram"].shape == (0, 50)
    assert outputs["embedding"].shape == (0, 256)
    assert outputs["embedding"].dtype == np.float32


def test_models004_wrong_patch_shape_is_refused(registry):
    with pytest.raises(ModelError, match=r"patches of shape \(n, 187, 96\), got \(2, 96, 187\)"):
        ModelRunner(registry["vgg-msd"]).predict(np.zeros((2, 96, 187), np.float32))
    with pytest.raises(ValueError, match="batch_size"):
        ModelRunner(registry["vgg-msd"], batch_size=0)


def test_models005_unloadable_graph_gives_model_error(essentia_standard, registry, tmp_path):
    broken = tmp_path / "broken.pb"
    broken.write_bytes(b"not a graph")
    runner = ModelRunner(dataclasses.replace(registry["vgg-mtt"], graph_path=broken))
    with pytest.raises(ModelError, match=r"cannot load model vgg-mtt from .*broken\.pb"):
        runner.predict(reference_patches(1))
    runner = ModelRunner(dataclasses.replace(registry["vgg-mtt"], input_node="no/such/node"))
    with pytest.raises(ModelError, match="'no/such/node' is not a valid node name") as caught:
        runner.predict(reference_patches(1))
    assert len(str(caught.value)) < 400


def test_models006_essentia_musicnn_wrapper_runs_our_graph(essentia_standard, registry):
    # Essentia's own streaming wrapper (mel front end + patching + TensorflowPredict) must accept
    # the shipped graph, and agree with ModelRunner fed the same front end: frames of 512 with
    # hop 256 (FrameGenerator's default centred first frame), patches of 187 frames, hop 93.
    seconds = np.arange(8 * 16000) / 16000
    audio = np.sin(2 * np.pi * 440 * seconds) * (0.5 + 0.4 * np.sin(2 * np.pi * 1.5 * seconds))
    audio = (audio + 0.05 * np.random.default_rng(0).standard_normal(seconds.size)).astype(
        np.float32
    )
    spec = registry["musicnn-msd"]
    wrapper = essentia_standard.TensorflowPredictMusiCNN(
        graphFilename=str(spec.graph_path), output="model/Sigmoid"
    )
    taggram = wrapper(audio)
    assert taggram.shape == (4, 50)

    mel = essentia_standard.TensorflowInputMusiCNN()
    frames = np.array(
        [
            mel(frame)
            for frame in essentia_standard.FrameGenerator(audio, frameSize=512, hopSize=256)
        ]
    )
    starts = range(0, len(frames) - 187 + 1, 93)
    patches = np.stack([frames[start : start + 187] for start in starts]).astype(np.float32)
    outputs = ModelRunner(spec).predict(patches)
    np.testing.assert_allclose(outputs["taggram"], taggram, rtol=0, atol=TAGGRAM_ATOL)


def test_models007_compare_dirs_reports_differences(tmp_path):
    generated, shipped = tmp_path / "generated", tmp_path / "shipped"
    generated.mkdir()
    shipped.mkdir()
    for name, content in [("same.pb", b"a"), ("changed.pb", b"b"), ("missing.json", b"c")]:
        (generated / name).write_bytes(content)
    (shipped / "same.pb").write_bytes(b"a")
    (shipped / "changed.pb").write_bytes(b"B")
    problems = convert.compare_dirs(sorted(generated.iterdir()), shipped)
    assert problems == [
        f"{shipped / 'changed.pb'} differs from the regenerated file",
        f"{shipped / 'missing.json'} is missing",
    ]


@pytest.mark.parametrize("target", convert.TARGETS, ids=lambda target: target.name)
def test_models008_shipped_json_is_canonical(target):
    json_path = DEFAULT_MODELS_DIR / f"{target.name}.json"
    text = json_path.read_text(encoding="utf-8")
    record = json.loads(text)
    graph_sha256 = hashlib.sha256((DEFAULT_MODELS_DIR / record["graph"]).read_bytes()).hexdigest()
    rebuilt = convert.model_metadata(
        target, graph_sha256, record["labels"], record["licence"], convert.WHEEL_SHA256
    )
    assert convert.metadata_json(rebuilt) == text


def test_models009_labels_and_licence_come_from_the_wheel(unpacked_wheel, registry):
    configuration = unpacked_wheel / "musicnn" / "configuration.py"
    for target in convert.TARGETS:
        labels = convert.read_labels(configuration, target.labels_variable)
        assert tuple(labels) == registry[target.name].labels
    record = json.loads((DEFAULT_MODELS_DIR / "vgg-msd.json").read_text(encoding="utf-8"))
    assert record["licence"] == convert.read_licence(unpacked_wheel)


@pytest.mark.parametrize("target", convert.TARGETS, ids=lambda target: target.name)
def test_models010_frozen_graph_matches_checkpoint(tensorflow, unpacked_wheel, target):
    # Both sides run in TensorFlow here: the shipped graph against the restored training graph,
    # and the stored reference against the same checkpoint run.
    patches = reference_patches()
    nodes = {"taggram": convert.TAGGRAM_NODE, "embedding": target.embedding_node}
    checkpoint = convert.run_checkpoint(
        unpacked_wheel / target.checkpoint_dir, patches, list(nodes.values())
    )
    frozen = convert.run_frozen_graph(
        (DEFAULT_MODELS_DIR / f"{target.name}.pb").read_bytes(), patches, list(nodes.values())
    )
    reference = np.load(REFERENCE_PATH)
    checkpoint_layers = {layer: checkpoint[node] for layer, node in nodes.items()}
    assert_layers_close({layer: frozen[node] for layer, node in nodes.items()}, checkpoint_layers)
    assert_layers_close(
        {layer: reference[reference_key(target.name, layer)] for layer in nodes}, checkpoint_layers
    )


def test_models011_convert_check_is_byte_exact(tensorflow, musicnn_wheel):
    result = subprocess.run(
        [sys.executable, "-m", "tools.convert", "--check", "--wheel", str(musicnn_wheel)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "match a fresh conversion byte for byte" in result.stdout
