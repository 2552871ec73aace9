"""Interrupted and refused extractions: SIGKILL at random moments, a second writer, a full disk.

The extraction CLI runs as a subprocess on a small synthesized library (one model, the fastest).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from extraction.errors import LibraryError
from extraction.pipeline import run_extraction
from extraction.registry import load_registry, resolve_models
from extraction.store import DataStore, read_segment_table
from tests.support.paths import REPO
from tests.support.synth import write_audio

FAST_MODEL = "vgg-mtt"
KILLS = 10


def cli(library: Path, data: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "extraction",
        "--library",
        str(library),
        "--data",
        str(data),
        "--models",
        FAST_MODEL,
        "--quiet",
    ]


def make_library(root: Path, n: int = 6, first: int = 0) -> None:
    for i in range(first, first + n):
        folder = root / f"Artist {i % 3}" / f"Album {i % 2}"
        write_audio(folder / f"{i:02d} track.flac", 3.2 + 1.1 * i, signal="chirp", seed=i)


def tables(data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    tracks = DataStore(data).read_tracks().sort_values("track").reset_index(drop=True)
    segments = read_segment_table(data).to_pandas()
    segments = segments.sort_values(["model", "layer", "track", "offset"]).reset_index(drop=True)
    return tracks, segments


def assert_same_tables(data: Path, reference: Path) -> None:
    tracks, segments = tables(data)
    want_tracks, want_segments = tables(reference)
    pd.testing.assert_frame_equal(tracks, want_tracks)  # ids, paths, tags, statuses
    key = ["model", "layer", "track", "offset"]
    pd.testing.assert_frame_equal(segments[key], want_segments[key])
    np.testing.assert_allclose(
        np.concatenate(segments["vector"].to_list()),
        np.concatenate(want_segments["vector"].to_list()),
        atol=1e-5,
    )
    # PCA axes keep the orientation each table had before its refit (so a growing map does not
    # flip): a run with other merge points may end with an axis mirrored, never otherwise changed.
    for (model, layer), rows in segments.groupby(["model", "layer"]).groups.items():
        want_rows = want_segments.groupby(["model", "layer"]).groups[(model, layer)]
        for column in ("pca", "std_pca"):
            got = np.stack(segments.loc[rows, column].to_list())
            want = np.stack(want_segments.loc[want_rows, column].to_list())
            for axis in range(want.shape[1]):
                if not np.allclose(got[:, axis], want[:, axis], atol=1e-3):
                    np.testing.assert_allclose(-got[:, axis], want[:, axis], atol=1e-3)


def assert_readable_and_consistent(data: Path) -> int:
    """What a reader sees after a kill: whole files, and every ok track in every table.

    Merging writes the segment tables before the tracks table, so a track listed as ok always
    has its segments. Returns the number of ok tracks.
    """
    tracks = DataStore(data).read_tracks()
    ok = set(tracks.loc[tracks.status == "ok", "track"].astype(int))
    for path in (data / "segments").glob("model=*/layer=*/part-0.parquet"):
        present = set(pq.read_table(path, columns=["track"]).column("track").to_pylist())
        assert ok <= present, path
    if (data / "state.json").exists():
        DataStore(data).read_state()  # whole JSON
    return len(ok)


def test_interrupt001_sigkill_at_random_moments_then_resume_equals_one_clean_run(tmp_path: Path):
    library, data, reference = tmp_path / "lib", tmp_path / "data", tmp_path / "reference"
    make_library(library, n=4)
    started = time.monotonic()
    clean = subprocess.run(cli(library, reference), cwd=REPO, capture_output=True, text=True)
    clean_seconds = time.monotonic() - started
    assert clean.returncode == 0, clean.stderr

    seed = int(os.environ.get("EXPLORE_DASH_KILL_SEED", "20240607"))
    rng = random.Random(seed)
    kills, finished, ok_seen = 0, 0, []
    while kills < KILLS:
        assert kills + finished < 3 * KILLS, "runs keep finishing before they can be killed"
        # Once a run has finished there is nothing left to do: later victims redo everything
        # (--force), so every kill still lands in real work (and replaces existing rows).
        command = cli(library, data) + (["--force"] if finished else [])
        process = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # Anywhere from start-up to the end of a whole clean run: imports, merge of what the
        # last victim staged, scan, tags, inference, staging, the final merge.
        delay = rng.uniform(0.0, clean_seconds)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            finished += 1
            assert process.returncode == 0, process.stderr.read()
        process.stderr.close()
        ok_seen.append(assert_readable_and_consistent(data))

    resumed = subprocess.run(cli(library, data), cwd=REPO, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    print(
        f"seed {seed}: {kills} kills, {finished} runs finished first, "
        f"ok tracks after each: {ok_seen}; clean run {clean_seconds:.1f} s"
    )
    assert_same_tables(data, reference)
    assert not list((data / "staging").glob("*.parquet"))
    assert not list(data.rglob(".tmp-*"))
    assert not DataStore(data).read_state().get("pending_ids")


def snapshot(data: Path) -> dict[str, bytes]:
    """Every file of a data folder but the lock, by relative path."""
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def test_interrupt002_a_second_extraction_is_refused_and_writes_nothing(tmp_path: Path):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library, n=2)
    store = DataStore(data)
    store.prepare()
    store.write_state({"next_track_id": 0, "version": 0})
    before = snapshot(data)
    with store.exclusive():  # this test process is the running extraction
        second = subprocess.run(cli(library, data), cwd=REPO, capture_output=True, text=True)
    assert second.returncode == 2
    assert "Traceback" not in second.stderr
    message = second.stderr.strip().splitlines()[-1]
    assert "already writing" in message and f"pid {os.getpid()}" in message
    assert snapshot(data) == before


# -- a full disk ---------------------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (needs root, or CAP_SYS_ADMIN)."""
    where.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(folder: Path) -> Path:
    """Use up every free byte of the filesystem holding ``folder``."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (65536, 4096, 512, 1):  # down to the last partial block
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC
    return filler


def test_interrupt003_disk_full_gives_a_clear_error_and_keeps_the_tables(tmp_path: Path):
    library = tmp_path / "lib"
    make_library(library, n=2)
    with small_filesystem(tmp_path / "small", "4m") as small:
        data = small / "data"
        first = subprocess.run(cli(library, data), cwd=REPO, capture_output=True, text=True)
        assert first.returncode == 0, first.stderr
        before = snapshot(data)
        make_library(library, n=2, first=2)
        filler = fill(small)

        full = subprocess.run(cli(library, data), cwd=REPO, capture_output=True, text=True)
        assert full.returncode == 2, full.stderr
        assert "Traceback" not in full.stderr
        message = full.stderr.strip().splitlines()[-1]
        assert message.startswith("explore-dash-extract: error: disk full"), full.stderr
        assert "previous data kept" in message
        after = snapshot(data)
        for name in ("tracks.parquet", "state.json"):
            assert after[name] == before[name]
        for name in before:
            if name.startswith("segments/"):
                assert after[name] == before[name]
        assert not [p for p in data.rglob(".tmp-*")]

        filler.unlink()
        again = subprocess.run(cli(library, data), cwd=REPO, capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        assert "ok: 2" in again.stdout
        assert len(DataStore(data).read_tracks()) == 4


def test_interrupt004_disk_full_at_any_write_of_a_run_keeps_the_tables(tmp_path: Path, monkeypatch):
    """Without a small filesystem: ENOSPC injected at the nth parquet write of a run, for every
    n, so each write (staging, every segment table, tracks) is the one that fails once."""
    import extraction.store

    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library, n=2)
    specs = resolve_models([FAST_MODEL], load_registry())

    def extract() -> None:
        store = DataStore(data)
        store.prepare()
        with store.exclusive():
            run_extraction(library, store, specs, stage_every_tracks=1)

    extract()
    make_library(library, n=2, first=2)
    real_write = extraction.store.pq.write_table
    n_writes = 0

    def counting(*args, **kwargs):
        nonlocal n_writes
        n_writes += 1
        return real_write(*args, **kwargs)

    backup = tmp_path / "backup"
    os.rename(data, backup)
    subprocess.run(["cp", "-a", str(backup), str(data)], check=True)
    monkeypatch.setattr(extraction.store.pq, "write_table", counting)
    extract()  # how many writes a successful second run makes
    monkeypatch.undo()
    assert n_writes >= 4
    subprocess.run(["rm", "-rf", str(data)], check=True)

    for failing in range(1, n_writes + 1):
        scratch = tmp_path / f"run-{uuid.uuid4().hex}"
        subprocess.run(["cp", "-a", str(backup), str(scratch)], check=True)
        calls = [0]

        def full_at_nth(*args, failing=failing, calls=calls, **kwargs):
            calls[0] += 1
            if calls[0] == failing:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(*args, **kwargs)

        monkeypatch.setattr(extraction.store.pq, "write_table", full_at_nth)
        data = scratch
        with pytest.raises(LibraryError, match="disk full"):
            extract()
        monkeypatch.undo()
        # Tables are whole (as before, or fully rewritten) and the tracks done before are kept.
        assert assert_readable_and_consistent(scratch) >= 2
        assert not list(scratch.rglob(".tmp-*"))
        if failing == n_writes // 2:
            extract()  # space again: the run completes
            assert len(DataStore(scratch).read_tracks()) == 4
