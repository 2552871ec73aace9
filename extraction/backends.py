"""Inference backends: which library runs the frozen graphs, and how it is picked.

Every backend is a :class:`~extraction.inference.PatchRunner`: ``predict(patches)`` gives
``{"taggram": (n, labels), "embedding": (n, dims)}`` as float32, both layers from one network
run per batch of ``batch_size`` patches, and raises ``ModelError`` on patches of the wrong shape
or a model that cannot run.

- ``essentia``: Essentia's ``TensorflowPredict`` with the libtensorflow 2.5 inside
  essentia-tensorflow (:class:`~extraction.inference.ModelRunner`). The only one that can use a
  CUDA GPU.
- ``openvino``: the same ``.pb`` graph read by OpenVINO's TensorFlow front end and compiled for
  the CPU in float32 (:class:`OpenVinoRunner`). About 2.7x faster per core than the
  libtensorflow 2.5 kernels, with outputs equal to Essentia's within float rounding (measured at
  most 1.5e-6 on the taggram and 2e-5 on embeddings, whose values reach about 20).
- ``auto``: ``essentia`` when that can use a GPU, else ``openvino`` (:func:`resolve_backend`).

Outputs do not depend on the backend beyond float rounding, so the data folder does not record
one per table: a run with another backend extends the same tables and redoes no track.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from extraction.contract import CACHE_DIR, LAYERS
from extraction.errors import ModelError
from extraction.inference import DEFAULT_BATCH_SIZE, ModelRunner, PatchRunner, usable_cores
from extraction.registry import ModelSpec

log = logging.getLogger(__name__)

AUTO = "auto"
ESSENTIA = "essentia"
OPENVINO = "openvino"
#: What ``--backend`` accepts.
BACKEND_CHOICES = (AUTO, OPENVINO, ESSENTIA)

#: The shared libraries the TensorFlow 2.5 inside essentia-tensorflow opens before it registers a
#: GPU (its dso_loader: the CUDA driver, then CUDA 11 runtime, cuBLAS, cuFFT, cuRAND, cuSOLVER,
#: cuSPARSE and cuDNN 8). With any of them missing it runs on the CPU only.
TENSORFLOW_GPU_LIBRARIES = (
    "libcuda.so.1",
    "libcudart.so.11.0",
    "libcublas.so.11",
    "libcufft.so.10",
    "libcurand.so.10",
    "libcusolver.so.11",
    "libcusparse.so.11",
    "libcudnn.so.8",
)

#: Subfolder of the data folder's ``cache/`` holding OpenVINO's compiled models.
OPENVINO_CACHE_SUBDIR = "openvino"

# OpenVINO's time per patch does not depend on the batch (1 to 16 measured, 1 and 2 threads:
# MusiCNN 15.6-16.5 ms, VGG 9.0-9.5 ms per patch on one thread), but its memory does: the four
# models hold 131 MB compiled for batches of 1, 250 MB for 4, 732 MB for 16 (and 1.24 GB with a
# dynamic batch dimension, which also gives up static buffer reuse). 4 keeps a worker no larger
# than an Essentia one, and the padding of a track's last batch costs at most 3 patches.
OPENVINO_BATCH_SIZE = 4


def _can_load(library: str) -> bool:
    """Whether the dynamic linker finds and loads ``library``; it is unloaded again."""
    try:
        handle = ctypes.CDLL(library)
    except OSError:
        return False
    with contextlib.suppress(Exception):
        import _ctypes

        _ctypes.dlclose(handle._handle)  # type: ignore[attr-defined]
    return True


def essentia_sees_cuda_gpu() -> bool:
    """Whether the TensorFlow inside Essentia would run on a CUDA GPU here.

    The rule: Linux, ``CUDA_VISIBLE_DEVICES`` not set to hide every device (``""`` or ``-1``),
    and every library of :data:`TENSORFLOW_GPU_LIBRARIES` loadable by the dynamic linker with
    the process's library path, as TensorFlow 2.5 loads them. The driver library comes first: on
    a machine without the NVIDIA driver the check costs one failed ``dlopen``. Libraries are
    unloaded after the check, and CUDA itself is never initialised (no ``cuInit``), so this is
    safe before forking or spawning workers; the price is that a machine with the driver and the
    CUDA 11 libraries but no working GPU counts as having one (Essentia then runs on its CPU,
    slower but with the same outputs).
    """
    if not sys.platform.startswith("linux"):
        return False  # essentia-tensorflow's CUDA builds are Linux-only
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return all(_can_load(library) for library in TENSORFLOW_GPU_LIBRARIES)


def openvino_available() -> bool:
    """Whether the ``openvino`` package is installed (it is not imported)."""
    return importlib.util.find_spec("openvino") is not None


def resolve_backend(name: str = AUTO) -> str:
    """The backend a run uses for ``--backend name``.

    ``auto`` picks ``essentia`` when :func:`essentia_sees_cuda_gpu` (a GPU is what Essentia's
    TensorFlow has over OpenVINO's CPU plugin), and otherwise ``openvino``, unless that package
    is missing.

    Parameters
    ----------
    name : {"auto", "openvino", "essentia"}

    Returns
    -------
    str
        ``"openvino"`` or ``"essentia"``.

    Raises
    ------
    ValueError
        On another name.
    """
    if name not in BACKEND_CHOICES:
        raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKEND_CHOICES)}")
    if name != AUTO:
        return name
    if essentia_sees_cuda_gpu() or not openvino_available():
        return ESSENTIA
    return OPENVINO


def openvino_cache_dir(data_dir: Path) -> Path:
    """Where OpenVINO keeps the compiled models of a data folder: ``cache/openvino``."""
    return Path(data_dir) / CACHE_DIR / OPENVINO_CACHE_SUBDIR


def _import_openvino() -> Any:
    """``import openvino``, without the model converter it imports by default.

    That converter (``openvino.tools.ovc``, behind ``openvino.convert_model``) starts Intel's
    usage telemetry when imported: a client id and counters written under ``~/intel``, events
    sent by each conversion. Nothing here converts models, so it is kept out of the import; a
    later explicit ``import openvino.tools.ovc`` still works.
    """
    if "openvino" in sys.modules:
        import openvino

        return openvino
    converter = "openvino.tools.ovc"
    blocked = converter not in sys.modules
    if blocked:
        sys.modules[converter] = None  # type: ignore[assignment]  # openvino skips what fails
    try:
        import openvino
    finally:
        if blocked and sys.modules.get(converter, ...) is None:
            del sys.modules[converter]
    return openvino


@functools.cache
def _openvino_core() -> Any:
    """This process's ``openvino.Core`` (one per process: it holds the CPU plugin)."""
    return _import_openvino().Core()


def _tensor_name(node: str) -> str:
    """A TensorFlow node name as the tensor name OpenVINO knows: ``"a/b"`` -> ``"a/b:0"``."""
    return node if ":" in node else f"{node}:0"


@contextlib.contextmanager
def _cache_lock(cache_dir: Path) -> Iterator[None]:
    """Hold ``cache_dir/.lock`` exclusively (blocking) while OpenVINO reads or writes the cache.

    Worker processes compiling the same model at once race on its blob: one removes or replaces
    the file another is still writing, and the loser's compile fails. Under the lock the first
    compiles and writes, the others then load its blob. The kernel drops the lock of a killed
    process. Without ``fcntl`` (Windows) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(cache_dir / ".lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _gist(error: BaseException) -> str:
    """The last line of OpenVINO's message (the lines before it name its own source files)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class OpenVinoRunner(PatchRunner):
    """The OpenVINO backend: one frozen graph compiled for the CPU by OpenVINO.

    The graph is read by OpenVINO's TensorFlow front end (``Core.read_model``, which, unlike
    ``openvino.convert_model``, sends no usage telemetry) on first use and compiled for batches
    of exactly ``batch_size`` patches: a static shape lets OpenVINO plan its buffers, where a
    dynamic batch dimension took twice the memory at the same speed. A shorter batch is padded
    with zeros and the padding's outputs dropped (patches do not affect each other). The
    embedding node is not a graph output, so it is added as one: a batch gives both layers in
    one inference.

    Float32 is requested explicitly: on CPUs with bfloat16 support (AVX512-BF16, AMX) OpenVINO
    otherwise runs in bfloat16, which moved embeddings by up to 0.15 in our measurement. Threads
    are not pinned to cores, so worker processes that each compile their own models share the
    cores as the OS schedules them.

    Parameters
    ----------
    spec : ModelSpec
        The model to run.
    batch_size : int, optional
        Patches per inference (default :data:`OPENVINO_BATCH_SIZE`).
    threads : int, optional
        OpenVINO's inference threads (``INFERENCE_NUM_THREADS``); default: the usable cores.
    cache_dir : Path, optional
        OpenVINO's ``CACHE_DIR``: compiled models are kept there, so a second start skips
        compilation; processes sharing it take turns (:func:`_cache_lock`). None for no cache;
        a cache that cannot be used (unwritable, say) is skipped with a warning.
    """

    backend = OPENVINO

    def __init__(
        self,
        spec: ModelSpec,
        batch_size: int = OPENVINO_BATCH_SIZE,
        *,
        threads: int | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__(spec, batch_size)
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be positive, got {threads}")
        self.threads = threads or usable_cores()
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._compiled: Any = None
        self._request: Any = None
        self._ports: dict[str, Any] = {}
        self._padded: np.ndarray | None = None  # input buffer for a short batch

    def _config(self) -> dict[str, Any]:
        return {
            "INFERENCE_NUM_THREADS": self.threads,
            "INFERENCE_PRECISION_HINT": "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
            "ENABLE_CPU_PINNING": False,
        }

    def _compile_cached(self, model: Any) -> Any:
        """``model`` compiled through the cache folder; None when the cache is unusable."""
        assert self.cache_dir is not None
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with _cache_lock(self.cache_dir):
                return _openvino_core().compile_model(
                    model, "CPU", {**self._config(), "CACHE_DIR": str(self.cache_dir)}
                )
        except (OSError, RuntimeError) as error:
            log.warning("OpenVINO model cache in %s not used: %s", self.cache_dir, _gist(error))
            return None

    def _read_model(self) -> tuple[Any, dict[str, str]]:
        """The graph with both layers as outputs, and each layer's output tensor name."""
        openvino = _import_openvino()
        spec = self.spec
        try:
            model = _openvino_core().read_model(str(spec.graph_path))
        except RuntimeError as error:
            raise ModelError(
                f"OpenVINO cannot load model {spec.name} from {spec.graph_path}: {_gist(error)}"
            ) from error
        shape = openvino.PartialShape([self.batch_size, spec.patch_frames, spec.mel_bands])
        try:
            model.reshape({_tensor_name(spec.input_node): shape})
        except RuntimeError as error:
            raise ModelError(
                f"OpenVINO cannot feed model {spec.name} through {spec.input_node!r}: "
                f"{_gist(error)}"
            ) from error

        ops = {op.get_friendly_name(): op for op in model.get_ops()}
        output_names = {name for output in model.outputs for name in output.get_names()}
        names = {}
        for layer in LAYERS:
            node = spec.layers[layer].node
            op_name, _, index = _tensor_name(node).rpartition(":")
            op = ops.get(op_name)
            if op is None or not index.isdigit() or int(index) >= op.get_output_size():
                raise ModelError(f"model {spec.name} has no node {node!r} for its {layer}")
            port = op.output(int(index))
            if not port.get_names():
                port.get_tensor().set_names({_tensor_name(node)})
            if not port.get_names() & output_names:
                model.add_outputs(port)
            names[layer] = port.get_any_name()
        return model, names

    def _compile(self) -> None:
        model, names = self._read_model()
        try:
            self._compiled = None if self.cache_dir is None else self._compile_cached(model)
            if self._compiled is None:
                self._compiled = _openvino_core().compile_model(model, "CPU", self._config())
        except RuntimeError as error:
            raise ModelError(
                f"OpenVINO cannot compile model {self.spec.name}: {_gist(error)}"
            ) from error
        self._ports = {layer: self._compiled.output(name) for layer, name in names.items()}
        self._request = self._compiled.create_infer_request()

    def _predict_batch(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        if self._request is None:
            self._compile()
        n = len(batch)
        if n < self.batch_size:
            if self._padded is None:
                self._padded = np.zeros((self.batch_size, *batch.shape[1:]), dtype=np.float32)
            self._padded[:n] = batch
            self._padded[n:] = 0.0
            batch = self._padded
        try:
            outputs = self._request.infer({0: np.ascontiguousarray(batch)})
        except RuntimeError as error:
            raise ModelError(f"model {self.spec.name} failed on a batch: {_gist(error)}") from error
        result = {}
        for layer in LAYERS:
            dims = self.spec.layers[layer].dims
            # A copy: the request reuses its output buffers on the next batch.
            values = np.array(outputs[self._ports[layer]], dtype=np.float32)
            if values.size != len(batch) * dims:
                raise ModelError(
                    f"model {self.spec.name} gives {values.size // len(batch)} {layer} values "
                    f"per patch; its metadata says {dims}"
                )
            result[layer] = values.reshape(len(batch), dims)[:n]
        return result


def make_runner(
    backend: str,
    spec: ModelSpec,
    batch_size: int | None = None,
    *,
    threads: int | None = None,
    cache_dir: Path | None = None,
) -> PatchRunner:
    """A runner of ``spec`` on ``backend`` (``"auto"`` is resolved with :func:`resolve_backend`).

    ``batch_size`` None takes the backend's own default (:data:`OPENVINO_BATCH_SIZE`,
    :data:`~extraction.inference.DEFAULT_BATCH_SIZE` for Essentia). ``threads`` and ``cache_dir``
    apply to OpenVINO; Essentia's TensorFlow takes its thread count from the environment
    (:func:`extraction.inference.limit_tensorflow_threads`).
    """
    backend = resolve_backend(backend)
    if backend == OPENVINO:
        return OpenVinoRunner(
            spec, batch_size or OPENVINO_BATCH_SIZE, threads=threads, cache_dir=cache_dir
        )
    return ModelRunner(spec, batch_size or DEFAULT_BATCH_SIZE)
