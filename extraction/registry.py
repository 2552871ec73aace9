"""Registry of the auto-tagging networks: one JSON record beside each frozen ``.pb`` graph.

The four musicnn models ship in ``extraction/models``; a user may add or replace models by
dropping a compatible ``<name>.pb`` + ``<name>.json`` pair into a directory of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extraction.contract import (
    DEFAULT_MODELS_DIR,
    LAYERS,
    ContractError,
    model_records,
    read_model_record,
    record_labels,
)
from extraction.errors import ModelError

# The layers every model must expose; ModelRunner fetches both in one session run.

DEFAULT_MODEL_NAMES = ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt")

# One mel front end feeds every model, so a model trained on another one cannot be used.
FRONT_END = {"sample_rate": 16000, "frame_size": 512, "hop_size": 256}

_REQUIRED_FIELDS = (
    "name",
    "architecture",
    "dataset",
    "graph",
    "sha256",
    "input",
    "layers",
    "labels",
)


@dataclass(frozen=True)
class LayerSpec:
    """One output layer of a model.

    Attributes
    ----------
    node : str
        Graph node whose first output is the layer.
    dims : int
        Width of the layer: one row of ``dims`` values per patch.
    """

    node: str
    dims: int


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to run one frozen model and label its outputs.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"musicnn-msd"``.
    architecture : str
        ``"musicnn"`` or ``"vgg"`` for the shipped models.
    dataset : str
        Training set of the tags, ``"msd"`` or ``"mtt"`` for the shipped models.
    graph_path : Path
        The frozen ``.pb`` graph.
    sha256 : str
        sha256 of ``graph_path``, checked when the registry is loaded.
    input_node : str
        Placeholder fed with patches of shape (n_patches, patch_frames, mel_bands).
    patch_frames : int
        Mel frames per patch (187, three seconds at 16 kHz with hop 256).
    mel_bands : int
        Mel bands per frame (96).
    layers : dict of str to LayerSpec
        At least the keys of :data:`LAYERS`.
    labels : tuple of str
        Tag names, one per column of the taggram.
    """

    name: str
    architecture: str
    dataset: str
    graph_path: Path
    sha256: str
    input_node: str
    patch_frames: int
    mel_bands: int
    layers: dict[str, LayerSpec]
    labels: tuple[str, ...]


def _field(record: Mapping[str, Any], key: str, kind: type, source: Path) -> Any:
    """A field of a metadata record, checked for presence and type."""
    if key not in record:
        raise ModelError(f"{source}: missing field {key!r}")
    value = record[key]
    # bool is an int subclass; a dims of `true` is a mistake, not 1.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelError(
            f"{source}: field {key!r} should be {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _positive_int(record: Mapping[str, Any], key: str, source: Path) -> int:
    """An int field that must be at least 1."""
    value = _field(record, key, int, source)
    if value < 1:
        raise ModelError(f"{source}: field {key!r} must be positive, got {value}")
    return value


def _sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_model_record(record: Mapping[str, Any], source: Path) -> ModelSpec:
    """Validate one metadata record and turn it into a :class:`ModelSpec`.

    Parameters
    ----------
    record : mapping
        The parsed JSON object (:func:`extraction.contract.read_model_record`).
    source : Path
        The JSON file it came from; the graph file is looked up beside it and errors name it.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelError
        On a missing or mistyped field, a missing layer, labels that do not match the taggram
        width, an incompatible front end, a missing graph file or a graph whose sha256 differs.
    """
    for key in _REQUIRED_FIELDS:
        if key not in record:
            raise ModelError(f"{source}: missing field {key!r}")
    name = _field(record, "name", str, source)
    if name != source.stem:
        raise ModelError(f"{source}: name {name!r} should match the file name {source.stem!r}")

    model_input = _field(record, "input", Mapping, source)
    input_node = _field(model_input, "node", str, source)
    patch_frames = _positive_int(model_input, "frames", source)
    mel_bands = _positive_int(model_input, "bands", source)

    layer_records = _field(record, "layers", Mapping, source)
    layers = {}
    for layer, layer_record in layer_records.items():
        if not isinstance(layer_record, Mapping):
            raise ModelError(f"{source}: layer {layer!r} should be an object with node and dims")
        layers[layer] = LayerSpec(
            node=_field(layer_record, "node", str, source),
            dims=_positive_int(layer_record, "dims", source),
        )
    missing_layers = [layer for layer in LAYERS if layer not in layers]
    if missing_layers:
        raise ModelError(f"{source}: missing layers {missing_layers} (needs {list(LAYERS)})")

    try:
        labels = record_labels(record, source)
    except ContractError as error:
        raise ModelError(str(error)) from error
    if len(labels) != layers["taggram"].dims:
        raise ModelError(
            f"{source}: {len(labels)} labels but the taggram has {layers['taggram'].dims} dims"
        )

    for key, expected in FRONT_END.items():
        if key in record and record[key] != expected:
            raise ModelError(
                f"{source}: {key} is {record[key]}, but the shared mel front end uses {expected}"
            )

    graph_path = source.parent / _field(record, "graph", str, source)
    if not graph_path.is_file():
        raise ModelError(f"{source}: graph file {graph_path} not found")
    sha256 = _field(record, "sha256", str, source).lower()
    actual = _sha256_file(graph_path)
    if actual != sha256:
        raise ModelError(
            f"{graph_path} has sha256 {actual} but {source.name} expects {sha256}: "
            "the graph is corrupt or does not belong to this metadata"
        )

    return ModelSpec(
        name=name,
        architecture=_field(record, "architecture", str, source),
        dataset=_field(record, "dataset", str, source),
        graph_path=graph_path,
        sha256=sha256,
        input_node=input_node,
        patch_frames=patch_frames,
        mel_bands=mel_bands,
        layers=layers,
        labels=labels,
    )


def load_model_spec(json_path: Path) -> ModelSpec:
    """Read and validate one model's JSON record.

    Parameters
    ----------
    json_path : Path
        ``<name>.json``, with its graph beside it.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelError
        If the file cannot be read or parsed, or the record is invalid.
    """
    try:
        record = read_model_record(json_path)
    except ContractError as error:
        raise ModelError(str(error)) from error
    return parse_model_record(record, json_path)


def load_registry(extra_dirs: Sequence[Path] = ()) -> dict[str, ModelSpec]:
    """Load the shipped models, then those of each extra directory.

    Parameters
    ----------
    extra_dirs : sequence of Path
        User model directories, each holding ``<name>.pb`` + ``<name>.json`` pairs. A later
        directory's model replaces an earlier one (or a shipped one) of the same name.

    Returns
    -------
    dict of str to ModelSpec
        By model name.

    Raises
    ------
    ModelError
        If a directory is missing or any record in it is invalid.
    """
    registry: dict[str, ModelSpec] = {}
    for models_dir in (DEFAULT_MODELS_DIR, *map(Path, extra_dirs)):
        if not models_dir.is_dir():
            raise ModelError(f"models directory not found: {models_dir}")
        for json_path in model_records(models_dir):
            spec = load_model_spec(json_path)
            registry[spec.name] = spec
    return registry


def resolve_models(
    names: Sequence[str] | None, registry: Mapping[str, ModelSpec]
) -> list[ModelSpec]:
    """Pick models by name.

    Parameters
    ----------
    names : sequence of str or None
        Model names in the order wanted (repeats are dropped); None for the four shipped models
        in the order of :data:`DEFAULT_MODEL_NAMES`.
    registry : mapping of str to ModelSpec
        From :func:`load_registry`.

    Returns
    -------
    list of ModelSpec

    Raises
    ------
    ModelError
        If a name is not in the registry (the message lists the available ones) or no name is
        given.
    """
    wanted = list(DEFAULT_MODEL_NAMES if names is None else dict.fromkeys(names))
    if not wanted:
        raise ModelError("no model selected")
    unknown = [name for name in wanted if name not in registry]
    if unknown:
        raise ModelError(
            f"unknown model(s) {', '.join(unknown)}; available: {', '.join(sorted(registry))}"
        )
    return [registry[name] for name in wanted]
