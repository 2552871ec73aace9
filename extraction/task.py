"""One track's task: what it is (:class:`TrackTask`), what running it gives (:class:`TrackResult`)
and what runs it in one process (:class:`TrackExtractor`, as a Dask worker does).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from extraction.contract import LAYERS, STATUS_ERROR, STATUS_OK, library_file_path
from extraction.errors import AudioDecodeError
from extraction.library import LibraryFile
from extraction.registry import ModelSpec
from extraction.store import SegmentBlock

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


class TrackOutputs:
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

        outputs = TrackOutputs(task, self.specs)
        try:
            for patches in iter_patches(path):
                outputs.add({runner.spec.name: runner.predict(patches) for runner in self.runners})
        except Exception as error:  # noqa: BLE001 - one odd file must never stop a library run
            outputs.fail(error)
        return outputs.result()


def failed_result(task: TrackTask, specs: Sequence[ModelSpec], reason: str) -> TrackResult:
    """The result of a track that could not be extracted, for ``reason``."""
    outputs = TrackOutputs(task, specs)
    outputs.fail(AudioDecodeError(reason))
    return outputs.result()
