"""One snapshot per callback: panels drawn while refreshes swap in new versions stay consistent."""

from __future__ import annotations

import base64
import os
import threading
import time
from pathlib import Path

import numpy as np

from explore_dash.callbacks import panels
from explore_dash.config import AppConfig
from explore_dash.data.state import AppState
from explore_dash.maps.settings import PanelSettings
from extraction.contract import segment_track
from tests.support.fake_collection import DEFAULT_TRACKS, write_fake_collection

OK_TRACKS = tuple(t for t in DEFAULT_TRACKS if t.status == "ok")
SPACES = (("musicnn-msd", "embedding"), ("musicnn-msd", "taggram"))
SETTINGS = PanelSettings("musicnn", "msd", "embedding", "pca")
NO_HIGHLIGHT = ([], [], [], [])


def publish(scratch: Path, data_dir: Path) -> None:
    """Move a written version into ``data_dir`` as a merge does: segments, tracks, state last."""
    for table in sorted(scratch.glob("segments/**/*.parquet")):
        target = data_dir / table.relative_to(scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(table, target)
    os.replace(scratch / "tracks.parquet", data_dir / "tracks.parquet")
    os.replace(scratch / "state.json", data_dir / "state.json")


def decoded(array: dict, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=dtype)


def test_snapshot001_panels_drawn_during_refreshes_each_show_one_version(tmp_path: Path):
    first = write_fake_collection(tmp_path / "v1", tracks=OK_TRACKS[-1:], spaces=SPACES, version=1)
    state = AppState.load(AppConfig(first.library, first.data_dir))
    segments_of = {t.track: t.n_segments for t in OK_TRACKS}
    boost_of = {t.track: t.boost for t in OK_TRACKS}  # each track's top-3 taggram labels
    stop = threading.Event()
    problems: list[str] = []
    drawn = [0]

    def extraction() -> None:
        """Tracks added version by version, each sorting before the earlier ones (so every row
        moves), while the app refreshes."""
        for version in range(2, 40):
            scratch = write_fake_collection(
                tmp_path / f"v{version}",
                tracks=OK_TRACKS[-min(1 + version // 8, len(OK_TRACKS)) :],
                spaces=SPACES,
                version=version,
            )
            publish(scratch.data_dir, first.data_dir)
            state.refresh()
        stop.set()

    def panel() -> None:
        while not stop.is_set():
            snapshot = state.snapshot
            figure, count, _, _ = panels.draw_panel(
                snapshot,
                state.cache_dir,
                SETTINGS,
                [],
                [],
                1,
                NO_HIGHLIGHT,
                new_tables=True,
                view=None,
                extraction_running=lambda: True,
            )
            base = figure["data"][0]
            ids = decoded(base["customdata"], "<f8").astype(np.int64)
            tags = decoded(base["meta"]["tags"], np.uint8)
            tracks = set(snapshot.tracks.index)
            expected = sum(segments_of[t] for t in tracks)
            if len(ids) != expected or len(tags) != 3 * len(ids):
                problems.append(f"v{snapshot.version}: {len(ids)} points, {len(tags)} tag codes")
            elif set(segment_track(ids).tolist()) != tracks:
                problems.append(f"v{snapshot.version}: points of other tracks")
            elif any(
                tuple(codes) != boost_of[track]
                for codes, track in zip(tags.reshape(-1, 3), segment_track(ids), strict=True)
            ):
                problems.append(f"v{snapshot.version}: hover tags of other segments")
            elif count != f"{expected:,} segments":
                problems.append(f"v{snapshot.version}: count says {count}")
            drawn[0] += 1
            time.sleep(0.005)  # pacing: leave the writer some of the GIL

    def reporting(work):
        def run() -> None:
            try:
                work()
            except Exception as error:  # a thread's exception would pass unseen
                problems.append(f"{work.__name__}: {error!r}")
                stop.set()

        return run

    workers = [threading.Thread(target=reporting(panel)) for _ in range(3)]
    writer = threading.Thread(target=reporting(extraction))
    for thread in (*workers, writer):
        thread.start()
    for thread in (writer, *workers):
        thread.join(timeout=120)
    assert problems == []
    assert drawn[0] > 10  # the panels really drew while versions changed
    assert state.snapshot.version == 39
