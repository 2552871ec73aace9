"""A library that vanishes never costs its analysis: missing files are kept, marked, off the map,
and back without a new analysis; moved files keep theirs; a library that looks unmounted changes
nothing; only ``--prune`` drops anything (issue 31, part 0)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from explore_dash.data.collection import Collection
from explore_dash.data.progress import extraction_view
from extraction.cli import main as extract_main
from extraction.contract import read_status
from extraction.library import LibraryFile
from extraction.missing import (
    LibraryChanges,
    find_moves,
    reconcile,
    vanished_reason,
)
from extraction.store import DataStore, read_segment_table, tracks_frame
from tests.support.doubles import free_port
from tests.support.paths import LIVE_APP
from tests.support.synth import write_audio
from tests.support.users import as_nobody

FAST_MODEL = "vgg-mtt"
NOW = 1_800_000_000.0


# -- the pure parts -------------------------------------------------------------------------------


def table(rows: list[tuple[int, str, int, int, float | None]]) -> pd.DataFrame:
    """A tracks table of (track, path, size, mtime_ns, missing_since) rows."""
    return tracks_frame(
        [
            {"track": t, "path": p, "size": s, "mtime_ns": m, "status": "ok",
             "missing_since": since}
            for t, p, s, m, since in rows
        ]
    )  # fmt: skip


def test_missing001_a_scan_marks_missing_keeps_the_first_time_and_clears_returned_ones():
    previous = table(
        [
            (0, "a.ogg", 10, 1, None),  # still there
            (1, "b.ogg", 20, 1, None),  # gone now
            (2, "c.ogg", 30, 1, 1000.0),  # gone before, still gone: keeps its first time
            (3, "d.ogg", 40, 1, 2000.0),  # gone before, back now
        ]
    )
    files = [LibraryFile("a.ogg", 10, 1), LibraryFile("d.ogg", 40, 1)]
    changes = reconcile(previous, files, NOW)
    since = changes.tracks.set_index("track")["missing_since"]
    assert np.isnan(since[0]) and since[1] == NOW and since[2] == 1000.0 and np.isnan(since[3])
    assert changes.missing == {1, 2} and changes.newly_missing == {1}
    assert changes.returned == {3} and changes.moved == {} and changes.present_before == 2
    assert changes.changed
    # Nothing new to say: nothing to write.
    assert not reconcile(changes.tracks, files, NOW + 60).changed
    # The input is never modified.
    assert previous["missing_since"].notna().sum() == 2


def test_missing002_a_moved_file_keeps_its_track_only_when_one_candidate_matches_each_way():
    previous = table(
        [
            (0, "old/a.ogg", 10, 111, None),  # renamed: same size and mtime
            (1, "old/b.ogg", 20, 222, None),  # two new files alike: ambiguous
            (2, "old/c.ogg", 30, 333, None),  # two missing tracks alike (copies): ambiguous
            (3, "old/c copy.ogg", 30, 333, None),
            (4, "old/d.ogg", 40, 444, None),  # same size, other mtime: another file
        ]
    )
    files = [
        LibraryFile("new/a renamed.ogg", 10, 111),
        LibraryFile("new/b1.ogg", 20, 222),
        LibraryFile("new/b2.ogg", 20, 222),
        LibraryFile("new/c.ogg", 30, 333),
        LibraryFile("new/d.ogg", 40, 999),
    ]
    changes = reconcile(previous, files, NOW)
    assert changes.moved == {0: ("old/a.ogg", "new/a renamed.ogg")}
    assert changes.tracks.set_index("track").loc[0, "path"] == "new/a renamed.ogg"
    assert changes.missing == {1, 2, 3, 4}
    assert np.isnan(changes.tracks.set_index("track").loc[0, "missing_since"])
    # A file at a known path is never taken as a move, even when it matches a missing track.
    assert find_moves(previous[previous.track == 4], [LibraryFile("x.ogg", 40, 999)]) == {}


def test_missing003_an_empty_library_or_a_quarter_gone_at_once_is_refused_in_one_line():
    library = Path("/music")

    def changes(present: int, gone: int) -> LibraryChanges:
        return LibraryChanges(
            tracks_frame([]), frozenset(range(gone)), frozenset(range(gone)), present_before=present
        )

    # Empty folder: refused, even with --prune (pruning against it would drop everything).
    for prune in (False, True):
        reason = vanished_reason(changes(13, 13), 0, library, prune)
        assert reason and "holds no audio files" in reason and "\n" not in reason
    # A quarter is allowed; more is not, unless pruned.
    assert vanished_reason(changes(12, 3), 9, library) is None
    reason = vanished_reason(changes(12, 4), 8, library)
    assert reason and "4 of the 12" in reason and "--prune" in reason and "\n" not in reason
    assert vanished_reason(changes(12, 4), 8, library, prune=True) is None
    # Only newly missing tracks count: those gone before were already said.
    assert vanished_reason(changes(12, 0), 8, library) is None


def test_missing004_tables_of_an_older_version_without_the_column_are_read(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = DataStore(tmp_path)
    old = pa.table({"track": pa.array([0], pa.int32()), "path": ["a.ogg"], "size": [1],
                    "mtime_ns": [1], "status": ["ok"]})  # fmt: skip
    pq.write_table(old, store.tracks_path)
    tracks = store.read_tracks()
    assert tracks["path"].tolist() == ["a.ogg"] and tracks["missing_since"].isna().all()


# -- whole runs, real networks --------------------------------------------------------------------


def make_library(root: Path, count: int = 6) -> None:
    for index in range(count):
        write_audio(root / f"Artist {index % 2}" / f"{index:02d} song.ogg", 3.5 + index % 3,
                    signal="chirp" if index % 2 else "tone", seed=index)  # fmt: skip


def extract(library: Path, data: Path, *extra: str) -> int:
    arguments = ["--library", str(library), "--data", str(data), "--models", FAST_MODEL]
    return extract_main([*arguments, "--quiet", "--workers", "1", *extra])


def table_bytes(data: Path) -> dict[str, str]:
    """Digest of every table and of state.json: what must not change."""
    files = [data / "tracks.parquet", data / "state.json", *sorted((data / "segments").rglob("*"))]
    return {
        str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in files
        if path.is_file()
    }


def unmount(library: Path) -> Path:
    """The library's files moved aside, an empty folder in their place (a share not mounted)."""
    aside = library.with_name(library.name + "-aside")
    library.rename(aside)
    library.mkdir()
    return aside


def mount(library: Path, aside: Path) -> None:
    library.rmdir()
    aside.rename(library)


def test_missing005_an_unmounted_library_changes_nothing_and_its_return_redoes_nothing(
    tmp_path: Path, capsys
):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library)
    assert extract(library, data) == 0
    before = table_bytes(data)
    capsys.readouterr()

    aside = unmount(library)
    assert extract(library, data) == 2
    output = capsys.readouterr()
    assert output.err.count("\n") == 1, output.err  # one line
    assert "holds no audio files" in output.err and "Traceback" not in output.err
    assert table_bytes(data) == before
    status = read_status(data)
    assert status.phase == "refused" and "holds no audio files" in status.error
    assert extraction_view(status, alive=False).text.startswith("Library not updated: ")

    mount(library, aside)
    assert extract(library, data) == 0
    assert "ok: 0   failed: 0   unchanged: 6   missing: 0" in capsys.readouterr().out
    assert table_bytes(data) == before


def test_missing006_a_missing_file_is_kept_off_the_map_and_back_without_a_new_analysis(
    tmp_path: Path, capsys
):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library)
    assert extract(library, data) == 0
    store = DataStore(data)
    tracks_before = store.read_tracks()
    segments_before = read_segment_table(data, ["track", "offset", "vector"]).to_pandas()
    gone = "Artist 1/03 song.ogg"
    track = int(tracks_before.set_index("path").loc[gone, "track"])
    aside = tmp_path / "aside.ogg"
    shutil.move(library / gone, aside)

    capsys.readouterr()
    assert extract(library, data) == 0
    assert "missing: 1" in capsys.readouterr().out
    marked = store.read_tracks().set_index("track")
    assert marked.loc[track, "missing_since"] > 0
    assert marked["missing_since"].notna().sum() == 1
    # Its segments are all still there; the app leaves the track off the map.
    segments = read_segment_table(data, ["track", "offset", "vector"]).to_pandas()
    assert (segments.track == track).sum() == (segments_before.track == track).sum() > 0
    collection = Collection.load(data)
    assert track not in collection.tracks.index and len(collection.tracks) == 5
    space = collection.space(FAST_MODEL, "embedding")
    assert len(space) > 0 and track not in set(space.track.tolist())
    assert read_status(data).tracks_missing == 1

    shutil.move(aside, library / gone)
    assert extract(library, data) == 0
    assert "ok: 0   failed: 0   unchanged: 6   missing: 0" in capsys.readouterr().out
    pd.testing.assert_frame_equal(store.read_tracks(), tracks_before)
    segments = read_segment_table(data, ["track", "offset", "vector"]).to_pandas()
    pd.testing.assert_frame_equal(segments, segments_before)
    assert track in Collection.load(data).tracks.index


def test_missing007_a_moved_or_renamed_file_keeps_its_track_and_analysis(tmp_path: Path, capsys):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library)
    assert extract(library, data) == 0
    store = DataStore(data)
    track = int(store.read_tracks().set_index("path").loc["Artist 0/00 song.ogg", "track"])
    (library / "Elsewhere").mkdir()
    os.rename(library / "Artist 0" / "00 song.ogg", library / "Elsewhere" / "renamed.ogg")

    capsys.readouterr()
    assert extract(library, data) == 0
    output = capsys.readouterr().out
    assert "ok: 0   failed: 0   unchanged: 6   missing: 0   moved: 1" in output
    tracks = store.read_tracks().set_index("path")
    assert int(tracks.loc["Elsewhere/renamed.ogg", "track"]) == track
    assert "Artist 0/00 song.ogg" not in tracks.index
    assert Collection.load(data).tracks.loc[track, "path"] == "Elsewhere/renamed.ogg"


def test_missing008_most_of_a_library_gone_is_refused_and_prune_drops_it_for_good(
    tmp_path: Path, capsys
):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library, 8)
    assert extract(library, data) == 0
    before = table_bytes(data)
    shutil.rmtree(library / "Artist 1")  # 4 of 8: a subfolder on a share that is not there
    capsys.readouterr()
    assert extract(library, data) == 2
    err = capsys.readouterr().err
    assert "4 of the 8 analysed tracks are missing" in err and "--prune" in err
    assert table_bytes(data) == before

    assert extract(library, data, "--prune") == 0
    assert "missing: 0   moved: 0   removed: 4" in capsys.readouterr().out
    tracks = DataStore(data).read_tracks()
    assert len(tracks) == 4 and tracks["missing_since"].isna().all()
    kept = set(tracks["track"].astype(int))
    assert set(read_segment_table(data, ["track"]).column("track").to_pylist()) == kept


def test_missing009_an_unreadable_library_folder_changes_nothing(tmp_path: Path, capsys):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library, 3)
    assert extract(library, data) == 0
    before = table_bytes(data)
    os.chmod(library, 0)
    try:
        with as_nobody():
            assert extract(library, data) == 2
    finally:
        os.chmod(library, 0o755)
    err = capsys.readouterr().err
    assert "not readable" in err and err.count("\n") == 1 and "Traceback" not in err
    assert table_bytes(data) == before


# -- the app's start ------------------------------------------------------------------------------


def start_app(library: Path, data: Path, port: int) -> subprocess.Popen:
    """The real ``explore_dash`` command, its extraction child the real pipeline with fake
    networks (tests/support/live_app.py)."""
    return subprocess.Popen(
        [sys.executable, str(LIVE_APP), "0", FAST_MODEL,
         "--library", str(library), "--data", str(data), "--port", str(port),
         "--no-maps-ahead"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def run_app_until(library: Path, data: Path, phase: str, after: float) -> str:
    """Start the app, wait for its extraction to end in ``phase``, stop it; its output."""
    import urllib.request

    port = free_port()
    app = start_app(library, data, port)
    try:
        deadline = time.monotonic() + 120
        while True:
            status = read_status(data)
            if status is not None and status.updated > after and status.phase == phase:
                break
            assert app.poll() is None, app.stdout.read().decode()
            assert time.monotonic() < deadline, f"no {phase!r} phase: {status}"
            time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=30) as page:
            assert page.status == 200  # still serving what it has
        app.send_signal(signal.SIGINT)
        output = app.communicate(timeout=60)[0].decode()
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0 and "Traceback" not in output, output
    return output


def test_missing010_the_app_started_on_an_unmounted_library_keeps_and_serves_the_analysis(
    tmp_path: Path,
):
    library, data = tmp_path / "lib", tmp_path / "data"
    make_library(library, 5)
    run_app_until(library, data, "done", after=0)
    before = table_bytes(data)
    assert len(Collection.load(data).tracks) == 5

    aside = unmount(library)
    run_app_until(library, data, "refused", after=time.time())
    assert table_bytes(data) == before
    assert len(Collection.load(data).tracks) == 5
    assert "holds no audio files" in extraction_view(read_status(data), alive=False).text

    mount(library, aside)
    output = run_app_until(library, data, "done", after=time.time())
    assert "ok: 0 " in output and "unchanged: 5" in output  # nothing analysed again
    assert table_bytes(data) == before


def test_missing011_the_app_serves_the_analysis_of_a_library_folder_that_is_not_there(
    tmp_path: Path,
):
    library, data = tmp_path / "mnt" / "music", tmp_path / "data"
    make_library(library, 3)
    run_app_until(library, data, "done", after=0)
    before = table_bytes(data)
    aside = tmp_path / "aside"
    library.rename(aside)  # the mount point itself is gone

    output = run_app_until(library, data, "refused", after=time.time())
    assert "music library not found" in output and "serving its analysis" in output
    assert table_bytes(data) == before
    text = extraction_view(read_status(data), alive=False).text
    assert text == f"Library not updated: music library not found: {library}"

    # Never analysed: still the one-line error of a mistyped path (tests/system/test_cli.py).
    result = subprocess.run(
        [sys.executable, "-m", "explore_dash", "--library", str(library), "--data",
         str(tmp_path / "other"), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "music library not found" in result.stderr
