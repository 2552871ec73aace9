"""Extraction run: plan what changed, run the networks on each track, stage, merge, refit PCA.

Crash safety comes from the order of writes: finished tracks go to staging in small batches
(segments first, then the tracks file that marks the batch complete); merging rewrites each
segment table atomically, then the tracks table, then drops the merged staging files. Merging is
idempotent, so a run killed at any point is finished by the next one without redoing a track.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from extraction.contract import LAYERS, STATUS_ERROR, STATUS_OK, library_file_path, segment_ids
from extraction.errors import AudioDecodeError
from extraction.library import LibraryFile, assign_track_ids, read_tags, scan_library
from extraction.pca import matching_signs, pca_columns
from extraction.registry import ModelSpec
from extraction.store import DataStore, SegmentBlock, tracks_frame

log = logging.getLogger(__name__)

Space = tuple[str, str]
"""A (model, layer) pair: one segment table."""


@dataclass
class TrackTask:
    """One file to extract, with the metadata already known from its tags."""

    file: LibraryFile
    track: int
    tags: dict


@dataclass
class TrackResult:
    """What extraction of one file produced: its tracks-table row and its segments."""

    row: dict
    segments: dict[Space, SegmentBlock] = field(default_factory=dict)
    audio_seconds: float = 0.0


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


def plan_work(
    files: Sequence[LibraryFile],
    previous: pd.DataFrame,
    done_by_space: dict[Space, set[int]],
    spaces: Sequence[Space],
    next_track_id: int,
    *,
    force: bool = False,
    pending_ids: dict[str, int] | None = None,
) -> tuple[dict[str, int], list[tuple[LibraryFile, int]], int, int]:
    """Decide which files need extraction.

    A file is redone when it is new, its size or modification time changed, or a requested
    (model, layer) lacks it. A file that failed before and has not changed is not retried.
    ``pending_ids`` are ids an interrupted run gave to files it had not finished. Tracks no
    longer in the library are :func:`extraction.missing.reconcile`'s concern.

    Returns
    -------
    ids : dict of path to track id
    todo : list of (LibraryFile, track id)
    unchanged : int
    next_track_id : int
    """
    # Ids handed out by an interrupted run are reused, so resuming gives the same tables.
    known = {
        **(pending_ids or {}),
        **dict(zip(previous["path"], previous["track"].astype(int), strict=True)),
    }
    next_track_id = max(next_track_id, int(previous["track"].max()) + 1 if len(previous) else 0)
    ids, next_track_id = assign_track_ids((f.path for f in files), known, next_track_id)
    by_path = previous.set_index("path") if len(previous) else None
    todo: list[tuple[LibraryFile, int]] = []
    unchanged = 0
    for file in files:
        track = ids[file.path]
        if not force and by_path is not None and file.path in by_path.index:
            old = by_path.loc[file.path]
            same_file = int(old["size"]) == file.size and int(old["mtime_ns"]) == file.mtime_ns
            if same_file and old["status"] == STATUS_ERROR:
                unchanged += 1
                continue
            if same_file and all(track in done_by_space.get(s, ()) for s in spaces):
                unchanged += 1
                continue
        todo.append((file, track))
    return ids, todo, unchanged, next_track_id


def track_row(task: TrackTask, status: str, error: str | None, duration: float | None) -> dict:
    """The tracks-table row of one processed file."""
    return {
        "track": task.track,
        "path": task.file.path,
        "size": task.file.size,
        "mtime_ns": task.file.mtime_ns,
        "duration": duration,
        "artist": task.tags.get("artist"),
        "album": task.tags.get("album"),
        "title": task.tags.get("title"),
        "genre": task.tags.get("genre"),
        "year": task.tags.get("year"),
        "track_number": task.tags.get("track_number"),
        "status": status,
        "error": error,
    }


class _TrackOutputs:
    """One track's layer values, gathered batch by batch in patch order."""

    def __init__(self, task: TrackTask, specs: Sequence[ModelSpec]) -> None:
        self.task = task
        self.parts: dict[Space, list[np.ndarray]] = {
            (spec.name, layer): [] for spec in specs for layer in LAYERS
        }
        self.n_segments = 0
        self.error: str | None = None
        self.submitted = 0  # batches handed to an inference pool
        self.received = 0
        self.decoded = False  # no more batches will come

    @property
    def done(self) -> bool:
        return self.decoded and self.received == self.submitted

    def add(self, values: dict[str, dict[str, np.ndarray]]) -> None:
        """Append one batch: ``{model: {layer: array (n, dims)}}``."""
        for model, layers in values.items():
            for layer, array in layers.items():
                self.parts[(model, layer)].append(array)
        self.n_segments += len(next(iter(next(iter(values.values())).values())))

    def fail(self, error: BaseException) -> None:
        """Keep the first reason the track failed; its segments are dropped."""
        if self.error is not None:
            return
        if isinstance(error, AudioDecodeError):
            self.error = str(error)
        else:
            log.error("unexpected failure on %s", self.task.file.path, exc_info=error)
            self.error = f"unexpected {type(error).__name__}: {error}"

    def result(self) -> TrackResult:
        from extraction.features import SEGMENT_SECONDS, segment_offsets

        task = self.task
        if self.error is not None:
            return TrackResult(track_row(task, STATUS_ERROR, self.error, task.tags.get("duration")))
        offsets = segment_offsets(self.n_segments)
        tracks = np.full(self.n_segments, task.track, dtype=np.int32)
        segments = {
            space: SegmentBlock(tracks, offsets, np.concatenate(parts).astype(np.float32))
            for space, parts in self.parts.items()
        }
        duration = task.tags.get("duration") or self.n_segments * SEGMENT_SECONDS
        return TrackResult(
            track_row(task, STATUS_OK, None, duration), segments, audio_seconds=float(duration)
        )


class TrackExtractor:
    """Runs every requested network on one track in this process: decode and mel once.

    ``backend`` and ``cache_dir`` are those of :func:`extraction.backends.make_runner`; OpenVINO
    gets every usable core (cores // 1 worker, as TensorFlow takes by default).
    """

    def __init__(
        self,
        library: Path,
        specs: Sequence[ModelSpec],
        backend: str = "auto",
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        from extraction.backends import make_runner

        self.library = Path(library)
        self.specs = list(specs)
        self.runners = [make_runner(backend, spec, threads=threads, cache_dir=cache_dir)
                        for spec in specs]  # fmt: skip

    def __call__(self, task: TrackTask) -> TrackResult:
        return self.extract(task, library_file_path(self.library, task.file.path))

    def extract(self, task: TrackTask, path: Path) -> TrackResult:
        """Extract ``task`` from the audio file at ``path`` (its bytes copied elsewhere, say)."""
        from extraction.features import iter_patches

        outputs = _TrackOutputs(task, self.specs)
        try:
            for patches in iter_patches(path):
                outputs.add({runner.spec.name: runner.predict(patches) for runner in self.runners})
        except Exception as error:  # noqa: BLE001 - one odd file must never stop a library run
            outputs.fail(error)
        return outputs.result()


def failed_result(task: TrackTask, specs: Sequence[ModelSpec], reason: str) -> TrackResult:
    """The result of a track that could not be extracted, for ``reason``."""
    outputs = _TrackOutputs(task, specs)
    outputs.fail(AudioDecodeError(reason))
    return outputs.result()


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

    def finished(results: Iterator[tuple[_TrackOutputs, object]]) -> Iterator[TrackResult]:
        for track, values in results:
            track.received += 1
            if isinstance(values, Exception):
                track.fail(values)
            elif track.error is None:
                track.add(values)  # type: ignore[arg-type]
            if track.done:
                yield track.result()

    with InferencePool[_TrackOutputs](specs, workers, backend=backend, cache_dir=cache_dir) as pool:
        for task in tasks:
            track = _TrackOutputs(task, specs)
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


# -- merging ------------------------------------------------------------------------------------
def merge_staged(
    store: DataStore,
    removed: set[int] | None = None,
    backend: str | None = None,
    tracks: pd.DataFrame | None = None,
) -> bool:
    """Merge staged batches into the tables and drop removed tracks; refit PCA where changed.

    Idempotent: running it again after a crash at any point gives the same tables. ``backend``,
    the inference backend of the run, is recorded as ``state.json``'s ``"backend"``: for
    information only, since backends give equal outputs and no track is redone for it.
    ``tracks``: the tracks table to merge into, as a library scan left it (missing tracks
    marked, moved paths updated: :func:`extraction.missing.reconcile`); it is written even with
    nothing staged. Default: the stored one.

    Returns
    -------
    bool
        Whether any table changed.
    """
    removed = set(removed or ())
    batches = store.staged_batches()
    old_tracks = store.read_tracks() if tracks is None else tracks
    if not batches and tracks is None and not (removed & set(old_tracks["track"].astype(int))):
        store.clear_staged([])
        return False
    staged_tracks, staged_segments = store.read_staged(batches)
    staged_ids = set(staged_tracks["track"].astype(int))

    # A track whose file changed since its old row was written: all its old segments are stale.
    old_files = old_tracks.set_index("track")[["size", "mtime_ns"]]
    new_files = staged_tracks.set_index("track")[["size", "mtime_ns"]]
    common = old_files.index.intersection(new_files.index)
    differs = (old_files.loc[common] != new_files.loc[common]).any(axis=1)
    stale = {int(t) for t in common[differs.to_numpy()]}

    kept_old = old_tracks[~old_tracks["track"].isin(staged_ids | removed)]
    merged = pd.concat([kept_old, staged_tracks[~staged_tracks["track"].isin(removed)]])
    merged = merged.astype(kept_old.dtypes.to_dict()) if len(kept_old) else merged
    ok_ids = np.array(sorted(merged.loc[merged["status"] == STATUS_OK, "track"].astype(int)))
    # Every table written below says which version it belongs to; state.json, written last,
    # makes that version current (readers never mix two: see contract.VERSION_METADATA).
    state = store.read_state()
    version = int(state.get("version", 0)) + 1

    for space in sorted(set(store.segment_spaces()) | set(staged_segments)):
        old = store.read_segments(*space)
        new = staged_segments.get(space)
        parts = []
        if old is not None:
            drop = np.array(sorted(stale | removed | (set(new.track.tolist()) if new else set())))
            keep = np.isin(old.track, ok_ids) & ~np.isin(old.track, drop)
            if new is None and keep.all():
                continue
            parts.append(old.select(keep))
        if new is not None:
            parts.append(new.select(np.isin(new.track, ok_ids)))
        block = SegmentBlock.concat(parts).sorted()
        pca, std_pca = pca_columns(block.vector)
        previous = store.read_projection_columns(*space)
        if previous is not None:
            pca, std_pca = keep_orientation(block, (pca, std_pca), previous)
        store.write_segments(*space, block, pca, std_pca, version)

    store.write_tracks(merged, version)
    state["version"] = version
    # An empty table (every track pruned) has no largest id: NaN must not reach int().
    largest = int(merged["track"].max()) if len(merged) else -1
    state["next_track_id"] = max(int(state.get("next_track_id", 0)), largest + 1)
    if backend is not None:
        state["backend"] = backend
    store.write_state(state)
    store.clear_staged(batches)
    return True


def keep_orientation(
    block: SegmentBlock,
    columns: tuple[np.ndarray, np.ndarray],
    previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Flip refitted ``pca``/``std_pca`` axes to agree with the table they replace.

    Parameters
    ----------
    block : SegmentBlock
        The merged segments (n rows).
    columns : (pca, std_pca), each np.ndarray, shape (n, width)
    previous : (track, offset, pca, std_pca) of the old table

    Returns
    -------
    pca, std_pca : np.ndarray, shape (n, width)
    """
    old_track, old_offset, *old_columns = previous
    _, new_rows, old_rows = np.intersect1d(
        segment_ids(block.track, block.offset),
        segment_ids(old_track, old_offset),
        assume_unique=True,
        return_indices=True,
    )
    if len(new_rows) == 0:
        return columns
    aligned = []
    for new, old in zip(columns, old_columns, strict=True):
        width = min(new.shape[1], old.shape[1])
        signs = np.ones(new.shape[1], dtype=np.float32)
        signs[:width] = matching_signs(new[new_rows, :width], old[old_rows, :width])
        aligned.append(new * signs)
    return aligned[0], aligned[1]


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


def spread_order(todo: Sequence[tuple[LibraryFile, int]]) -> list[tuple[LibraryFile, int]]:
    """Interleave folders so the first tracks done sample the whole library.

    The map is usable while extraction runs; taking one track from each album folder in turn
    (rather than finishing ``A/`` before starting ``Z/``) makes its first minutes show every
    corner of the collection. Within a folder the order is kept.

    Parameters
    ----------
    todo : sequence of (LibraryFile, track id)

    Returns
    -------
    list of (LibraryFile, track id)
        The same items, round-robin over parent folders (folders in sorted order).
    """
    by_folder: dict[str, list[tuple[LibraryFile, int]]] = {}
    for item in todo:
        by_folder.setdefault(PurePosixPath(item[0].path).parent.as_posix(), []).append(item)
    queues = [by_folder[folder] for folder in sorted(by_folder)]
    ordered: list[tuple[LibraryFile, int]] = []
    for rank in range(max((len(q) for q in queues), default=0)):
        ordered.extend(queue[rank] for queue in queues if rank < len(queue))
    return ordered


#: Audio the first map waits for: about 50 segments from a few tracks, a first picture.
FIRST_MAP_SECONDS = 150.0


def quick_start_order(
    tasks: Sequence[TrackTask], seconds: float = FIRST_MAP_SECONDS
) -> list[TrackTask]:
    """Put the shortest tracks first, until they hold ``seconds`` of audio; keep the rest's order.

    The first merge, and so the user's first map, waits for those tracks: a handful of short
    ones give a first picture after seconds, where one 10-minute track would take a minute.
    Tracks of unknown duration count as long.

    Parameters
    ----------
    tasks : sequence of TrackTask
    seconds : float
        Audio to gather at the front.

    Returns
    -------
    list of TrackTask
        The same tasks: the quick ones (shortest first), then the others in their order.
    """
    by_length = sorted(
        range(len(tasks)), key=lambda i: tasks[i].tags.get("duration") or float("inf")
    )
    quick: list[int] = []
    gathered = 0.0
    for index in by_length:
        if gathered >= seconds:
            break
        duration = tasks[index].tags.get("duration")
        if duration is None:
            break
        quick.append(index)
        gathered += duration
    chosen = set(quick)
    return [tasks[i] for i in quick] + [t for i, t in enumerate(tasks) if i not in chosen]


class MergeSchedule:
    """When a running extraction merges finished tracks into the tables the app reads.

    The first merge comes as soon as ``first_seconds`` of audio are finished (the user's first
    map: enough segments for a picture, see :func:`quick_start_order`); later ones
    at least ``every_seconds`` apart, and at least four times as far apart as the last merge
    took, so merging never costs more than a fifth of the run however big the tables grow.
    """

    def __init__(self, every_seconds: float | None, first_seconds: float = 0.0) -> None:
        self.every_seconds = every_seconds
        self.first_seconds = first_seconds
        self.last_end: float | None = None
        self.last_cost = 0.0

    def due(self, audio_done: float = float("inf")) -> bool:
        """Whether to merge now, with ``audio_done`` seconds of audio finished so far."""
        if self.every_seconds is None:
            return False
        if self.last_end is None:
            return audio_done >= self.first_seconds
        gap = max(self.every_seconds, 4.0 * self.last_cost)
        return time.monotonic() - self.last_end >= gap

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.last_end = time.monotonic()
            self.last_cost = self.last_end - start


def _durations(tasks: Sequence[TrackTask]) -> list[float]:
    return [t.tags.get("duration") or 0.0 for t in tasks]


def _count(summary: Summary, result: TrackResult) -> None:
    if result.row["status"] == STATUS_OK:
        summary.ok += 1
        summary.audio_seconds += result.audio_seconds
        summary.segments += len(next(iter(result.segments.values()), ()))
    else:
        summary.failed[result.row["path"]] = result.row["error"]


def stage_results(store: DataStore, results: Sequence[TrackResult]) -> None:
    """Write finished tracks to staging: from here on, a crash loses none of them."""
    tracks = tracks_frame([r.row for r in results])
    segments: dict[Space, list[SegmentBlock]] = {}
    for result in results:
        for space, block in result.segments.items():
            segments.setdefault(space, []).append(block)
    store.stage(tracks, {space: SegmentBlock.concat(blocks) for space, blocks in segments.items()})
