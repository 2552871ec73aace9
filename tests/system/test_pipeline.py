"""Whole extraction runs on synthesized libraries: real decoding, real networks, real tables.

Most runs use one VGG model (the fastest) to keep the suite quick; one test runs all four.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from extraction.cli import main as extract_main
from extraction.features import SEGMENT_SECONDS
from extraction.pipeline import run_extraction
from extraction.registry import load_registry, resolve_models
from extraction.store import DataStore, read_segment_table
from tests.support.paths import REPO, SMALL_LIBRARY_SCRIPT
from tests.support.synth import write_audio, write_random_bytes, write_truncated

FAST_MODEL = "vgg-mtt"


def specs(names=(FAST_MODEL,)):
    return resolve_models(list(names), load_registry())


def make_library(root: Path) -> dict[str, float]:
    """A small library in several formats; returns path -> seconds."""
    files = {
        "Tagged Artist/Tagged Album/one.flac": 7.0,
        "Tagged Artist/Tagged Album/two.mp3": 3.5,
        "Folder Artist/Folder Album/three.opus": 9.1,
        "Folder Artist/Folder Album/four.ogg": 1.2,
        "loose.wav": 6.0,
        "x/y.m4a": 4.0,
    }
    for relative, seconds in files.items():
        tags = None
        if relative.startswith("Tagged"):
            tags = {
                "artist": "Real Artist",
                "album": "Real Album",
                "title": relative[-8:-4],
                "genre": "Ambient",
                "date": "1999",
                "track": "3",
            }
        write_audio(root / relative, seconds, tags=tags, signal="chirp")
    (root / "Tagged Artist" / "Tagged Album" / "cover.jpg").write_bytes(b"\xff\xd8 not audio")
    return files


def expected_segments(seconds: float) -> int:
    return max(1, int(seconds * 16000) // int(SEGMENT_SECONDS * 16000))


def run(library: Path, data: Path, **options):
    store = DataStore(data)
    store.prepare()
    with store.exclusive():
        return run_extraction(
            library, store, specs(options.pop("models", (FAST_MODEL,))), **options
        )


def test_extract001_segments_offsets_and_tags(tmp_path: Path):
    library = tmp_path / "lib"
    files = make_library(library)
    summary = run(library, tmp_path / "data")
    assert summary.ok == len(files) and not summary.failed
    tracks = DataStore(tmp_path / "data").read_tracks().set_index("path")
    assert set(tracks.index) == set(files)
    tagged = tracks.loc["Tagged Artist/Tagged Album/one.flac"]
    assert (tagged.artist, tagged.album, tagged.genre, tagged.year, tagged.track_number) == (
        "Real Artist",
        "Real Album",
        "Ambient",
        1999,
        3,
    )
    untagged = tracks.loc["Folder Artist/Folder Album/three.opus"]
    assert (untagged.artist, untagged.album, untagged.title) == (
        "Folder Artist",
        "Folder Album",
        "three",
    )
    table = read_segment_table(tmp_path / "data").to_pandas()
    assert set(zip(table.model, table.layer, strict=True)) == {
        (FAST_MODEL, "taggram"),
        (FAST_MODEL, "embedding"),
    }
    for path, seconds in files.items():
        rows = table[(table.track == tracks.loc[path, "track"]) & (table.layer == "taggram")]
        n = expected_segments(seconds)
        assert len(rows) == n, path
        np.testing.assert_allclose(rows.offset, np.arange(n) * SEGMENT_SECONDS, rtol=1e-6)
        assert all(len(v) == 50 for v in rows.vector)
    embedding = table[table.layer == "embedding"]
    assert all(len(v) == 256 for v in embedding.vector)
    assert all(len(v) >= 10 for v in embedding.pca)


def test_extract002_rerun_touches_only_changes(tmp_path: Path):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library)
    run(library, data)
    before = DataStore(data).read_tracks().set_index("path")["track"]

    again = run(library, data)
    assert (again.ok, again.unchanged, again.missing, again.removed) == (0, 6, 0, 0)

    os.remove(library / "loose.wav")
    write_audio(library / "x" / "y.m4a", 7.0, signal="noise")  # changed
    write_audio(library / "new" / "new.flac", 3.1)
    third = run(library, data)
    assert (third.ok, third.unchanged, third.missing, third.removed) == (2, 4, 1, 0)
    after = DataStore(data).read_tracks().set_index("path")["track"]
    # The deleted file's analysis is kept, marked missing (tests/system/test_missing.py).
    assert DataStore(data).read_tracks().set_index("path").loc["loose.wav", "missing_since"] > 0
    for path in after.index.intersection(before.index):
        assert after[path] == before[path]  # stable ids
    assert after["new/new.flac"] > before.max()  # fresh id, never reused
    table = read_segment_table(data, columns=["track", "layer"]).to_pandas()
    counts = table[table.layer == "taggram"].groupby("track").size()
    assert counts[after["x/y.m4a"]] == expected_segments(7.0)
    assert before["loose.wav"] in counts.index  # kept, for when the file returns

    forced = run(library, data, force=True)
    assert forced.ok == 6


def test_extract003_bad_files_get_reasons_and_never_stop_the_run(tmp_path: Path):
    library, data = tmp_path / "lib", tmp_path / "data"
    write_audio(library / "good.flac", 4.0)
    write_audio(tmp_path / "whole.flac", 8.0)
    write_truncated(tmp_path / "whole.flac", library / "cut.flac", 0.5)
    (library / "empty.mp3").write_bytes(b"")
    (library / "text.mp3").write_text("this is not an mp3\n" * 50)
    write_random_bytes(library / "noise.ogg", 5000)
    summary = run(library, data)
    assert summary.ok == 1
    assert set(summary.failed) == {"cut.flac", "empty.mp3", "text.mp3", "noise.ogg"}
    assert all(summary.failed.values())
    tracks = DataStore(data).read_tracks().set_index("path")
    assert tracks.loc["good.flac", "status"] == "ok"
    assert (tracks.drop("good.flac")["status"] == "error").all()
    assert "empty" in tracks.loc["empty.mp3", "error"].lower()
    table = read_segment_table(data, columns=["track"]).to_pandas()
    assert set(table.track) == {tracks.loc["good.flac", "track"]}
    # A failed, unchanged file is not retried.
    assert run(library, data).unchanged == 5


def test_extract004_all_four_models(tmp_path: Path):
    library, data = tmp_path / "lib", tmp_path / "data"
    write_audio(library / "a.wav", 6.5, signal="noise")
    run(library, data, models=("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt"))
    table = read_segment_table(data).to_pandas()
    dims = {
        (m, layer): len(v)
        for m, layer, v in zip(table.model, table.layer, table.vector, strict=True)
    }
    assert dims == {
        ("musicnn-msd", "taggram"): 50,
        ("musicnn-msd", "embedding"): 200,
        ("musicnn-mtt", "taggram"): 50,
        ("musicnn-mtt", "embedding"): 200,
        ("vgg-msd", "taggram"): 50,
        ("vgg-msd", "embedding"): 256,
        ("vgg-mtt", "taggram"): 50,
        ("vgg-mtt", "embedding"): 256,
    }
    assert len(table) == 8 * 2


KILLABLE_RUN = """
import sys
from pathlib import Path
from extraction.pipeline import run_extraction
from extraction.registry import load_registry, resolve_models
from extraction.store import DataStore
store = DataStore(Path(sys.argv[2])); store.prepare()
with store.exclusive():
    run_extraction(Path(sys.argv[1]), store, resolve_models([sys.argv[3]], load_registry()),
                   stage_every_tracks=1, merge_every_seconds=None)
"""


def assert_same_up_to_sign(got: np.ndarray, want: np.ndarray, atol: float) -> None:
    """PCA columns equal, each axis possibly mirrored (orientation follows a table's history)."""
    for axis in range(want.shape[1]):
        if np.allclose(got[:, axis], want[:, axis], atol=atol):
            continue
        np.testing.assert_allclose(-got[:, axis], want[:, axis], atol=atol)


def test_extract005_killed_run_resumes_without_redoing_finished_tracks(tmp_path: Path):
    library, data, reference = tmp_path / "lib", tmp_path / "data", tmp_path / "reference"
    for i in range(8):
        write_audio(library / f"t{i}.wav", 6.0 + i, signal="chirp", seed=i)
    run(library, reference)

    process = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_RUN, str(library), str(data), FAST_MODEL], cwd=REPO
    )
    deadline = time.monotonic() + 120
    while not list((data / "staging").glob("[!.]*.tracks.parquet")):  # a whole batch
        assert process.poll() is None, "extraction ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    store = DataStore(data)
    staged = len(store.read_staged(store.staged_batches())[0])
    assert 1 <= staged < 8

    resumed = run(library, data)
    assert resumed.ok == 8 - staged  # finished tracks were not extracted again
    got = read_segment_table(data).to_pandas().sort_values(["layer", "track", "offset"])
    want = read_segment_table(reference).to_pandas().sort_values(["layer", "track", "offset"])
    assert (
        got[["track", "offset", "layer"]].values.tolist()
        == want[["track", "offset", "layer"]].values.tolist()
    )
    for layer in ("taggram", "embedding"):
        mine, theirs = got[got.layer == layer], want[want.layer == layer]
        np.testing.assert_allclose(np.stack(mine.vector), np.stack(theirs.vector), atol=1e-5)
        assert_same_up_to_sign(np.stack(mine.pca), np.stack(theirs.pca), atol=1e-3)


def test_cli001_fatal_problems_exit_2_with_one_line(tmp_path: Path, capsys):
    assert extract_main(["--library", str(tmp_path / "missing")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "not found" in error
    (tmp_path / "lib").mkdir()
    assert extract_main(["--library", str(tmp_path / "lib"), "--models", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert extract_main(["--library", str(tmp_path / "lib"), "--data", str(blocker / "d")]) == 2
    assert "data folder" in capsys.readouterr().err


def test_cli002_summary_and_exit_0_with_failures(tmp_path: Path, capsys):
    library = tmp_path / "lib"
    write_audio(library / "ok.wav", 3.5)
    (library / "bad.mp3").write_bytes(b"")
    code = extract_main(
        [
            "--library",
            str(library),
            "--data",
            str(tmp_path / "d"),
            "--models",
            FAST_MODEL,
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "ok: 1" in out and "failed: 1" in out and "failed bad.mp3:" in out
    assert "realtime factor" in out




@pytest.mark.slow
def test_slow001_cli_on_the_small_shared_library(tmp_path: Path):
    if not SMALL_LIBRARY_SCRIPT.exists():
        pytest.skip(f"{SMALL_LIBRARY_SCRIPT} not available")
    made = subprocess.run(
        ["bash", str(SMALL_LIBRARY_SCRIPT), "--small"], capture_output=True, text=True, timeout=900
    )
    assert made.returncode == 0, made.stderr
    library = Path(made.stdout.strip().splitlines()[-1])
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=3000,
    )
    assert done.returncode == 0, done.stderr
    assert "failed: 0" in done.stdout
    tracks = DataStore(data).read_tracks()
    assert len(tracks) >= 10 and (tracks.status == "ok").all()
    table = read_segment_table(data, columns=["track", "model", "layer"]).to_pandas()
    assert table.groupby(["model", "layer"]).size().nunique() == 1  # same segments everywhere
    assert len(table.groupby(["model", "layer"])) == 8
    assert set(table.track) == set(tracks.track)
