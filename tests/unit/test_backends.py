"""Inference backends: OpenVINO gives Essentia's outputs, ``auto`` picks by GPU, runs mix freely.

Tolerance: 1e-4 absolute per element between the backends (measured: at most 1.5e-6 on the
taggram, 2e-5 on embeddings, which reach about 20). OpenVINO left in its default bfloat16 on a
CPU that has it moved embeddings by 0.15, far outside.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from extraction import backends
from extraction.backends import (
    OpenVinoRunner,
    essentia_sees_cuda_gpu,
    make_runner,
    openvino_cache_dir,
    resolve_backend,
)
from extraction.contract import LAYERS, STATE_FILE
from extraction.errors import ModelError
from extraction.features import iter_patches
from extraction.inference import ModelRunner
from extraction.pipeline import run_extraction
from extraction.registry import DEFAULT_MODEL_NAMES, load_registry, resolve_models
from extraction.store import DataStore
from tests.support.make_model_reference import reference_patches
from tests.support.model_reference import assert_layers_close, assert_matches_checkpoint_reference
from tests.support.paths import REPO
from tests.support.synth import write_audio

if not backends.openvino_available():
    pytest.skip("openvino is not installed", allow_module_level=True)

ATOL = 1e-4
# Plus a relative part: the two engines sum in other orders, and float32 sums of embedding
# values near 25 differ by about 1e-4 on some processors (1.1e-4 seen on an AMD EPYC, 8.6e-6
# relative), where the taggrams near 0-1 agree to 1e-6.
RTOL = 1e-5
BATCH = 16
N_RANDOM = 20  # a full batch of 16, then a partial one of 4


@pytest.fixture(scope="module")
def essentia():
    pytest.importorskip("essentia", reason="essentia-tensorflow is not installed")


@pytest.fixture(scope="module")
def random_patches():
    rng = np.random.default_rng(20260)
    return rng.uniform(0.0, 4.0, size=(N_RANDOM, 187, 96)).astype(np.float32)


@pytest.fixture(scope="module")
def audio_patches(tmp_path_factory):
    """Patches of real decoded audio, by the pipeline's own decoder and mel front end."""
    folder = tmp_path_factory.mktemp("audio")
    parts = []
    for name, signal, seconds in [("chirp.flac", "chirp", 10.0), ("tone.mp3", "tone", 4.0)]:
        path = write_audio(folder / name, seconds, signal=signal)
        parts.extend(iter_patches(path, batch_patches=BATCH))
    patches = np.concatenate(parts)
    assert len(patches) == 4  # three of the chirp, one of the tone
    return patches


def assert_backends_equal(openvino: dict, essentia: dict, spec) -> None:
    for layer in LAYERS:
        assert openvino[layer].dtype == np.float32
        assert openvino[layer].shape == essentia[layer].shape
        assert openvino[layer].shape[1] == spec.layers[layer].dims
        np.testing.assert_allclose(openvino[layer], essentia[layer], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", DEFAULT_MODEL_NAMES)
def test_backends001_openvino_equals_essentia_on_random_patches(
    essentia, registry, random_patches, name
):
    spec = registry[name]
    expected = ModelRunner(spec, batch_size=BATCH).predict(random_patches)
    actual = OpenVinoRunner(spec, batch_size=BATCH, threads=1).predict(random_patches)
    assert expected["taggram"].shape == (N_RANDOM, 50)
    assert_backends_equal(actual, expected, spec)


@pytest.mark.parametrize("name", DEFAULT_MODEL_NAMES)
def test_backends002_openvino_equals_essentia_on_decoded_audio(
    essentia, registry, audio_patches, name
):
    spec = registry[name]
    expected = ModelRunner(spec).predict(audio_patches)
    actual = OpenVinoRunner(spec, threads=1).predict(audio_patches)
    assert_backends_equal(actual, expected, spec)


@pytest.mark.parametrize("name", DEFAULT_MODEL_NAMES)
def test_backends003_openvino_matches_checkpoint_reference(registry, name):
    # The same stored checkpoint outputs and tolerances as test_models.py's Essentia check.
    assert_matches_checkpoint_reference(OpenVinoRunner(registry[name]))


def test_backends004_openvino_runner_batches_and_refuses_as_essentias(registry, tmp_path):
    spec = registry["vgg-mtt"]
    patches = reference_patches(5)
    whole = OpenVinoRunner(spec, batch_size=16).predict(patches)
    for batch_size in (1, 2):
        assert_layers_close(OpenVinoRunner(spec, batch_size=batch_size).predict(patches), whole)

    empty = OpenVinoRunner(spec).predict(np.zeros((0, 187, 96), np.float32))
    assert {layer: values.shape for layer, values in empty.items()} == {
        "taggram": (0, 50),
        "embedding": (0, 256),
    }
    with pytest.raises(ModelError, match=r"patches of shape \(n, 187, 96\), got \(2, 96, 187\)"):
        OpenVinoRunner(spec).predict(np.zeros((2, 96, 187), np.float32))
    with pytest.raises(ValueError, match="batch_size"):
        OpenVinoRunner(spec, batch_size=0)
    with pytest.raises(ValueError, match="threads"):
        OpenVinoRunner(spec, threads=0)

    broken = tmp_path / "broken.pb"
    broken.write_bytes(b"not a graph")
    with pytest.raises(ModelError, match=r"OpenVINO cannot load model vgg-mtt from .*broken\.pb"):
        OpenVinoRunner(dataclasses.replace(spec, graph_path=broken)).predict(patches[:1])
    with pytest.raises(ModelError, match="no/such/node"):
        OpenVinoRunner(dataclasses.replace(spec, input_node="no/such/node")).predict(patches[:1])
    layers = {**spec.layers, "embedding": dataclasses.replace(spec.layers["embedding"], node="x")}
    with pytest.raises(ModelError, match="has no node 'x' for its embedding"):
        OpenVinoRunner(dataclasses.replace(spec, layers=layers)).predict(patches[:1])
    layers = {**spec.layers, "embedding": dataclasses.replace(spec.layers["embedding"], dims=7)}
    with pytest.raises(ModelError, match="gives 256 embedding values per patch; .* says 7"):
        OpenVinoRunner(dataclasses.replace(spec, layers=layers)).predict(patches[:1])


def test_backends005_openvino_caches_compiled_models(registry, tmp_path):
    cache = openvino_cache_dir(tmp_path / "data")
    assert cache == tmp_path / "data" / "cache" / "openvino"
    runner = make_runner("openvino", registry["vgg-msd"], threads=1, cache_dir=cache)
    assert isinstance(runner, OpenVinoRunner)
    first = runner.predict(reference_patches(2))
    assert list(cache.glob("*.blob"))
    again = make_runner("openvino", registry["vgg-msd"], threads=1, cache_dir=cache)
    second = again.predict(reference_patches(2))
    np.testing.assert_array_equal(second["embedding"], first["embedding"])


def test_backends006_an_unusable_cache_is_skipped_with_a_warning(registry, tmp_path, caplog):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file")
    runner = OpenVinoRunner(registry["vgg-mtt"], threads=1, cache_dir=not_a_folder)
    with caplog.at_level("WARNING", logger="extraction.backends"):
        outputs = runner.predict(reference_patches(1))
    assert outputs["taggram"].shape == (1, 50)
    assert "model cache" in caplog.text and str(not_a_folder) in caplog.text


def compile_with_cache(cache_dir: str) -> str:
    """In a worker process: compile vgg-mtt through ``cache_dir``; what went wrong, if anything."""
    import logging

    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("extraction.backends").addHandler(handler)
    runner = OpenVinoRunner(load_registry()["vgg-mtt"], threads=1, cache_dir=Path(cache_dir))
    runner.predict(reference_patches(1))
    return "; ".join(messages) or "ok"


def test_backends007_workers_share_a_cold_cache(tmp_path):
    # Unlocked, processes compiling the same model at once broke each other's blob writes
    # ("cannot set permissions: No such file or directory") in about one round of three.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        for round_ in range(3):
            cache = str(tmp_path / f"cache{round_}")
            assert list(pool.map(compile_with_cache, [cache] * 3)) == ["ok"] * 3
            assert len(list(Path(cache).glob("*.blob"))) == 1


def test_backends008_auto_picks_openvino_without_a_gpu():
    if backends._can_load("libcuda.so.1"):
        pytest.skip("this machine has the NVIDIA driver")
    assert not essentia_sees_cuda_gpu()
    assert resolve_backend("auto") == resolve_backend() == "openvino"
    assert resolve_backend("essentia") == "essentia"
    assert resolve_backend("openvino") == "openvino"
    with pytest.raises(ValueError, match="unknown backend 'tensorflow'"):
        resolve_backend("tensorflow")


def test_backends009_the_gpu_rule(monkeypatch):
    loadable = set(backends.TENSORFLOW_GPU_LIBRARIES)
    monkeypatch.setattr(backends, "_can_load", lambda library: library in loadable)
    monkeypatch.setattr(backends.sys, "platform", "linux")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert essentia_sees_cuda_gpu()
    assert resolve_backend("auto") == "essentia"
    assert resolve_backend("openvino") == "openvino"
    for hidden in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert resolve_backend("auto") == "openvino"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert resolve_backend("auto") == "essentia"
    loadable.discard("libcudnn.so.8")  # TensorFlow 2.5 skips the GPU without cuDNN 8
    assert resolve_backend("auto") == "openvino"
    loadable.add("libcudnn.so.8")
    monkeypatch.setattr(backends.sys, "platform", "darwin")
    assert resolve_backend("auto") == "openvino"
    monkeypatch.setattr(backends.sys, "platform", "linux")
    monkeypatch.setattr(backends, "openvino_available", lambda: False)
    loadable.clear()
    assert resolve_backend("auto") == "essentia"  # without openvino there is only essentia


def test_backends011_openvino_starts_no_usage_telemetry(tmp_path):
    # `import openvino` imports its model converter, which writes a telemetry client id under
    # ~/intel; the backend keeps it out.
    import subprocess
    import sys

    code = (
        "import numpy as np, sys\n"
        "from extraction.backends import OpenVinoRunner\n"
        "from extraction.registry import load_registry\n"
        "OpenVinoRunner(load_registry()['vgg-mtt']).predict(np.zeros((1, 187, 96), np.float32))\n"
        "print(sorted(m for m in sys.modules if 'telemetry' in m or m.endswith('.ovc')))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert not (tmp_path / "intel").exists()


def _run(library: Path, data: Path, specs, **options):
    store = DataStore(data)
    store.prepare()
    with store.exclusive():
        return run_extraction(library, store, specs, **options)


def _tables(data: Path) -> dict:
    store = DataStore(data)
    return {space: store.read_segments(*space) for space in store.segment_spaces()}


def test_backends010_extraction_runs_agree_and_a_backend_change_redoes_nothing(
    essentia, registry, tmp_path
):
    library = tmp_path / "lib"
    write_audio(library / "a" / "chirp.flac", 7.0, signal="chirp")
    write_audio(library / "b" / "tone.mp3", 3.5, signal="tone")
    specs = resolve_models(["vgg-mtt", "musicnn-msd"], registry)
    by_essentia, by_openvino = tmp_path / "essentia", tmp_path / "openvino"

    first = _run(library, by_essentia, specs, backend="essentia")
    # Two workers: the OpenVINO runners live in InferencePool's worker processes.
    second = _run(library, by_openvino, specs, backend="openvino", workers=2)
    assert first.ok == second.ok == 2 and not first.failed and not second.failed

    expected, actual = _tables(by_essentia), _tables(by_openvino)
    assert set(actual) == set(expected) == {(s.name, layer) for s in specs for layer in LAYERS}
    for space, block in actual.items():
        np.testing.assert_array_equal(block.track, expected[space].track)
        np.testing.assert_array_equal(block.offset, expected[space].offset)
        np.testing.assert_allclose(block.vector, expected[space].vector, rtol=RTOL, atol=ATOL)
    assert list(openvino_cache_dir(by_openvino).glob("*.blob"))
    assert not openvino_cache_dir(by_essentia).exists()

    def state(data: Path) -> dict:
        return json.loads((data / STATE_FILE).read_text(encoding="utf-8"))

    assert state(by_essentia)["backend"] == "essentia"
    assert state(by_openvino)["backend"] == "openvino"

    version = state(by_openvino)["version"]
    again = _run(library, by_openvino, specs, backend="essentia")
    assert (again.ok, again.unchanged, again.segments) == (0, 2, 0)
    assert state(by_openvino)["version"] == version
    for space, block in _tables(by_openvino).items():
        np.testing.assert_array_equal(block.vector, actual[space].vector)
