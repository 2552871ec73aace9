"""Freeze the four musicnn auto-tagging checkpoints into graphs Essentia can load.

A maintainer's tool, not installed with the package: run it from a checkout,
``python -m tools.convert``, with a Python that has ``tensorflow-cpu`` (the ``convert`` extra); the
rest of the project only reads the files this writes to ``extraction/models``. Output is
byte-for-byte reproducible, so ``--check`` can prove the shipped graphs come from the published
wheel.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from extraction.errors import ModelError

MUSICNN_VERSION = "0.1.0"
WHEEL_NAME = f"musicnn-{MUSICNN_VERSION}-py3-none-any.whl"
# sha256 of the wheel as published on PyPI; a different file is refused.
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
CONVERTER = "python -m tools.convert"

INPUT_NODE = "model/Placeholder"
TAGGRAM_NODE = "model/Sigmoid"
# `is_training` of musicnn's batch-norm and dropout layers; frozen to inference mode.
TRAINING_SWITCH_NODE = "model/Placeholder_2"
# Filename tensor of the checkpoint's own saver (its saver_def), used to restore the unfrozen graph.
SAVER_FILENAME_TENSOR = "save/Const:0"
SAVER_RESTORE_OP = "save/restore_all"

PATCH_FRAMES = 187
MEL_BANDS = 96
SAMPLE_RATE = 16000
FRAME_SIZE = 512
HOP_SIZE = 256
N_TAGS = 50

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "extraction" / "models"


@dataclass(frozen=True)
class ConversionTarget:
    """One checkpoint of the wheel and the model file it becomes."""

    name: str
    architecture: str
    dataset: str
    checkpoint_dir: str
    labels_variable: str
    embedding_node: str
    embedding_dims: int


# The embedding nodes are the ones Essentia's own musicnn/vgg model cards name: the 200-unit
# penultimate dense layer (before its batch norm) and the flattened last pooling of the VGG.
TARGETS: tuple[ConversionTarget, ...] = tuple(
    ConversionTarget(
        name=f"{architecture}-{dataset}",
        architecture=architecture,
        dataset=dataset,
        checkpoint_dir=f"musicnn/{dataset.upper()}_{architecture}",
        labels_variable=f"{dataset.upper()}_LABELS",
        embedding_node=embedding_node,
        embedding_dims=embedding_dims,
    )
    for architecture, embedding_node, embedding_dims in (
        ("musicnn", "model/dense/BiasAdd", 200),
        ("vgg", "model/Flatten/flatten/Reshape", 256),
    )
    for dataset in ("msd", "mtt")
)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes.

    Parameters
    ----------
    path : Path
        File to hash.

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(dest: Path) -> Path:
    """Download the musicnn wheel (without its dependencies) with pip.

    Parameters
    ----------
    dest : Path
        Directory to download into.

    Returns
    -------
    Path
        The downloaded wheel.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        f"musicnn=={MUSICNN_VERSION}",
        "--no-deps",
        "--only-binary=:all:",
        "--dest",
        str(dest),
        "--quiet",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheel = dest / WHEEL_NAME
    if result.returncode != 0 or not wheel.is_file():
        raise ModelError(
            f"could not download {WHEEL_NAME} with pip ({result.stderr.strip()}); "
            "download it yourself and pass --wheel PATH"
        )
    return wheel


def verify_wheel(wheel: Path) -> str:
    """Check that a file is the published musicnn wheel.

    Parameters
    ----------
    wheel : Path
        Candidate wheel.

    Returns
    -------
    str
        Its sha256.

    Raises
    ------
    ModelError
        If the file is missing or its sha256 differs from :data:`WHEEL_SHA256`.
    """
    if not wheel.is_file():
        raise ModelError(f"musicnn wheel not found: {wheel}")
    digest = sha256_file(wheel)
    if digest != WHEEL_SHA256:
        raise ModelError(
            f"{wheel} has sha256 {digest}, expected {WHEEL_SHA256} ({WHEEL_NAME} from PyPI)"
        )
    return digest


def unpack_wheel(wheel: Path, dest: Path) -> Path:
    """Unzip a wheel.

    Parameters
    ----------
    wheel : Path
        The wheel file.
    dest : Path
        Directory to unpack into.

    Returns
    -------
    Path
        ``dest``, now holding ``musicnn/`` and ``musicnn-<version>.dist-info/``.
    """
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(dest)
    return dest


def read_labels(configuration_py: Path, variable: str) -> list[str]:
    """Read a list of tag names from musicnn's ``configuration.py`` without executing it.

    Parameters
    ----------
    configuration_py : Path
        The wheel's ``musicnn/configuration.py``.
    variable : str
        ``"MTT_LABELS"`` or ``"MSD_LABELS"``.

    Returns
    -------
    list of str
        The labels, in the order of the network's outputs.
    """
    tree = ast.parse(configuration_py.read_text(encoding="utf-8"))
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id == variable
        ):
            labels = ast.literal_eval(statement.value)
            if len(labels) != N_TAGS:
                raise ModelError(f"{variable} has {len(labels)} labels, expected {N_TAGS}")
            return [str(label) for label in labels]
    raise ModelError(f"{variable} not found in {configuration_py}")


def read_licence(unpacked: Path) -> str:
    """Read the licence notice shipped in the wheel's dist-info.

    Parameters
    ----------
    unpacked : Path
        Directory the wheel was unpacked into.

    Returns
    -------
    str
        The notice, paragraphs separated by blank lines, without trailing whitespace.
    """
    licence = unpacked / f"musicnn-{MUSICNN_VERSION}.dist-info" / "LICENSE.md"
    return licence.read_text(encoding="utf-8").strip()


def checkpoint_prefix(checkpoint_dir: Path) -> str:
    """The checkpoint prefix of a musicnn model directory.

    musicnn's files are named ``.index``, ``.meta``, ``.data-00000-of-00001``: the prefix is the
    directory itself followed by a slash.

    Parameters
    ----------
    checkpoint_dir : Path
        For example ``<unpacked>/musicnn/MSD_musicnn``.

    Returns
    -------
    str
        ``"<checkpoint_dir>/"``.
    """
    return f"{checkpoint_dir}/"


def load_training_graph(checkpoint_dir: Path) -> Any:
    """Read the graph of a checkpoint's ``.meta`` with the attributes TF 2 rejects removed.

    ``import_meta_graph`` fails on these TF 1.1x graphs because some gradient nodes carry
    ``_output_shapes`` that no longer agree with TF 2's shape functions; the attribute is only a
    hint, so it is dropped.

    Parameters
    ----------
    checkpoint_dir : Path
        A musicnn model directory.

    Returns
    -------
    tensorflow.compat.v1.GraphDef
        The whole training graph, variables still as ``VariableV2`` nodes.
    """
    from tensorflow.core.protobuf import meta_graph_pb2

    meta_graph = meta_graph_pb2.MetaGraphDef()
    meta_graph.ParseFromString((checkpoint_dir / ".meta").read_bytes())
    graph_def = meta_graph.graph_def
    for node in graph_def.node:
        if "_output_shapes" in node.attr:
            del node.attr["_output_shapes"]
        node.device = ""
    return graph_def


def const_node(name: str, value: np.ndarray) -> Any:
    """A ``Const`` node holding an array.

    Parameters
    ----------
    name : str
        Node name.
    value : np.ndarray
        The constant (its dtype becomes the node's dtype).

    Returns
    -------
    tensorflow.compat.v1.NodeDef
    """
    import tensorflow as tf

    node = tf.compat.v1.NodeDef(name=name, op="Const")
    tensor = tf.make_tensor_proto(value)
    node.attr["dtype"].type = tensor.dtype
    node.attr["value"].tensor.CopyFrom(tensor)
    return node


def input_node_name(input_name: str) -> str:
    """The node an input reference points at (``"^a"``, ``"a:1"`` and ``"a"`` all name ``a``).

    Parameters
    ----------
    input_name : str
        An entry of ``NodeDef.input``.

    Returns
    -------
    str
        The node name.
    """
    return input_name.lstrip("^").split(":", 1)[0]


def prune_to_outputs(graph_def: Any, output_nodes: Sequence[str]) -> Any:
    """Keep only the nodes the outputs depend on, in their original order.

    Parameters
    ----------
    graph_def : tensorflow.compat.v1.GraphDef
        The graph.
    output_nodes : sequence of str
        Nodes to keep, with everything they depend on (data and control inputs).

    Returns
    -------
    tensorflow.compat.v1.GraphDef
        A new graph with the same ``versions``.
    """
    nodes = {node.name: node for node in graph_def.node}
    missing = [name for name in output_nodes if name not in nodes]
    if missing:
        raise ModelError(f"output nodes not in the graph: {missing}")
    needed: set[str] = set()
    pending = list(output_nodes)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(input_node_name(source) for source in nodes[name].input)
    pruned = type(graph_def)()
    pruned.versions.CopyFrom(graph_def.versions)
    pruned.node.extend(node for node in graph_def.node if node.name in needed)
    return pruned


def freeze_checkpoint(checkpoint_dir: Path, output_nodes: Sequence[str]) -> Any:
    """Freeze a musicnn checkpoint into an inference-only graph.

    Every variable becomes a constant read from the checkpoint, the training switch becomes the
    constant ``False``, and everything the outputs do not need (optimizer, gradients, saver,
    label placeholder) is cut away.

    Parameters
    ----------
    checkpoint_dir : Path
        A musicnn model directory.
    output_nodes : sequence of str
        Nodes to keep, with everything they depend on.

    Returns
    -------
    tensorflow.compat.v1.GraphDef
        A graph whose only placeholder is :data:`INPUT_NODE`.
    """
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(checkpoint_prefix(checkpoint_dir))
    training_graph = load_training_graph(checkpoint_dir)
    frozen = tf.compat.v1.GraphDef()
    frozen.versions.CopyFrom(training_graph.versions)
    for node in training_graph.node:
        if node.op in ("VariableV2", "Variable"):
            frozen.node.append(const_node(node.name, reader.get_tensor(node.name)))
        elif node.name == TRAINING_SWITCH_NODE:
            frozen.node.append(const_node(node.name, np.array(False)))
        else:
            frozen.node.append(node)
    pruned = prune_to_outputs(frozen, output_nodes)
    placeholders = sorted(node.name for node in pruned.node if node.op == "Placeholder")
    if placeholders != [INPUT_NODE]:
        raise ModelError(f"{checkpoint_dir}: frozen graph has placeholders {placeholders}")
    return pruned


def serialize_graph(graph_def: Any) -> bytes:
    """Serialize a graph deterministically (map fields such as ``attr`` in key order).

    Parameters
    ----------
    graph_def : tensorflow.compat.v1.GraphDef
        The graph; its node order is kept (``extract_sub_graph`` keeps the original order).

    Returns
    -------
    bytes
        The ``.pb`` file content.
    """
    return graph_def.SerializeToString(deterministic=True)


def run_frozen_graph(
    graph_bytes: bytes, patches: np.ndarray, output_nodes: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run a frozen graph with TensorFlow.

    Parameters
    ----------
    graph_bytes : bytes
        Content of a ``.pb`` written by :func:`serialize_graph`.
    patches : np.ndarray, shape (n_patches, 187, 96), float32
        Log-mel patches.
    output_nodes : sequence of str
        Nodes to fetch.

    Returns
    -------
    dict of str to np.ndarray
        Node name to its output, shape (n_patches, dims), float32.
    """
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph_bytes)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        values = session.run(
            [f"{node}:0" for node in output_nodes], feed_dict={f"{INPUT_NODE}:0": patches}
        )
    return dict(zip(output_nodes, values, strict=True))


def run_checkpoint(
    checkpoint_dir: Path, patches: np.ndarray, output_nodes: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run the unfrozen training graph, restored by the checkpoint's own saver.

    Independent of :func:`freeze_checkpoint` (no constant folding of variables, the training
    switch fed rather than replaced), so comparing the two checks the conversion.

    Parameters
    ----------
    checkpoint_dir : Path
        A musicnn model directory.
    patches : np.ndarray, shape (n_patches, 187, 96), float32
        Log-mel patches.
    output_nodes : sequence of str
        Nodes to fetch.

    Returns
    -------
    dict of str to np.ndarray
        Node name to its output, shape (n_patches, dims), float32.
    """
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(load_training_graph(checkpoint_dir), name="")
    with tf.compat.v1.Session(graph=graph) as session:
        session.run(
            SAVER_RESTORE_OP,
            feed_dict={SAVER_FILENAME_TENSOR: checkpoint_prefix(checkpoint_dir)},
        )
        values = session.run(
            [f"{node}:0" for node in output_nodes],
            feed_dict={f"{INPUT_NODE}:0": patches, f"{TRAINING_SWITCH_NODE}:0": False},
        )
    return dict(zip(output_nodes, values, strict=True))


def output_dims(graph_bytes: bytes, output_nodes: Sequence[str]) -> dict[str, int]:
    """Width of each output of a frozen graph, measured on one silent patch.

    Parameters
    ----------
    graph_bytes : bytes
        Content of a frozen ``.pb``.
    output_nodes : sequence of str
        Nodes to measure.

    Returns
    -------
    dict of str to int
        Node name to its output width.
    """
    silence = np.zeros((1, PATCH_FRAMES, MEL_BANDS), dtype=np.float32)
    outputs = run_frozen_graph(graph_bytes, silence, output_nodes)
    return {node: int(value.reshape(1, -1).shape[1]) for node, value in outputs.items()}


def model_metadata(
    target: ConversionTarget,
    graph_sha256: str,
    labels: Sequence[str],
    licence: str,
    wheel_sha256: str,
) -> dict[str, Any]:
    """The metadata record of one converted model (the ``.json`` beside its ``.pb``).

    Parameters
    ----------
    target : ConversionTarget
        Which model.
    graph_sha256 : str
        sha256 of the ``.pb``.
    labels : sequence of str
        Tag names, in output order.
    licence : str
        The upstream licence notice, which ISC requires to travel with the weights.
    wheel_sha256 : str
        sha256 of the source wheel.

    Returns
    -------
    dict
        JSON-ready record.
    """
    return {
        "name": target.name,
        "architecture": target.architecture,
        "dataset": target.dataset,
        "graph": f"{target.name}.pb",
        "sha256": graph_sha256,
        "input": {"node": INPUT_NODE, "frames": PATCH_FRAMES, "bands": MEL_BANDS},
        "layers": {
            "taggram": {"node": TAGGRAM_NODE, "dims": N_TAGS},
            "embedding": {"node": target.embedding_node, "dims": target.embedding_dims},
        },
        "labels": list(labels),
        "sample_rate": SAMPLE_RATE,
        "frame_size": FRAME_SIZE,
        "hop_size": HOP_SIZE,
        "provenance": {
            "wheel": WHEEL_NAME,
            "version": MUSICNN_VERSION,
            "wheel_sha256": wheel_sha256,
            "checkpoint": target.checkpoint_dir,
            "converter": CONVERTER,
        },
        "licence": licence,
    }


def metadata_json(metadata: dict[str, Any]) -> str:
    """Serialize a metadata record reproducibly.

    Parameters
    ----------
    metadata : dict
        Record from :func:`model_metadata`.

    Returns
    -------
    str
        Sorted keys, two-space indent, trailing newline.
    """
    return json.dumps(metadata, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def convert_wheel(wheel: Path, out_dir: Path) -> list[Path]:
    """Freeze every model of the musicnn wheel into ``out_dir``.

    Parameters
    ----------
    wheel : Path
        The verified musicnn wheel.
    out_dir : Path
        Destination, created if needed.

    Returns
    -------
    list of Path
        The files written, ``<name>.pb`` and ``<name>.json`` per model.
    """
    wheel_sha256 = verify_wheel(wheel)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="musicnn-") as scratch:
        unpacked = unpack_wheel(wheel, Path(scratch))
        licence = read_licence(unpacked)
        for target in TARGETS:
            checkpoint_dir = unpacked / target.checkpoint_dir
            outputs = (TAGGRAM_NODE, target.embedding_node)
            graph_bytes = serialize_graph(freeze_checkpoint(checkpoint_dir, outputs))
            expected = {TAGGRAM_NODE: N_TAGS, target.embedding_node: target.embedding_dims}
            measured = output_dims(graph_bytes, outputs)
            if measured != expected:
                raise ModelError(f"{target.name}: output widths {measured}, expected {expected}")
            labels = read_labels(unpacked / "musicnn" / "configuration.py", target.labels_variable)
            graph_path = out_dir / f"{target.name}.pb"
            graph_path.write_bytes(graph_bytes)
            metadata = model_metadata(
                target, hashlib.sha256(graph_bytes).hexdigest(), labels, licence, wheel_sha256
            )
            json_path = out_dir / f"{target.name}.json"
            json_path.write_text(metadata_json(metadata), encoding="utf-8")
            written += [graph_path, json_path]
    return written


def compare_dirs(generated: Sequence[Path], shipped_dir: Path) -> list[str]:
    """Compare freshly generated files with those of the same names in a directory.

    Parameters
    ----------
    generated : sequence of Path
        Files written by :func:`convert_wheel`.
    shipped_dir : Path
        Directory holding the shipped copies.

    Returns
    -------
    list of str
        One message per missing or differing file; empty when all match byte for byte.
    """
    problems = []
    for path in generated:
        shipped = shipped_dir / path.name
        if not shipped.is_file():
            problems.append(f"{shipped} is missing")
        elif shipped.read_bytes() != path.read_bytes():
            problems.append(f"{shipped} differs from the regenerated file")
    return problems


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    argparse.Namespace
        ``wheel`` (Path or None), ``out`` (Path), ``check`` (bool).
    """
    parser = argparse.ArgumentParser(
        prog="python -m tools.convert",
        description="Freeze the musicnn checkpoints into TensorFlow graphs for Essentia.",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        default=None,
        help=f"{WHEEL_NAME} (default: download it with pip)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="directory to write <name>.pb and <name>.json (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and compare bytes with the files in --out",
    )
    return parser.parse_args(argv)


def run(wheel: Path | None, out: Path, check: bool) -> int:
    """Convert (or check) the models.

    Parameters
    ----------
    wheel : Path or None
        The musicnn wheel; downloaded with pip when None.
    out : Path
        Output directory (or, with ``check``, the directory to compare with).
    check : bool
        Compare instead of writing.

    Returns
    -------
    int
        Process exit status: 0 on success, 1 when ``check`` finds a difference.
    """
    with tempfile.TemporaryDirectory(prefix="explore-dash-convert-") as scratch:
        scratch_dir = Path(scratch)
        if wheel is None:
            wheel = download_wheel(scratch_dir / "download")
        if not check:
            for path in convert_wheel(wheel, out):
                print(f"wrote {path}")
            return 0
        generated = convert_wheel(wheel, scratch_dir / "generated")
        problems = compare_dirs(generated, out)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(
            f"{out} does not match a fresh conversion of {WHEEL_NAME}; "
            f"rerun `python -m tools.convert --out {out}`",
            file=sys.stderr,
        )
        return 1
    print(f"{len(generated)} files in {out} match a fresh conversion byte for byte")
    return 0


def main() -> None:
    """Command-line entry point."""
    # Keep TensorFlow's CUDA/oneDNN start-up chatter out of the converter's output.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parse_args()
    try:
        status = run(args.wheel, args.out, args.check)
    except ModelError as error:
        print(f"error: {error}", file=sys.stderr)
        status = 2
    sys.exit(status)


if __name__ == "__main__":
    main()
