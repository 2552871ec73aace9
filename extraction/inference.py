"""Run frozen auto-tagging networks on log-mel patches.

``PatchRunner`` is what every inference backend provides (see :mod:`extraction.backends`):
``predict(patches) -> {layer: values}``, one model, both layers per call, in batches.
``ModelRunner`` is the Essentia backend: the graph in Essentia's TensorflowPredict. The worker
processes that run them are :mod:`extraction.pool`'s.
"""

from __future__ import annotations

import logging
import os
from typing import Any, TypeVar

import numpy as np

from extraction.contract import LAYERS
from extraction.errors import ModelError
from extraction.essentia_env import import_essentia_standard
from extraction.registry import ModelSpec

log = logging.getLogger(__name__)

Tag = TypeVar("Tag")
Layers = dict[str, np.ndarray]
"""``{layer: array of shape (n_patches, dims)}`` of one model."""

# On 2 CPU cores the time per patch hardly depends on the batch size (1 to 64 measured:
# MusiCNN ≈ 55-65 ms, VGG ≈ 25-30 ms per patch); 16 keeps memory small with no loss.
DEFAULT_BATCH_SIZE = 16


class PatchRunner:
    """Taggram and embedding of patches with one model: the interface of every backend.

    A subclass implements :meth:`_predict_batch`; this class checks the patches and cuts them into
    batches of ``batch_size``.

    Parameters
    ----------
    spec : ModelSpec
        The model to run.
    batch_size : int, optional
        Patches per network run. Results do not depend on it beyond float rounding.
    """

    #: Name of the backend, as ``--backend`` spells it.
    backend = ""

    def __init__(self, spec: ModelSpec, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.spec = spec
        self.batch_size = batch_size

    def _predict_batch(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Run one batch, shape (n, frames, bands) with 1 <= n <= batch_size.

        Returns ``{layer: float32 array (n, dims)}`` for every layer of :data:`LAYERS`.
        """
        raise NotImplementedError

    def predict(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        """Taggram and embedding of each patch.

        Parameters
        ----------
        patches : np.ndarray, shape (n_patches, patch_frames, mel_bands), float32
            Log-compressed mel patches (as made by Essentia's TensorflowInputMusiCNN).

        Returns
        -------
        dict of str to np.ndarray
            ``"taggram"``: shape (n_patches, n_labels), float32, tag probabilities in [0, 1];
            ``"embedding"``: shape (n_patches, embedding dims), float32.

        Raises
        ------
        ModelError
            If the patches do not have the model's shape or the model cannot run.
        """
        patches = np.asarray(patches, dtype=np.float32)
        expected = (self.spec.patch_frames, self.spec.mel_bands)
        if patches.ndim != 3 or patches.shape[1:] != expected:
            raise ModelError(
                f"model {self.spec.name} takes patches of shape (n, {expected[0]}, "
                f"{expected[1]}), got {patches.shape}"
            )
        if len(patches) == 0:
            return {
                layer: np.empty((0, self.spec.layers[layer].dims), dtype=np.float32)
                for layer in LAYERS
            }
        batches = [
            self._predict_batch(patches[start : start + self.batch_size])
            for start in range(0, len(patches), self.batch_size)
        ]
        return {layer: np.concatenate([batch[layer] for batch in batches]) for layer in LAYERS}


class ModelRunner(PatchRunner):
    """The Essentia backend: one model in Essentia's TensorflowPredict (libtensorflow 2.5).

    The Essentia algorithm (and the TensorFlow session inside it) is built on first use and
    reused: one session run per batch fetches both layers. Its thread count comes from the
    environment (:func:`limit_tensorflow_threads`).

    Parameters
    ----------
    spec : ModelSpec
        The model to run.
    batch_size : int, optional
        Patches per session run. Results do not depend on it beyond float rounding.
    """

    backend = "essentia"

    def __init__(self, spec: ModelSpec, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        super().__init__(spec, batch_size)
        self._predict: Any = None

    def _algorithm(self) -> Any:
        """The configured TensorflowPredict, built on first call."""
        if self._predict is None:
            essentia_standard = import_essentia_standard()
            outputs = [self.spec.layers[layer].node for layer in LAYERS]
            try:
                self._predict = essentia_standard.TensorflowPredict(
                    graphFilename=str(self.spec.graph_path),
                    inputs=[self.spec.input_node],
                    outputs=outputs,
                    squeeze=True,
                )
            except RuntimeError as error:
                # Essentia's message goes on with every node name of the graph: keep its gist.
                gist = str(error).strip().splitlines()[0]
                raise ModelError(
                    f"Essentia cannot load model {self.spec.name} from {self.spec.graph_path}: "
                    f"{gist}"
                ) from error
        return self._predict

    def _predict_batch(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        predict = self._algorithm()
        # Only after _algorithm(): importing essentia before import_essentia_standard() would let
        # TensorFlow print its start-up chatter.
        from essentia import Pool

        # Essentia pools hold 4-D tensors only: the batch goes in as (n, 1, frames, bands) and
        # squeeze=True drops the singleton channel before feeding the 3-D placeholder. Each
        # output comes back 4-D too, as (n, 1, 1, dims).
        pool = Pool()
        pool.set(self.spec.input_node, np.ascontiguousarray(batch[:, np.newaxis]))
        try:
            out = predict(pool)
        except RuntimeError as error:
            raise ModelError(f"model {self.spec.name} failed on a batch: {error}") from error
        result = {}
        for layer in LAYERS:
            values = np.asarray(out[self.spec.layers[layer].node], dtype=np.float32)
            result[layer] = values.reshape(len(batch), self.spec.layers[layer].dims)
        return result


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def limit_tensorflow_threads(intra_op: int) -> None:
    """Size the thread pools of TensorFlow sessions created from now on in this process.

    Essentia's ``TensorflowPredict`` has no thread parameter, but the TensorFlow it carries (2.5)
    reads ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` when a session is created
    (checked: the thread count of the process follows them). Values already in the environment
    win, so a user can still override them. ``TF_FORCE_GPU_ALLOW_GROWTH`` lets several worker
    processes share one GPU instead of the first one reserving all its memory.
    """
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(intra_op))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
