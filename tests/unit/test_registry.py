"""Model registry: the shipped records, user model directories, and clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from explore_dash.data.tags import load_model_labels
from extraction.contract import ContractError, model_records, read_model_record, record_labels
from extraction.errors import ModelError
from extraction.registry import (
    DEFAULT_MODEL_NAMES,
    DEFAULT_MODELS_DIR,
    LAYERS,
    load_model_spec,
    load_registry,
    resolve_models,
)

EMBEDDING_DIMS = {"musicnn-msd": 200, "musicnn-mtt": 200, "vgg-msd": 256, "vgg-mtt": 256}


def read_record(name: str) -> dict:
    return json.loads((DEFAULT_MODELS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def write_model(models_dir: Path, record: dict, graph_from: str = "vgg-mtt") -> Path:
    """Copy a shipped graph as ``<record name>.pb`` and write the record beside it."""
    models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_MODELS_DIR / f"{graph_from}.pb", models_dir / f"{record['name']}.pb")
    record = {**record, "graph": f"{record['name']}.pb"}
    json_path = models_dir / f"{record['name']}.json"
    json_path.write_text(json.dumps(record), encoding="utf-8")
    return json_path


def test_registry001_loads_four_shipped_models():
    registry = load_registry()
    assert set(registry) == set(DEFAULT_MODEL_NAMES)
    for name, spec in registry.items():
        assert spec.graph_path.is_file()
        assert spec.graph_path.parent == DEFAULT_MODELS_DIR
        assert (spec.input_node, spec.patch_frames, spec.mel_bands) == (
            "model/Placeholder",
            187,
            96,
        )
        assert set(LAYERS) <= set(spec.layers)
        assert spec.layers["taggram"].node == "model/Sigmoid"
        assert spec.layers["taggram"].dims == 50 == len(spec.labels)
        assert spec.layers["embedding"].dims == EMBEDDING_DIMS[name]
        assert (spec.architecture, spec.dataset) == tuple(name.split("-"))


def test_registry002_labels_follow_the_training_set():
    registry = load_registry()
    assert registry["musicnn-msd"].labels == registry["vgg-msd"].labels
    assert registry["musicnn-mtt"].labels == registry["vgg-mtt"].labels
    assert registry["musicnn-msd"].labels[:3] == ("rock", "pop", "alternative")
    assert registry["musicnn-mtt"].labels[:3] == ("guitar", "classical", "slow")
    assert len(set(registry["musicnn-msd"].labels)) == 50


def test_registry003_shipped_records_carry_licence_and_provenance():
    for name in DEFAULT_MODEL_NAMES:
        record = read_record(name)
        assert "Jordi Pons" in record["licence"]
        assert "Permission to use, copy, modify, and/or distribute" in record["licence"]
        assert record["provenance"]["wheel"] == "musicnn-0.1.0-py3-none-any.whl"
        assert (record["sample_rate"], record["frame_size"], record["hop_size"]) == (
            16000,
            512,
            256,
        )


def test_registry004_resolve_default_order_and_selection():
    registry = load_registry()
    names = [spec.name for spec in resolve_models(None, registry)]
    assert names == ["musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt"]
    picked = resolve_models(["vgg-mtt", "musicnn-msd", "vgg-mtt"], registry)
    assert [spec.name for spec in picked] == ["vgg-mtt", "musicnn-msd"]


def test_registry005_unknown_name_lists_available_models():
    with pytest.raises(ModelError, match=r"unknown model\(s\) nope.*available: musicnn-msd"):
        resolve_models(["nope"], load_registry())


def test_registry006_user_dir_adds_a_model(tmp_path):
    record = {**read_record("vgg-mtt"), "name": "my-vgg", "labels": [f"tag{i}" for i in range(50)]}
    write_model(tmp_path, record)
    registry = load_registry([tmp_path])
    assert set(registry) == {*DEFAULT_MODEL_NAMES, "my-vgg"}
    assert registry["my-vgg"].graph_path == tmp_path / "my-vgg.pb"
    assert registry["my-vgg"].labels[0] == "tag0"
    assert [spec.name for spec in resolve_models(None, registry)] == list(DEFAULT_MODEL_NAMES)


def test_registry007_later_dirs_override_same_name(tmp_path):
    first = {**read_record("vgg-mtt"), "labels": ["first"] * 50}
    second = {**read_record("vgg-mtt"), "labels": ["second"] * 50}
    write_model(tmp_path / "a", first)
    write_model(tmp_path / "b", second)
    assert load_registry([tmp_path / "a"])["vgg-mtt"].labels[0] == "first"
    spec = load_registry([tmp_path / "a", tmp_path / "b"])["vgg-mtt"]
    assert spec.labels[0] == "second"
    assert spec.graph_path == tmp_path / "b" / "vgg-mtt.pb"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("layers"), "missing field 'layers'"),
        (lambda r: r["layers"].pop("embedding"), r"missing layers \['embedding'\]"),
        (lambda r: r["layers"]["embedding"].update(dims="256"), "'dims' should be int"),
        (lambda r: r["layers"]["embedding"].update(dims=0), "'dims' must be positive"),
        (lambda r: r["input"].pop("node"), "missing field 'node'"),
        (lambda r: r.update(labels=r["labels"][:49]), "49 labels but the taggram has 50 dims"),
        (lambda r: r.update(sha256="0" * 64), "has sha256 .* expects 0000"),
        (lambda r: r.update(hop_size=512), "hop_size is 512, but the shared mel front end"),
        (lambda r: r.update(name="other"), "name 'other' should match the file name"),
    ],
)
def test_registry008_invalid_record_is_refused(tmp_path, change, message):
    record = read_record("vgg-mtt")
    json_path = write_model(tmp_path, record)
    change(record)
    json_path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ModelError, match=message):
        load_model_spec(json_path)
    with pytest.raises(ModelError, match=str(json_path.name)):
        load_registry([tmp_path])


def test_registry009_missing_graph_is_refused(tmp_path):
    json_path = write_model(tmp_path, read_record("vgg-mtt"))
    (tmp_path / "vgg-mtt.pb").unlink()
    with pytest.raises(ModelError, match=r"graph file .*vgg-mtt\.pb not found"):
        load_registry([tmp_path])
    assert json_path.is_file()


def test_registry010_bad_json_is_refused(tmp_path):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"broken\.json is not valid JSON"):
        load_registry([tmp_path])
    (tmp_path / "broken.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="expected a JSON object"):
        load_registry([tmp_path])


def test_registry011_missing_models_dir_is_refused(tmp_path):
    with pytest.raises(ModelError, match="models directory not found"):
        load_registry([tmp_path / "absent"])


@pytest.mark.parametrize(
    ("labels", "message"),
    [(None, "missing field 'labels'"), ("rock", "'labels' should be list, got str"),
     (["rock", 1], "labels should all be strings")],  # fmt: skip
)
def test_registry012_labels_are_checked_by_the_one_reader(tmp_path, labels, message):
    record = read_record("vgg-mtt")
    json_path = write_model(tmp_path, record)
    if labels is None:
        del record["labels"]
    else:
        record["labels"] = labels
    json_path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ContractError, match=message):
        record_labels(read_model_record(json_path), json_path)
    with pytest.raises(ModelError, match=message):  # the registry says the same
        load_model_spec(json_path)
    assert load_model_labels(tmp_path) == {}  # the app leaves the model out


def test_registry013_the_app_reads_the_labels_the_registry_checked():
    registry = load_registry()
    assert load_model_labels() == {name: list(spec.labels) for name, spec in registry.items()}
    assert [path.stem for path in model_records(DEFAULT_MODELS_DIR)] == sorted(registry)
