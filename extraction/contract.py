"""The data folder's contract: what each of its files means; ``extraction`` writes, the app reads.

Both halves import this module, and only it, to agree on the data folder: file and folder
names, table schemas and column names, track statuses, model and layer names, a model's
record (its ``.json``: the registry validates it whole, the app reads its labels), the segment
length, the PCA width, the one segment-id scheme, list-column reading, ``state.json``'s
version, ``progress.json``'s fields, and how undecodable file-name bytes are stored. It needs
numpy and pyarrow only, so importing it never loads the extraction's pipeline, Essentia or
TensorFlow. The layout is documented in docs/architecture.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

# -- files ----------------------------------------------------------------------------------------

TRACKS_FILE = "tracks.parquet"
STATE_FILE = "state.json"
#: ``segments/model=<model>/layer=<layer>/part-0.parquet``: one table per (model, layer).
SEGMENTS_DIR = "segments"
SEGMENT_FILE = "part-0.parquet"
STAGING_DIR = "staging"
LOCK_FILE = ".lock"
#: The running (or last) extraction's progress, polled by the page.
PROGRESS_FILE = "progress.json"
#: Derived data (maps, compiled code, job state): safe to delete.
CACHE_DIR = "cache"
PLAYLISTS_DIR = "playlists"
#: The app's secret for its access cookies (explore_dash/server/access.py), readable by the owner
#: only.
ACCESS_KEY_FILE = "access.key"


def segment_path(data_dir: Path, model: str, layer: str) -> Path:
    """The segment table of one (model, layer) in ``data_dir``."""
    return Path(data_dir) / SEGMENTS_DIR / f"model={model}" / f"layer={layer}" / SEGMENT_FILE


def segment_spaces(data_dir: Path) -> list[tuple[str, str]]:
    """The (model, layer) pairs that have a segment table in ``data_dir``, sorted."""
    found = []
    for path in (Path(data_dir) / SEGMENTS_DIR).glob(f"model=*/layer=*/{SEGMENT_FILE}"):
        model = path.parent.parent.name.removeprefix("model=")
        found.append((model, path.parent.name.removeprefix("layer=")))
    return sorted(found)


def default_data_dir(library: Path) -> Path:
    """Per-library data folder under the user's data directory.

    ``$XDG_DATA_HOME/explore-dash/<library name>-<hash>`` on Linux (``~/.local/share`` by
    default), ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%`` on Windows. The
    hash of the absolute library path keeps two libraries with the same folder name apart.
    """
    library = Path(library).expanduser().resolve()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    digest = hashlib.sha256(str(library).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in library.name) or "library"
    return base / "explore-dash" / f"{name}-{digest}"


# -- models, layers, segments ---------------------------------------------------------------------

#: The shipped models, ``<architecture>-<dataset>``; user model folders may add more.
MODELS = ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt")
LAYER_TAGGRAM = "taggram"
LAYER_EMBEDDING = "embedding"
LAYERS = (LAYER_TAGGRAM, LAYER_EMBEDDING)

#: Length of one segment, and the step between segment starts: one network input patch of 187
#: mel frames × hop 256 at 16 kHz (the extraction's features module checks it derives the same).
SEGMENT_SECONDS = 187 * 256 / 16000
#: Width of the stored ``pca`` and ``std_pca`` columns (fewer for tiny collections).
PCA_COMPONENTS = 32

# -- tracks table ---------------------------------------------------------------------------------

STATUS_OK = "ok"
STATUS_ERROR = "error"

#: ``tracks.parquet`` columns as pandas dtypes (nullable where a tag may be missing).
TRACK_COLUMNS: dict[str, str] = {
    "track": "int32",
    "path": "string",
    "size": "int64",
    "mtime_ns": "int64",
    "duration": "float64",
    "artist": "string",
    "album": "string",
    "title": "string",
    "genre": "string",
    "year": "Int32",
    "track_number": "Int32",
    "status": "string",
    "error": "string",
    "missing_since": "float64",
}
TRACK_SCHEMA = pa.schema(
    [
        ("track", pa.int32()),
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("duration", pa.float64()),
        ("artist", pa.string()),
        ("album", pa.string()),
        ("title", pa.string()),
        ("genre", pa.string()),
        ("year", pa.int32()),
        ("track_number", pa.int32()),
        ("status", pa.string()),
        ("error", pa.string()),
        # Unix time the file was first found missing from the library; null while it is
        # there. A missing track keeps its rows and segments, off the map, until it returns
        # (extraction/missing.py). Tables written before this column existed lack it.
        ("missing_since", pa.float64()),
    ]
)

# -- segment tables -------------------------------------------------------------------------------

#: The segment folder read as one table. Each file stores fixed-size lists (their width differs
#: per model and layer), so reading across files needs this schema with variable-size lists.
SEGMENTS_SCHEMA = pa.schema(
    [
        ("track", pa.int32()),
        ("offset", pa.float32()),
        ("vector", pa.list_(pa.float32())),
        ("pca", pa.list_(pa.float32())),
        ("std_pca", pa.list_(pa.float32())),
        ("model", pa.string()),
        ("layer", pa.string()),
    ]
)


class ContractError(ValueError):
    """A file of the data folder does not have the shape this contract gives it."""


def list_column_to_matrix(
    column: pa.ChunkedArray | pa.Array, n_dims: int | None = None
) -> np.ndarray:
    """An Arrow (fixed-size) list column of floats as a float32 matrix, shape (n_rows, n_dims).

    Raises
    ------
    ContractError
        When the column is not a list column, or its rows have different lengths.
    """
    if not (pa.types.is_fixed_size_list(column.type) or pa.types.is_list(column.type)):
        raise ContractError(f"expected a list column, got {column.type}")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    n_rows = len(column)
    if n_dims is None and pa.types.is_fixed_size_list(column.type):
        n_dims = column.type.list_size
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    if n_dims is None:
        n_dims = len(flat) // n_rows if n_rows else 0
    if len(flat) != n_rows * n_dims:
        raise ContractError("list column rows have different lengths")
    return flat.reshape(n_rows, n_dims)


# -- model records --------------------------------------------------------------------------------

#: The shipped models: a ``<name>.json`` record (layers, labels, provenance) beside each frozen
#: ``<name>.pb`` graph. The extraction's registry validates the records whole
#: (``extraction/registry.py``); the app reads their labels, for a track's auto-tags.
DEFAULT_MODELS_DIR = Path(__file__).resolve().parent / "models"


def model_records(models_dir: Path) -> list[Path]:
    """The model records (``*.json``) of a models folder, sorted by name."""
    return sorted(Path(models_dir).glob("*.json"))


def read_model_record(json_path: Path) -> dict[str, Any]:
    """One model's ``<name>.json``, parsed.

    Raises
    ------
    ContractError
        When the file cannot be read, is not JSON, or does not hold a JSON object.
    """
    try:
        record = json.loads(Path(json_path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ContractError(f"cannot read model metadata {json_path}: {error}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ContractError(f"{json_path} is not valid JSON: {error}") from error
    if not isinstance(record, dict):
        raise ContractError(f"{json_path}: expected a JSON object, got {type(record).__name__}")
    return record


def record_labels(record: Mapping[str, Any], source: Path) -> tuple[str, ...]:
    """The name of each taggram column, from a model's record (``source`` names it in errors).

    Raises
    ------
    ContractError
        When the record has no ``labels`` list, or one that is not all strings.
    """
    if "labels" not in record:
        raise ContractError(f"{source}: missing field 'labels'")
    labels = record["labels"]
    if not isinstance(labels, list):
        raise ContractError(f"{source}: field 'labels' should be list, got {type(labels).__name__}")
    if not all(isinstance(label, str) for label in labels):
        raise ContractError(f"{source}: labels should all be strings")
    return tuple(labels)


# -- segment ids ----------------------------------------------------------------------------------

#: Segment ids are ``track * SEGMENT_ID_STRIDE + segment index``, the same in every space. 2**16
#: segments is 54 hours per track; the largest id (int32 track) stays below 2**53, so ids survive
#: a trip through JSON and JavaScript numbers.
SEGMENT_ID_STRIDE = 65536


def segment_id(track: int, offset: float) -> int:
    """Id of the segment of ``track`` starting at ``offset`` seconds."""
    return int(track) * SEGMENT_ID_STRIDE + round(float(offset) / SEGMENT_SECONDS)


def segment_ids(track: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Vectorized :func:`segment_id`.

    Parameters
    ----------
    track : np.ndarray, shape (n,), integer
    offset : np.ndarray, shape (n,), float
        Segment start in seconds.

    Returns
    -------
    np.ndarray, shape (n,), int64
    """
    index = np.rint(np.asarray(offset, dtype=np.float64) / SEGMENT_SECONDS).astype(np.int64)
    return np.asarray(track, dtype=np.int64) * SEGMENT_ID_STRIDE + index


def segment_track(ids: np.ndarray | int) -> np.ndarray | int:
    """Track id of segment id(s); an int for an int, an int64 array for an array."""
    if np.ndim(ids) == 0:
        return int(ids) // SEGMENT_ID_STRIDE
    return np.asarray(ids, dtype=np.int64) // SEGMENT_ID_STRIDE


def segment_index(ids: np.ndarray | int) -> np.ndarray | int:
    """Position of segment id(s) within their track (0 for the first segment)."""
    if np.ndim(ids) == 0:
        return int(ids) % SEGMENT_ID_STRIDE
    return np.asarray(ids, dtype=np.int64) % SEGMENT_ID_STRIDE


def segment_offset(ids: np.ndarray | int) -> np.ndarray | float:
    """Start in seconds of segment id(s); a float for an int, a float64 array for an array."""
    if np.ndim(ids) == 0:
        return (int(ids) % SEGMENT_ID_STRIDE) * SEGMENT_SECONDS
    return (np.asarray(ids, dtype=np.int64) % SEGMENT_ID_STRIDE) * SEGMENT_SECONDS


# -- state.json -----------------------------------------------------------------------------------


#: Schema metadata of ``tracks.parquet`` and of every segment table: the version (state.json's
#: ``"version"``) of the merge that wrote it. A merge writes the tables first and state.json
#: last, so a reader that finds a table newer than state.json has come upon a merge halfway:
#: it must wait for state.json rather than mix two versions. A table left as it was keeps its
#: older number; tables written before this existed carry none.
VERSION_METADATA = b"explore_dash.version"


def with_version(table: pa.Table, version: int | None) -> pa.Table:
    """``table`` marked as written by the merge making ``version`` (unchanged for None)."""
    if version is None:
        return table
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), VERSION_METADATA: str(int(version)).encode()}
    )


def table_version(schema: pa.Schema) -> int | None:
    """The version a table's schema (from its footer) was written for; None if unmarked."""
    value = (schema.metadata or {}).get(VERSION_METADATA)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_version(data_dir: Path) -> int:
    """The tables' version in ``state.json`` (bumped by every merge); 0 if absent or unreadable."""
    try:
        state = json.loads((Path(data_dir) / STATE_FILE).read_text(encoding="utf-8"))
        return int(state.get("version", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


# -- progress.json --------------------------------------------------------------------------------

#: Phases of a run, in order; "done", "interrupted", "failed" and "refused" are final.
#: "refused": the library looked unmounted or mostly gone, so the run changed nothing.
PHASES = ("scanning", "extracting", "done", "interrupted", "failed", "refused")
FINAL_PHASES = frozenset({"done", "interrupted", "failed", "refused"})


@dataclass
class ExtractionStatus:
    """What ``progress.json`` says about a run (and what the page shows of it).

    Attributes
    ----------
    phase : str
        One of :data:`PHASES`.
    tracks_total, tracks_done, tracks_failed : int
        Tracks to extract in this run (unchanged ones are not counted), finished (ok or failed),
        failed.
    audio_total_seconds, audio_done_seconds : float
        Audio of the tracks to extract, and of those finished.
    eta_seconds : float or None
        Estimated time left, from the audio rate so far; None until a track has finished.
    tracks_missing : int
        Tracks whose files are gone from the library, kept until they return.
    failures : list of [path, reason]
        The most recent failures.
    error : str or None
        Why a ``failed`` run stopped, or why a ``refused`` one changed nothing.
    pid : int
        Process writing the file.
    started, updated : float
        Unix times.
    """

    phase: str = "scanning"
    tracks_total: int = 0
    tracks_done: int = 0
    tracks_failed: int = 0
    audio_total_seconds: float = 0.0
    audio_done_seconds: float = 0.0
    eta_seconds: float | None = None
    tracks_missing: int = 0
    failures: list[list[str]] = field(default_factory=list)
    error: str | None = None
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    @property
    def running(self) -> bool:
        return self.phase not in FINAL_PHASES


def read_status(data_dir: Path) -> ExtractionStatus | None:
    """The last status written to ``data_dir``; None when absent or unreadable."""
    try:
        raw = json.loads((Path(data_dir) / PROGRESS_FILE).read_text(encoding="utf-8"))
        known = {name: raw[name] for name in ExtractionStatus.__dataclass_fields__ if name in raw}
        return ExtractionStatus(**known)
    except (OSError, ValueError, TypeError):
        return None


# -- file names in tracks.parquet -----------------------------------------------------------------

# Bytes of a file name that are not UTF-8 (a Latin-1 name copied from an old disk, say) reach
# Python as lone surrogates U+DC80..U+DCFF (PEP 383), which parquet's UTF-8 strings cannot hold.
# They are stored as the private-use characters U+EF80..U+EFFF instead, one per byte, so the
# stored path is valid text and still names exactly one file (see ``library_file_path``).
_SURROGATE_TO_PRIVATE = {code: code - 0xDC80 + 0xEF80 for code in range(0xDC80, 0xDD00)}
_PRIVATE_TO_SURROGATE = {v: k for k, v in _SURROGATE_TO_PRIVATE.items()}


def stored_path(relative: str) -> str:
    """A relative path as found on disk (``os.fsdecode``) -> its text in ``tracks.parquet``."""
    return relative.translate(_SURROGATE_TO_PRIVATE)


def library_file_path(root: Path, stored: str) -> Path:
    """The file a ``tracks.parquet`` path names below ``root`` (inverse of :func:`stored_path`).

    A real name using those private-use characters (nobody's, in practice) is still found: the
    literal name is tried when the byte-mapped one does not exist.
    """
    on_disk = stored.translate(_PRIVATE_TO_SURROGATE)
    if on_disk != stored and not os.path.lexists(Path(root) / on_disk):
        return Path(root) / stored
    return Path(root) / on_disk


def readable_path(stored: str) -> str:
    """A stored path for people: undecodable bytes shown as U+FFFD."""
    return stored.translate(dict.fromkeys(_PRIVATE_TO_SURROGATE, 0xFFFD))

