"""Extraction on a Dask cluster: each track's decode, mel bands and networks run on a worker.

    python -m extraction --library DIR --dask tcp://HOST:8786 [--shared-library]
    python -m extraction --library DIR --dask local

This process still plans, stages and merges (:func:`extraction.pipeline.run_extraction`), so
the tables and the crash-safety contract are those of a local run; only
:func:`extract_on_cluster` differs from :func:`extraction.pipeline.extract_tracks`. Workers need
explore-dash installed, not the library: each file's bytes travel with its task, unless
``--shared-library`` says the workers see the library at the same path.

A worker lost mid-track: the scheduler gives the task to another worker (Dask's own
``allowed-failures``), and since a result is taken once per task, nothing is lost and nothing
is counted twice. A track on which workers keep dying is marked failed, with the reason.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from extraction.contract import library_file_path
from extraction.errors import ExtractionError, ModelError
from extraction.registry import ModelSpec
from extraction.task import TrackExtractor, failed_result

log = logging.getLogger(__name__)

#: ``--dask local``: a LocalCluster on this machine, for trying it.
LOCAL = "local"
LOCAL_WORKERS = 2
#: Tasks handed out per worker thread: one running, one waiting with its bytes already sent.
IN_FLIGHT_PER_THREAD = 2


def connect(address: str, workers: int = LOCAL_WORKERS):
    """A ``distributed.Client`` of the cluster at ``address`` (or a new LocalCluster).

    Raises
    ------
    ExtractionError
        When distributed is not installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ExtractionError(
            "--dask needs Dask's distributed: pip install 'explore-dash[cluster]'"
        ) from error
    try:
        if address == LOCAL:
            # One thread per worker process: the networks' own threads use the cores.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)  # fmt: skip
            return Client(cluster)
        return Client(address, timeout=30)
    except OSError as error:
        raise ExtractionError(f"cannot reach the Dask scheduler at {address}: {error}") from error


def close(client) -> None:
    """Close ``client``, and the LocalCluster it started, if any."""
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


# -- on the worker ------------------------------------------------------------------------------
# One extractor per worker process, made on its first task (loading the networks takes seconds).
_EXTRACTORS: dict[tuple, object] = {}


def _worker_specs(wanted: Sequence[tuple[str, str]]) -> list[ModelSpec]:
    """The worker's own copies of the client's models, by name, checked by their sha256."""
    from extraction.registry import load_registry

    registry = load_registry()
    specs = []
    for name, sha256 in wanted:
        spec = registry.get(name)
        if spec is None or spec.sha256 != sha256:
            raise ModelError(
                f"model {name} is not installed on this worker, or is another version of it "
                "(install the same explore-dash on every worker)"
            )
        specs.append(spec)
    return specs


def _inference_threads(threads_on_host: dict[str, int]) -> int:
    """Inference threads for a task here: this host's cores shared by its worker threads."""
    from distributed import get_worker

    host = get_worker().address.rsplit(":", 1)[0]
    return max(1, len(os.sched_getaffinity(0)) // max(1, threads_on_host.get(host, 1)))


def extract_on_worker(task, audio: bytes | None, library: str | None, models, backend: str,
                      threads_on_host: dict[str, int]):  # fmt: skip
    """Extract one track on a Dask worker: from ``audio`` (the file's bytes) or from the shared
    ``library``. Returns the :class:`~extraction.task.TrackResult` a local run would."""

    key = (tuple(models), backend)
    extractor = _EXTRACTORS.get(key)
    if extractor is None:
        cache = Path(tempfile.gettempdir()) / "explore-dash-worker" / "openvino"
        extractor = TrackExtractor(Path("/"), _worker_specs(models), backend, cache,
                                   threads=_inference_threads(threads_on_host))  # fmt: skip
        _EXTRACTORS[key] = extractor
    if audio is None:
        return extractor.extract(task, library_file_path(Path(library), task.file.path))
    # Decoders read files: the bytes go to a private temporary file with the same extension.
    suffix = Path(task.file.path).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix, prefix="explore-dash-") as handle:
        handle.write(audio)
        handle.flush()
        return extractor.extract(task, Path(handle.name))


# -- on the client ------------------------------------------------------------------------------
def threads_by_host(client) -> dict[str, int]:
    """Worker threads per host of the cluster, from the scheduler."""
    counts: dict[str, int] = {}
    for address, info in client.scheduler_info()["workers"].items():
        host = address.rsplit(":", 1)[0]
        counts[host] = counts.get(host, 0) + int(info.get("nthreads", 1))
    return counts


def extract_on_cluster(
    client,
    library: Path,
    specs: Sequence[ModelSpec],
    tasks: Iterable,
    *,
    backend: str,
    shared_library: bool = False,
) -> Iterator:
    """Extract ``tasks`` on the cluster behind ``client``; results in completion order.

    At most :data:`IN_FLIGHT_PER_THREAD` tasks per worker thread are out at once, so the bytes
    of a large library are read and sent as the workers need them.
    """
    from distributed import as_completed

    models = [(spec.name, spec.sha256) for spec in specs]
    hosts = threads_by_host(client)
    limit = IN_FLIGHT_PER_THREAD * max(1, sum(hosts.values()))
    todo = iter(tasks)
    running = as_completed()
    submitted: dict[str, object] = {}

    def fill() -> Iterator:
        """Hand out tasks up to the limit; a file this process cannot read is a failed result."""
        while len(submitted) < limit:
            task = next(todo, None)
            if task is None:
                return
            try:
                audio = None if shared_library else library_file_path(
                    library, task.file.path).read_bytes()  # fmt: skip
            except OSError as error:
                yield failed_result(task, specs, f"cannot read the file: {error.strerror}")
                continue
            future = client.submit(
                extract_on_worker, task, audio, str(library) if shared_library else None,
                models, backend, hosts, key=f"track-{task.track}-{uuid.uuid4().hex}",
                pure=False,
            )  # fmt: skip
            submitted[future.key] = task
            running.add(future)

    yield from fill()
    for future in running:
        task = submitted.pop(future.key)
        try:
            result = future.result()
        except Exception as error:  # noqa: BLE001 - a worker died on it too often, or worse
            log.error("track %s failed on the cluster: %s", task.file.path, error)
            result = failed_result(task, specs, f"failed on the cluster: {error}")
        future.release()
        yield result
        yield from fill()
