"""The extraction run, assembled from its stages: plan what changed (:mod:`extraction.plan`), run
each track's task (:mod:`extraction.task`) here, with a pool of inference processes
(:mod:`extraction.pool`) or on a Dask cluster (:mod:`extraction.cluster`), then stage and merge
the results (:mod:`extraction.merge`) and count what happened.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extraction.contract import LAYERS, STATUS_OK, library_file_path
from extraction.library import read_tags, scan_library
from extraction.merge import MergeSchedule, merge_staged, stage_results
from extraction.plan import FIRST_MAP_SECONDS, plan_work, quick_start_order, spread_order
from extraction.registry import ModelSpec
from extraction.store import DataStore
from extraction.task import TrackExtractor, TrackOutputs, TrackResult, TrackTask


@dataclass
class Summary:
    """Counts and timings of one run, for the final report."""

    ok: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0
    #: Tracks whose files are gone: kept (``missing``) or, with ``prune``, dropped (``removed``).
    missing: int = 0
    removed: int = 0
    #: Files found at a new path that kept their track and analysis.
    moved: int = 0
    segments: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def realtime_factor(self) -> float:
        return self.audio_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


# Patches per task sent to an inference worker (48 s of audio): small enough that the workers
# share even a short track, large enough that sending it costs nothing next to the networks.
POOL_BATCH_PATCHES = 16


def extract_tracks(
    library: Path,
    specs: Sequence[ModelSpec],
    tasks: Iterable[TrackTask],
    workers: int = 1,
    *,
    backend: str = "auto",
    cache_dir: Path | None = None,
    cluster=None,
    shared_library: bool = False,
) -> Iterator[TrackResult]:
    """Extract tasks, in this process (``workers == 1``), with worker processes, or on the
    Dask cluster of the ``distributed.Client`` ``cluster`` (:mod:`extraction.cluster`;
    ``shared_library``: its workers read the files at the same path).

    With several workers this process decodes and computes mel patches (a tenth of the work
    with the four shipped models) while ``workers`` spawned processes run every network on
    batches of patches, each with ``cores / workers`` inference threads. Results come in
    completion order (a track whose batches are all done overtakes a longer one started before).
    ``backend`` is ``"auto"``, ``"openvino"`` or ``"essentia"``; ``cache_dir`` is where OpenVINO
    keeps its compiled models (None: no cache).
    """
    if cluster is not None:
        from extraction.cluster import extract_on_cluster

        yield from extract_on_cluster(cluster, library, specs, tasks, backend=backend,
                                      shared_library=shared_library)  # fmt: skip
        return
    if workers <= 1:
        extractor = TrackExtractor(library, specs, backend, cache_dir)
        for task in tasks:
            yield extractor(task)
        return
    yield from _extract_pooled(library, specs, tasks, workers, backend, cache_dir)


def _extract_pooled(
    library: Path,
    specs: Sequence[ModelSpec],
    tasks: Iterable[TrackTask],
    workers: int,
    backend: str,
    cache_dir: Path | None,
) -> Iterator[TrackResult]:
    from extraction.features import iter_patches
    from extraction.pool import InferencePool

    def finished(results: Iterator[tuple[TrackOutputs, object]]) -> Iterator[TrackResult]:
        for track, values in results:
            track.received += 1
            if isinstance(values, Exception):
                track.fail(values)
            elif track.error is None:
                track.add(values)  # type: ignore[arg-type]
            if track.done:
                yield track.result()

    with InferencePool[TrackOutputs](specs, workers, backend=backend, cache_dir=cache_dir) as pool:
        for task in tasks:
            track = TrackOutputs(task, specs)
            try:
                path = library_file_path(library, task.file.path)
                for patches in iter_patches(path, batch_patches=POOL_BATCH_PATCHES):
                    track.submitted += 1
                    yield from finished(pool.submit(track, patches))
            except Exception as error:  # noqa: BLE001 - one odd file must never stop a run
                track.fail(error)
            track.decoded = True
            if track.done:
                yield track.result()
        yield from finished(pool.drain())


# -- a whole run --------------------------------------------------------------------------------
class Progress:
    """Progress reporting hook; the CLI supplies a tqdm bar, tests and the app other things."""

    def start(self, total_audio_seconds: float, total_tracks: int) -> None:  # pragma: no cover
        pass

    def library_checked(self, missing: int, moved: int) -> None:  # pragma: no cover
        """The scan found ``missing`` tracks' files gone (kept) and ``moved`` ones elsewhere."""

    def advance(self, result: TrackResult) -> None:  # pragma: no cover
        pass

    def close(self) -> None:  # pragma: no cover
        pass


def run_extraction(
    library: Path,
    store: DataStore,
    specs: Sequence[ModelSpec],
    *,
    workers: int = 1,
    force: bool = False,
    progress: Progress | None = None,
    stage_every_tracks: int = 8,
    stage_every_seconds: float = 30.0,
    merge_every_seconds: float | None = 30.0,
    backend: str = "auto",
    cluster=None,
    shared_library: bool = False,
    prune: bool = False,
) -> Summary:
    """Bring the data folder up to date with the library. The caller holds ``store.exclusive()``.

    Tracks whose files are gone are kept, marked missing (:mod:`extraction.missing`), unless
    ``prune``. A library that looks unmounted or mostly gone changes nothing: the run raises
    :class:`extraction.missing.LibraryVanishedError` before writing anything.

    Parameters
    ----------
    library : Path
        Absolute library root.
    specs : sequence of ModelSpec
        Networks to run; tracks already extracted for all of them are skipped.
    workers : int
        Extraction processes.
    force : bool
        Redo every file.
    merge_every_seconds : float or None
        Merge finished tracks into the tables (where the app sees them) during the run: right
        after the first track, then at most this often, and never more than a fifth of the time
        (a merge rewrites every table). None merges only at the end.
    backend : {"auto", "openvino", "essentia"}
        Inference backend (:func:`extraction.backends.resolve_backend`); OpenVINO keeps its
        compiled models in the data folder's ``cache/openvino``. Outputs are equal whichever
        runs, so changing it redoes no track.
    cluster : distributed.Client, optional
        Run each track's work on this Dask cluster (``workers`` is then unused); planning,
        staging and merging stay here (:mod:`extraction.cluster`).
    shared_library : bool
        The cluster's workers see ``library`` at the same path: they read the files themselves
        instead of receiving their bytes.
    prune : bool
        Drop the tracks whose files are missing, rows and segments, for good.
    """
    from extraction.backends import openvino_cache_dir, resolve_backend
    from extraction.missing import LibraryVanishedError, reconcile, vanished_reason

    progress = progress or Progress()
    backend = resolve_backend(backend)
    started = time.perf_counter()
    summary = Summary()

    merge_staged(store)  # finish whatever a killed run left in staging
    files = scan_library(library)
    changes = reconcile(store.read_tracks(), files, time.time())
    reason = vanished_reason(changes, len(files), library, prune)
    if reason is not None:
        raise LibraryVanishedError(reason)
    removed = set(changes.missing) if prune else set()
    if changes.changed or removed:
        merge_staged(store, removed, backend, tracks=changes.tracks)
    summary.missing = len(changes.missing) - len(removed)
    summary.removed = len(removed)
    summary.moved = len(changes.moved)
    progress.library_checked(summary.missing, summary.moved)
    previous = store.read_tracks()
    spaces = [(spec.name, layer) for spec in specs for layer in LAYERS]
    done_by_space = {space: store.segment_tracks(*space) for space in spaces}
    state = store.read_state()
    ids, todo, summary.unchanged, next_id = plan_work(
        files,
        previous,
        done_by_space,
        spaces,
        int(state.get("next_track_id", 0)),
        force=force,
        pending_ids=state.get("pending_ids"),
    )
    known = set(previous["path"])
    pending = {f.path: ids[f.path] for f, _ in todo if f.path not in known}
    planned = {**state, "next_track_id": next_id, "pending_ids": pending}
    if not pending:
        del planned["pending_ids"]
    if planned != state:  # a run with nothing to do leaves every file as it was
        store.write_state(planned)

    todo = spread_order(todo)
    tasks = quick_start_order(
        [TrackTask(file, track, read_tags(library, file.path)) for file, track in todo]
    )
    progress.start(sum(t.tags.get("duration") or 0.0 for t in tasks), len(tasks))
    pending: list[TrackResult] = []
    last_stage = time.monotonic()
    merges = MergeSchedule(
        merge_every_seconds, min(FIRST_MAP_SECONDS, 0.9 * sum(_durations(tasks)))
    )

    def flush() -> None:
        nonlocal pending, last_stage
        if pending:
            stage_results(store, pending)
            pending = []
        last_stage = time.monotonic()

    try:
        for result in extract_tracks(
            library,
            specs,
            tasks,
            workers,
            backend=backend,
            cache_dir=openvino_cache_dir(store.root),
            cluster=cluster,
            shared_library=shared_library,
        ):
            pending.append(result)
            _count(summary, result)
            progress.advance(result)
            due = time.monotonic() - last_stage >= stage_every_seconds
            merge_now = merges.due(summary.audio_seconds)
            if len(pending) >= stage_every_tracks or due or merge_now:
                flush()
            if merge_now:
                with merges.timed():
                    merge_staged(store, backend=backend)
    finally:
        # Also on Ctrl-C: every finished track is kept, and the tables show it.
        progress.close()
        flush()
        merge_staged(store, backend=backend)
    # Every planned file now has its row: the ids kept for an interrupted run are done with.
    state = store.read_state()
    if state.pop("pending_ids", None) is not None:
        store.write_state(state)
    summary.wall_seconds = time.perf_counter() - started
    return summary


def _durations(tasks: Sequence[TrackTask]) -> list[float]:
    return [t.tags.get("duration") or 0.0 for t in tasks]


def _count(summary: Summary, result: TrackResult) -> None:
    if result.row["status"] == STATUS_OK:
        summary.ok += 1
        summary.audio_seconds += result.audio_seconds
        summary.segments += len(next(iter(result.segments.values()), ()))
    else:
        summary.failed[result.row["path"]] = result.row["error"]
