"""Write tests/data/model_reference.npz: outputs of the musicnn CHECKPOINTS on fixed patches.

Run with a Python that has TensorFlow, from the repository root::

    python -m tests.support.make_model_reference [--wheel musicnn-0.1.0-py3-none-any.whl]

The reference comes from the training graph restored by its own saver, not from the shipped
frozen graphs, so comparing the shipped graphs with it (under Essentia) checks the conversion.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REFERENCE_PATH = Path(__file__).resolve().parents[1] / "data" / "model_reference.npz"
DEFAULT_WHEEL = Path("/tmp/musicnn/musicnn-0.1.0-py3-none-any.whl")


def reference_patches(n_patches: int = 3) -> np.ndarray:
    """Deterministic stand-ins for log-mel patches.

    Parameters
    ----------
    n_patches : int
        How many patches.

    Returns
    -------
    np.ndarray, shape (n_patches, 187, 96), float32
        Uniform in [0, 4], the range of ``log10(1 + 10000 * mel)`` on music.
    """
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 4.0, size=(n_patches, 187, 96)).astype(np.float32)


def reference_key(model_name: str, layer: str) -> str:
    """Array name in the reference file, e.g. ``"musicnn-msd.taggram"``."""
    return f"{model_name}.{layer}"


def checkpoint_reference(wheel: Path) -> dict[str, np.ndarray]:
    """Run every checkpoint of the wheel on :func:`reference_patches`.

    Parameters
    ----------
    wheel : Path
        The verified musicnn wheel.

    Returns
    -------
    dict of str to np.ndarray
        :func:`reference_key` to output, shape (n_patches, dims), float32.
    """
    from extraction import convert

    convert.verify_wheel(wheel)
    patches = reference_patches()
    arrays = {}
    with tempfile.TemporaryDirectory(prefix="musicnn-") as scratch:
        unpacked = convert.unpack_wheel(wheel, Path(scratch))
        for target in convert.TARGETS:
            nodes = {"taggram": convert.TAGGRAM_NODE, "embedding": target.embedding_node}
            outputs = convert.run_checkpoint(
                unpacked / target.checkpoint_dir, patches, list(nodes.values())
            )
            for layer, node in nodes.items():
                arrays[reference_key(target.name, layer)] = outputs[node].astype(np.float32)
    return arrays


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, default=DEFAULT_WHEEL)
    args = parser.parse_args(argv)
    np.savez_compressed(REFERENCE_PATH, **checkpoint_reference(args.wheel))
    print(f"wrote {REFERENCE_PATH}")


if __name__ == "__main__":
    main()
