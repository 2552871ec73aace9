"""Run frozen auto-tagging networks on log-mel patches.

``PatchRunner`` is what every inference backend provides (see :mod:`extraction.backends`):
``predict(patches) -> {layer: values}``, one model, both layers per call, in batches.
``ModelRunner`` is the Essentia backend: the graph in Essentia's TensorflowPredict.
``InferencePool`` runs every requested network in worker processes, one patch batch per task:
Essentia holds the GIL for a whole ``TensorflowPredict`` call, so processes (not threads) are what
spread inference over the cores, and a batch (not a track) as the unit keeps every core busy even
on one long file.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

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


# -- worker processes ---------------------------------------------------------------------------
_worker_runners: list[PatchRunner] = []


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _exit_with_parent(parent: int, poll_seconds: float = 1.0) -> None:
    """End this worker when process ``parent``, which started it, is gone (SIGKILLed, crashed).

    An orphaned worker would otherwise keep a core busy on batches nobody will collect.
    ``parent`` is passed in rather than read here: a parent killed while the worker was still
    importing has already handed it to init, and ``os.getppid()`` would watch the wrong process.
    """

    if sys.platform.startswith("linux"):
        # The kernel sends SIGKILL when the parent dies: immediate, even while TensorFlow holds
        # the GIL. (The parent spawns workers from its main thread, which lives as long as it.)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init_worker(
    parent: int,
    specs: Sequence[ModelSpec],
    intra_op_threads: int,
    batch_size: int | None,
    backend: str = "essentia",
    cache_dir: Path | None = None,
) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and shuts the pool down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)
    limit_tensorflow_threads(intra_op_threads)
    from extraction.backends import make_runner

    _worker_runners[:] = [
        make_runner(backend, spec, batch_size, threads=intra_op_threads, cache_dir=cache_dir)
        for spec in specs
    ]


def _predict_in_worker(patches: np.ndarray) -> dict[str, Layers]:
    return {runner.spec.name: runner.predict(patches) for runner in _worker_runners}


class InferencePool(Generic[Tag]):
    """Every requested model on patch batches, in worker processes, results in submission order.

    ``submit`` queues a batch with a caller's tag and returns the results that finished meanwhile;
    at most ``max_pending`` batches are in flight, so ``submit`` blocks (returning finished work)
    rather than let a fast decoder queue a whole library in memory. ``drain`` returns the rest.

    Parameters
    ----------
    specs : sequence of ModelSpec
        Models to run on every batch.
    workers : int
        Worker processes (spawned: TensorFlow's thread pools do not survive a fork).
    intra_op_threads : int, optional
        Inference threads per worker (TensorFlow's or OpenVINO's); default: the usable cores
        divided among the workers.
    batch_size : int, optional
        Patches per network run inside a worker; default: the backend's own
        (:func:`extraction.backends.make_runner`).
    max_pending : int, optional
        Batches in flight; default twice the workers, so a worker never waits for the decoder.
    backend : str, optional
        ``"auto"`` (default), ``"essentia"`` or ``"openvino"``: see
        :func:`extraction.backends.resolve_backend` (resolved here, in this process).
    cache_dir : Path, optional
        Where OpenVINO keeps compiled models; None for no cache.
    """

    def __init__(
        self,
        specs: Sequence[ModelSpec],
        workers: int,
        *,
        intra_op_threads: int | None = None,
        batch_size: int | None = None,
        max_pending: int | None = None,
        backend: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        from extraction.backends import resolve_backend

        if workers < 1:
            raise ValueError(f"workers must be positive, got {workers}")
        backend = resolve_backend(backend)
        threads = intra_op_threads or max(1, usable_cores() // workers)
        self._executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(), list(specs), threads, batch_size, backend, cache_dir),
        )
        self._max_pending = max_pending or 2 * workers
        self._pending: deque[tuple[Tag, Future]] = deque()

    def _collect_first(self) -> tuple[Tag, dict[str, Layers] | Exception]:
        tag, future = self._pending.popleft()
        try:
            return tag, future.result()
        except ModelError as error:
            return tag, error

    def submit(
        self, tag: Tag, patches: np.ndarray
    ) -> Iterator[tuple[Tag, dict[str, Layers] | Exception]]:
        """Queue one batch; yield ``(tag, {model: {layer: values}})`` of finished batches.

        A batch a model failed on yields ``(tag, ModelError)``. A worker that died (killed,
        out of memory) raises ``concurrent.futures.process.BrokenProcessPool``.
        """
        self._pending.append((tag, self._executor.submit(_predict_in_worker, patches)))
        while self._pending and (
            len(self._pending) >= self._max_pending or self._pending[0][1].done()
        ):
            yield self._collect_first()

    def drain(self) -> Iterator[tuple[Tag, dict[str, Layers] | Exception]]:
        """Yield the results of every batch still in flight, in submission order."""
        while self._pending:
            yield self._collect_first()

    def close(self, abandon: bool = False) -> None:
        """Stop the workers (batches still in flight are abandoned).

        ``abandon`` (an interrupted run) also stops the batches workers already hold, instead of
        waiting for them: on a busy machine those can take minutes, and Ctrl-C must not.
        """
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        if abandon:
            # ProcessPoolExecutor has no public way to stop running work before Python 3.14.
            for process in list(getattr(self._executor, "_processes", {}).values()):
                process.terminate()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> InferencePool[Tag]:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(abandon=exc_type is not None)
