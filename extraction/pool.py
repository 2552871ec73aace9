"""The worker pool: every requested network in worker processes, one patch batch per task.

Essentia holds the GIL for a whole ``TensorflowPredict`` call, so processes (not threads) are
what spread inference over the cores, and a batch (not a track) as the unit keeps every core
busy even on one long file. Each worker builds its runners with :mod:`extraction.backends`
(the runners' interface is :mod:`extraction.inference`'s), and ends when its parent does.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from extraction.backends import make_runner, resolve_backend
from extraction.errors import ModelError
from extraction.inference import Layers, PatchRunner, limit_tensorflow_threads, usable_cores
from extraction.registry import ModelSpec
from extraction.signals import die_with_parent

Tag = TypeVar("Tag")

_worker_runners: list[PatchRunner] = []


def _exit_with_parent(parent: int, poll_seconds: float = 1.0) -> None:
    """End this worker when process ``parent``, which started it, is gone (SIGKILLed, crashed).

    An orphaned worker would otherwise keep a core busy on batches nobody will collect.
    ``parent`` is passed in rather than read here: a parent killed while the worker was still
    importing has already handed it to init, and ``os.getppid()`` would watch the wrong process.
    """

    # Killed by the kernel when the parent dies: immediate, even while TensorFlow holds the GIL.
    # (The parent spawns workers from its main thread, which lives as long as it.)
    die_with_parent()

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
