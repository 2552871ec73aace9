"""The data directory: the tracks table, the segment tables, staging, and atomic writes.

Layout (the contract the app relies on; see docs/architecture.md)::

    <data>/tracks.parquet
    <data>/segments/model=<model>/layer=<layer>/part-0.parquet
    <data>/staging/<seq>.segments.parquet, <seq>.tracks.parquet   (finished work not yet merged)
    <data>/state.json                                             (next track id, data version)
    <data>/.lock                                                  (one extraction at a time)

Every file is written to a dot-prefixed temporary name and renamed into place, so a reader (or
a later run after a crash) only ever sees complete files; readers of ``segments/`` as a hive
dataset ignore the dot-prefixed temporaries.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extraction.contract import (
    LOCK_FILE,
    SEGMENTS_DIR,
    SEGMENTS_SCHEMA,
    STAGING_DIR,
    STATE_FILE,
    TRACK_COLUMNS,
    TRACK_SCHEMA,
    TRACKS_FILE,
    list_column_to_matrix,
    segment_path,
    segment_spaces,
    with_version,
)
from extraction.errors import LibraryError


@dataclass
class SegmentBlock:
    """The segments of one (model, layer), in memory.

    Attributes
    ----------
    track : np.ndarray, shape (n,), int32
    offset : np.ndarray, shape (n,), float32
        Segment start in seconds.
    vector : np.ndarray, shape (n, n_dims), float32
    """

    track: np.ndarray
    offset: np.ndarray
    vector: np.ndarray

    @classmethod
    def empty(cls, n_dims: int) -> SegmentBlock:
        return cls(
            np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros((0, n_dims), np.float32)
        )

    def __len__(self) -> int:
        return len(self.track)

    def select(self, mask: np.ndarray) -> SegmentBlock:
        return SegmentBlock(self.track[mask], self.offset[mask], self.vector[mask])

    @staticmethod
    def concat(blocks: list[SegmentBlock]) -> SegmentBlock:
        return SegmentBlock(
            np.concatenate([b.track for b in blocks]).astype(np.int32, copy=False),
            np.concatenate([b.offset for b in blocks]).astype(np.float32, copy=False),
            np.concatenate([b.vector for b in blocks]).astype(np.float32, copy=False),
        )

    def sorted(self) -> SegmentBlock:
        order = np.lexsort((self.offset, self.track))
        return SegmentBlock(self.track[order], self.offset[order], self.vector[order])


def fixed_size_list(matrix: np.ndarray) -> pa.FixedSizeListArray:
    """A float32 matrix as an Arrow fixed-size list column (one list per row)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def _fsync_dir(path: Path) -> None:
    if sys.platform.startswith("win"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Rows per parquet row group. The app decodes a large table one group at a time
#: (explore_dash.data.tables.read_rows), so its memory at a million segments stays bounded; a
#: single group of a million rows would be decoded whole.
ROW_GROUP_ROWS = 65_536


def atomic_write_parquet(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` so that ``path`` is either the old or the new file, never half.

    Raises
    ------
    LibraryError
        When the disk is full or the folder is not writable; the previous file stays intact.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        pq.write_table(table, temporary, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_dir(path.parent)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _storage_error(error, path) from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(text: str, path: Path) -> None:
    """Text counterpart of :func:`atomic_write_parquet`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _storage_error(error, path) from error


def _storage_error(error: OSError, path: Path) -> LibraryError:
    if error.errno == errno.ENOSPC:
        return LibraryError(f"disk full while writing {path}; previous data kept")
    return LibraryError(f"cannot write {path}: {error.strerror or error}")


def tracks_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows of track metadata as a DataFrame with the tracks table's columns and dtypes."""
    return as_tracks_frame(pd.DataFrame(rows, columns=list(TRACK_COLUMNS)))


def as_tracks_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the tracks table's columns and dtypes.

    A column a table written by an older version lacks (``missing_since``, say) is added empty,
    so an upgrade reads every data folder it finds.
    """
    return frame.reindex(columns=list(TRACK_COLUMNS)).astype(TRACK_COLUMNS)


def _tracks_table(frame: pd.DataFrame) -> pa.Table:
    frame = as_tracks_frame(frame)
    return pa.Table.from_pandas(frame, schema=TRACK_SCHEMA, preserve_index=False)


def _segment_table(block: SegmentBlock, pca: np.ndarray, std_pca: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "track": pa.array(block.track, pa.int32()),
            "offset": pa.array(block.offset, pa.float32()),
            "vector": fixed_size_list(block.vector),
            "pca": fixed_size_list(pca),
            "std_pca": fixed_size_list(std_pca),
        }
    )


@dataclass(frozen=True)
class StagedBatch:
    """A batch of finished tracks written to staging, not yet merged into the tables."""

    sequence: int
    tracks_path: Path
    segments_path: Path


class DataStore:
    """Reads and writes one library's data directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tracks_path = self.root / TRACKS_FILE
        self.segments_dir = self.root / SEGMENTS_DIR
        self.staging_dir = self.root / STAGING_DIR
        self.state_path = self.root / STATE_FILE
        self.lock_path = self.root / LOCK_FILE

    # -- setup -------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the folder and check it is writable, or raise :class:`LibraryError`."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.staging_dir.mkdir(exist_ok=True)
        except OSError as error:
            raise LibraryError(
                f"cannot create data folder {self.root}: {error.strerror}"
            ) from error
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise LibraryError(f"data folder is not writable: {self.root}")

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the data folder's writer lock; refuse when another extraction holds it."""
        import fcntl

        handle = open(self.lock_path, "a+")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise LibraryError(
                    f"another extraction ({holder}) is already writing to {self.root}; "
                    "wait for it to finish or stop it"
                ) from error
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            self.remove_stale_temporaries()
            yield
        finally:
            handle.close()

    def remove_stale_temporaries(self) -> int:
        """Delete half-written files a killed writer left (call with the lock held).

        An atomic write goes to ``.tmp-<uuid>-<name>`` and is renamed when complete; a process
        killed in between leaves the temporary behind, never a damaged table.
        """
        removed = 0
        for path in self.root.rglob(".tmp-*"):
            if path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- state -------------------------------------------------------------------------------
    def read_state(self) -> dict:
        if not self.state_path.exists():
            return {"next_track_id": 0, "version": 0}
        return json.loads(self.state_path.read_text(encoding="utf-8"))

    def write_state(self, state: dict) -> None:
        atomic_write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", self.state_path)

    # -- tracks ------------------------------------------------------------------------------
    def read_tracks(self) -> pd.DataFrame:
        if not self.tracks_path.exists():
            return tracks_frame([])
        return as_tracks_frame(pq.read_table(self.tracks_path).to_pandas())

    def write_tracks(self, frame: pd.DataFrame, version: int | None = None) -> None:
        """Replace the tracks table; ``version``: the merge's (see ``VERSION_METADATA``)."""
        frame = frame.sort_values("track", kind="stable")
        atomic_write_parquet(with_version(_tracks_table(frame), version), self.tracks_path)

    # -- segments ----------------------------------------------------------------------------
    def segment_path(self, model: str, layer: str) -> Path:
        return segment_path(self.root, model, layer)

    def segment_spaces(self) -> list[tuple[str, str]]:
        """The (model, layer) pairs that have a segment table, sorted."""
        return segment_spaces(self.root)

    def read_segments(self, model: str, layer: str) -> SegmentBlock | None:
        path = self.segment_path(model, layer)
        if not path.exists():
            return None
        table = pq.read_table(path, columns=["track", "offset", "vector"])
        return SegmentBlock(
            table.column("track").to_numpy().astype(np.int32),
            table.column("offset").to_numpy().astype(np.float32),
            list_column_to_matrix(table.column("vector")),
        )

    def read_projection_columns(
        self, model: str, layer: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """``track``, ``offset``, ``pca`` and ``std_pca`` of one table, or None if absent."""
        path = self.segment_path(model, layer)
        if not path.exists():
            return None
        table = pq.read_table(path, columns=["track", "offset", "pca", "std_pca"])
        return (
            table.column("track").to_numpy().astype(np.int32),
            table.column("offset").to_numpy().astype(np.float32),
            list_column_to_matrix(table.column("pca")),
            list_column_to_matrix(table.column("std_pca")),
        )

    def segment_tracks(self, model: str, layer: str) -> set[int]:
        """Ids of the tracks present in one (model, layer) table."""
        path = self.segment_path(model, layer)
        if not path.exists():
            return set()
        return set(pq.read_table(path, columns=["track"]).column("track").to_numpy().tolist())

    def write_segments(
        self, model: str, layer: str, block: SegmentBlock, pca: np.ndarray, std_pca: np.ndarray,
        version: int | None = None,
    ) -> None:  # fmt: skip
        """Replace one segment table; ``version``: the merge's (see ``VERSION_METADATA``)."""
        table = with_version(_segment_table(block, pca, std_pca), version)
        atomic_write_parquet(table, self.segment_path(model, layer))

    # -- staging -----------------------------------------------------------------------------
    def staged_batches(self) -> list[StagedBatch]:
        """Complete staged batches in order (the tracks file, written last, marks completeness)."""
        batches = []
        # "[!.]": a temporary (".tmp-…-NNNNNNNN.tracks.parquet", left by a writer killed mid-write)
        # is not a batch; pathlib's "*" alone would match it.
        for tracks_path in self.staging_dir.glob("[!.]*.tracks.parquet"):
            sequence = int(tracks_path.name.split(".")[0])
            segments_path = self.staging_dir / f"{sequence:08d}.segments.parquet"
            batches.append(StagedBatch(sequence, tracks_path, segments_path))
        return sorted(batches, key=lambda b: b.sequence)

    def stage(
        self, tracks: pd.DataFrame, segments: dict[tuple[str, str], SegmentBlock]
    ) -> StagedBatch:
        """Persist a batch of finished tracks so a crash after this point loses none of them."""
        existing = [b.sequence for b in self.staged_batches()]
        existing += [int(p.name.split(".")[0]) for p in self.staging_dir.glob("*.segments.parquet")]
        sequence = max(existing, default=-1) + 1
        batch = StagedBatch(
            sequence,
            self.staging_dir / f"{sequence:08d}.tracks.parquet",
            self.staging_dir / f"{sequence:08d}.segments.parquet",
        )
        parts = []
        for (model, layer), block in sorted(segments.items()):
            n = len(block)
            parts.append(
                pa.table(
                    {
                        "track": pa.array(block.track, pa.int32()),
                        "offset": pa.array(block.offset, pa.float32()),
                        "model": pa.array([model] * n, pa.string()),
                        "layer": pa.array([layer] * n, pa.string()),
                        "vector": pa.array(list(block.vector), pa.list_(pa.float32())),
                    }
                )
            )
        schema = pa.schema(
            [
                ("track", pa.int32()),
                ("offset", pa.float32()),
                ("model", pa.string()),
                ("layer", pa.string()),
                ("vector", pa.list_(pa.float32())),
            ]
        )
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        atomic_write_parquet(table, batch.segments_path)
        atomic_write_parquet(_tracks_table(tracks), batch.tracks_path)
        return batch

    def read_staged(
        self, batches: list[StagedBatch]
    ) -> tuple[pd.DataFrame, dict[tuple[str, str], SegmentBlock]]:
        """Tracks and segments of staged batches; a later batch's rows win for the same track."""
        frames = [pq.read_table(b.tracks_path).to_pandas() for b in batches]
        tracks = (
            as_tracks_frame(pd.concat(frames, ignore_index=True)) if frames else tracks_frame([])
        )
        tracks = tracks.drop_duplicates("track", keep="last")
        segments: dict[tuple[str, str], list[SegmentBlock]] = {}
        for batch in batches:
            table = pq.read_table(batch.segments_path)
            if table.num_rows == 0:
                continue
            frame_keys = pc.unique(
                pc.binary_join_element_wise(table["model"], table["layer"], "\x1f")
            ).to_pylist()
            for key in frame_keys:
                model, layer = key.split("\x1f")
                mask = pc.and_(pc.equal(table["model"], model), pc.equal(table["layer"], layer))
                part = table.filter(mask)
                segments.setdefault((model, layer), []).append(
                    SegmentBlock(
                        part.column("track").to_numpy().astype(np.int32),
                        part.column("offset").to_numpy().astype(np.float32),
                        list_column_to_matrix(part.column("vector")),
                    )
                )
        merged = {}
        for space, blocks in segments.items():
            # A track staged twice (rerun after a crash): keep its last batch only.
            last: dict[int, int] = {}
            for index, block in enumerate(blocks):
                for track in np.unique(block.track):
                    last[int(track)] = index
            kept = [
                block.select(np.array([last[int(t)] == index for t in block.track], dtype=bool))
                for index, block in enumerate(blocks)
            ]
            merged[space] = SegmentBlock.concat(kept)
        return tracks, merged

    def clear_staged(self, batches: list[StagedBatch]) -> None:
        for batch in batches:
            batch.tracks_path.unlink(missing_ok=True)
            batch.segments_path.unlink(missing_ok=True)
        # Orphan segment files of a batch whose tracks file never got written (crash in between).
        committed = {b.sequence for b in self.staged_batches()}
        for path in self.staging_dir.glob("*.segments.parquet"):
            if int(path.name.split(".")[0]) not in committed:
                path.unlink(missing_ok=True)


def read_segment_table(data_dir: Path, columns: list[str] | None = None) -> pa.Table:
    """Every segment table of a data folder as one table (track, offset, model, layer, ...)."""
    import pyarrow.dataset as ds

    segments = Path(data_dir) / SEGMENTS_DIR
    if not segments.is_dir():
        return SEGMENTS_SCHEMA.empty_table()
    dataset = ds.dataset(segments, schema=SEGMENTS_SCHEMA, format="parquet", partitioning="hive")
    return dataset.to_table(columns=columns)
