"""A synthetic data folder in the documented layout, plus a tiny library of real WAV files.

Lets the app's tests run without extraction: ``tracks.parquet``, one segment table per
(model, layer) with deterministic vectors and PCA columns, and ``state.json``. Each track's
taggram rows are boosted at chosen label indices, so its expected auto-tags are known.
"""

from __future__ import annotations

import json
import math
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from extraction.contract import PCA_COMPONENTS, SEGMENT_SECONDS, TRACK_SCHEMA

N_LABELS = 50
EMBEDDING_DIMS = {"musicnn-msd": 200, "musicnn-mtt": 200, "vgg-msd": 256, "vgg-mtt": 256}
ALL_SPACES = tuple((model, layer) for model in EMBEDDING_DIMS for layer in ("taggram", "embedding"))

# The documented tracks table schema, from the code that writes real ones.
TRACKS_SCHEMA = TRACK_SCHEMA


@dataclass(frozen=True)
class FakeTrack:
    """One track of the fake library.

    ``boost`` are taggram label indices raised for all its segments, strongest first, in both
    label sets: its top-3 auto-tags are those labels.
    """

    track: int
    path: str
    artist: str
    album: str
    title: str
    genre: str | None
    n_segments: int
    boost: tuple[int, int, int] = (0, 1, 2)
    status: str = "ok"

    @property
    def duration(self) -> float:
        return self.n_segments * SEGMENT_SECONDS + 1.0


# Ids have a gap (4, 6) and an error track, so nothing may rely on ids being row numbers.
DEFAULT_TRACKS = (
    FakeTrack(0, "Alpha/First Album/01 Song A.wav", "Alpha", "First Album", "Song A",
              "Rock; Indie", 5, boost=(10, 11, 12)),
    FakeTrack(1, "Alpha/First Album/02 Song B.wav", "Alpha", "First Album", "Song B",
              "Rock", 3, boost=(20, 21, 22)),
    FakeTrack(2, "Beta/Second/01 Étude.wav", "Beta", "Second", "Étude",
              "Classical/Piano", 7, boost=(30, 31, 32)),
    FakeTrack(3, "Broken/bad.wav", "Broken", "Broken", "bad", None, 0, status="error"),
    FakeTrack(5, "Gamma/Live/01 Crowd.wav", "Gamma", "Live", "Crowd", "", 1, boost=(40, 41, 42)),
    FakeTrack(7, "Delta/Greatest Hits/01 Hit.wav", "Delta", "Greatest Hits", "Hit",
              "Pop, Dance", 4, boost=(10, 20, 30)),
)  # fmt: skip


@dataclass(frozen=True)
class FakeCollection:
    data_dir: Path
    library: Path
    tracks: tuple[FakeTrack, ...]

    def ok_tracks(self) -> tuple[FakeTrack, ...]:
        return tuple(t for t in self.tracks if t.status == "ok")

    def by_id(self, track: int) -> FakeTrack:
        return next(t for t in self.tracks if t.track == track)


def write_wav(
    path: Path, seconds: float = 0.25, sample_rate: int = 8000, hz: float = 440.0
) -> None:
    """A real 16-bit mono PCM WAV file with a sine tone (0.25 s: about 4 kB)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(seconds * sample_rate)
    samples = (int(12000 * math.sin(2 * math.pi * hz * i / sample_rate)) for i in range(n))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))


def write_tracks_table(data_dir: Path, rows: list[dict]) -> None:
    """``tracks.parquet`` from row dicts (missing columns are null; status defaults to ok)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    columns = {name: [row.get(name) for row in rows] for name in TRACKS_SCHEMA.names}
    columns["status"] = [row.get("status", "ok") for row in rows]
    pq.write_table(pa.table(columns, schema=TRACKS_SCHEMA), data_dir / "tracks.parquet")


def write_state(data_dir: Path, version: int, next_track_id: int = 0) -> None:
    state = {"next_track_id": next_track_id, "version": version}
    (data_dir / "state.json").write_text(json.dumps(state), encoding="utf-8")


def _fixed_size_list(matrix: np.ndarray) -> pa.FixedSizeListArray:
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def segment_rows(tracks: tuple[FakeTrack, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(track int32, offset float32) of the ok tracks' segments, sorted by (track, offset)."""
    ok = sorted((t for t in tracks if t.status == "ok"), key=lambda t: t.track)
    track = np.array([t.track for t in ok for _ in range(t.n_segments)], np.int32)
    offset = np.array([i * SEGMENT_SECONDS for t in ok for i in range(t.n_segments)], np.float32)
    return track, offset


def write_segment_table(
    data_dir: Path, model: str, layer: str, tracks: tuple[FakeTrack, ...], seed: int = 0
) -> Path:
    """One ``segments/model=<model>/layer=<layer>/part-0.parquet`` for ``tracks``."""
    rng = np.random.default_rng(seed)
    track, offset = segment_rows(tracks)
    n = len(track)
    if layer == "taggram":
        vector = rng.uniform(0.0, 0.2, size=(n, N_LABELS))
        boosts = {t.track: t.boost for t in tracks}
        for row, track_id in enumerate(track):
            for strength, label in zip((0.9, 0.8, 0.7), boosts[int(track_id)], strict=True):
                vector[row, label] = strength
    else:
        vector = rng.normal(size=(n, EMBEDDING_DIMS[model]))
    path = data_dir / "segments" / f"model={model}" / f"layer={layer}" / "part-0.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "track": pa.array(track, pa.int32()),
            "offset": pa.array(offset, pa.float32()),
            "vector": _fixed_size_list(vector),
            "pca": _fixed_size_list(rng.normal(size=(n, PCA_COMPONENTS))),
            "std_pca": _fixed_size_list(rng.normal(size=(n, PCA_COMPONENTS))),
        }
    )
    pq.write_table(table, path)
    return path


def write_fake_collection(
    root: Path,
    tracks: tuple[FakeTrack, ...] = DEFAULT_TRACKS,
    spaces: tuple[tuple[str, str], ...] = ALL_SPACES,
    version: int | None = 3,
) -> FakeCollection:
    """``root/library`` with one WAV per track and ``root/data`` holding its tables.

    Parameters
    ----------
    spaces : tuple of (model, layer)
        The segment tables to write.
    version : int or None
        ``state.json``'s version; None writes no ``state.json``.
    """
    library, data_dir = root / "library", root / "data"
    library.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    for number, t in enumerate(tracks):
        write_wav(library / t.path, hz=220.0 * (1 + number))
    write_tracks_table(
        data_dir,
        [
            {
                "track": t.track,
                "path": t.path,
                "size": (library / t.path).stat().st_size,
                "mtime_ns": 0,
                "duration": t.duration,
                "artist": t.artist,
                "album": t.album,
                "title": t.title,
                "genre": t.genre,
                "track_number": 1,
                "status": t.status,
                "error": "cannot decode" if t.status == "error" else None,
            }
            for t in tracks
        ],
    )
    for index, (model, layer) in enumerate(spaces):
        write_segment_table(data_dir, model, layer, tracks, seed=index)
    if version is not None:
        write_state(data_dir, version, max(t.track for t in tracks) + 1)
    return FakeCollection(data_dir, library, tracks)


def make_collection(root: Path, n_segments: int, per_track: int = 100) -> FakeCollection:
    """A large collection of ``n_segments`` segments, ``per_track`` to a track, in three spaces
    (MusiCNN MSD embedding and taggram, MusiCNN MTT taggram): many artists, albums and tags, for
    the benchmarks and for the tests whose maps must take a while to compute."""
    n_tracks = n_segments // per_track
    tracks = tuple(
        FakeTrack(
            t,
            f"Artist {t % 97}/Album {t % 331}/Track {t}.wav",
            f"Artist {t % 97}",
            f"Album {t % 331}",
            f"Track {t}",
            "Electronic" if t % 3 else "Ambient",
            per_track,
            boost=(t % 50, (t + 7) % 50, (t + 13) % 50),
        )
        for t in range(n_tracks)
    )
    spaces = (("musicnn-msd", "embedding"), ("musicnn-msd", "taggram"), ("musicnn-mtt", "taggram"))
    return write_fake_collection(root, tracks, spaces)


def big_collection(root: Path) -> FakeCollection:
    """60 tracks of 100 segments in the MusiCNN MSD spaces: a t-SNE map of them takes long
    enough for a page to show its job's progress, and to cancel it."""
    tracks = tuple(
        FakeTrack(t, f"A{t % 7}/B/{t}.wav", f"A{t % 7}", "B", f"T{t}", "Rock", 100)
        for t in range(60)
    )
    return write_fake_collection(root, tracks, (("musicnn-msd", "embedding"),
                                                ("musicnn-msd", "taggram")))  # fmt: skip
