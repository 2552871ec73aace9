"""The real extraction CLI with the networks replaced by a slow, deterministic fake.

    python tests/support/slow_extractor.py --seconds-per-track 0.5 [--merge-every-seconds 3] \
        --library L --data D [extraction args]

Everything but the networks is real: scanning, planning, staging, merging, PCA, the status file,
the lock, signal handling. Each track gets 3–6 segments of seeded random vectors of the right
width for every requested model and layer, after sleeping ``--seconds-per-track``.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import numpy as np

# Run as a script, so the repository is not on sys.path yet to import tests.support.paths from.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from extraction import pipeline  # noqa: E402
from extraction.contract import STATUS_OK  # noqa: E402
from extraction.features import SEGMENT_SECONDS  # noqa: E402
from extraction.store import SegmentBlock  # noqa: E402
from extraction.task import TrackResult, track_row  # noqa: E402


def fake_segments(track: int, specs) -> dict:
    """Seeded vectors of every requested (model, layer) for one track."""
    n = 3 + track % 4
    rng = np.random.default_rng(track)
    segments = {}
    for spec in specs:
        for layer, layer_spec in spec.layers.items():
            vectors = rng.random(size=(n, layer_spec.dims)).astype(np.float32)
            segments[(spec.name, layer)] = SegmentBlock(
                np.full(n, track, np.int32),
                (np.arange(n) * SEGMENT_SECONDS).astype(np.float32),
                vectors,
            )
    return segments


#: "N:PATH": after N tracks, wait until PATH exists (lets a test act at a known point of a run).
GATE_VARIABLE = "EXPLORE_DASH_TEST_GATE"


def _wait_at_gate(done: int) -> None:
    gate = os.environ.get(GATE_VARIABLE)
    if not gate:
        return
    after, path = gate.split(":", 1)
    if done == int(after):
        while not Path(path).exists():
            time.sleep(0.05)


def slow_fake_extract_tracks(seconds_per_track: float):
    def extract_tracks(library, specs, tasks, workers=1, **_inference):
        for done, task in enumerate(tasks):
            _wait_at_gate(done)
            time.sleep(seconds_per_track)
            segments = fake_segments(task.track, specs)
            n_segments = len(next(iter(segments.values())))
            duration = task.tags.get("duration") or n_segments * SEGMENT_SECONDS
            yield TrackResult(track_row(task, STATUS_OK, None, duration), segments, duration)

    return extract_tracks


def main(argv: list[str]) -> int:
    seconds = 0.0
    if argv[:1] == ["--seconds-per-track"]:
        seconds, argv = float(argv[1]), argv[2:]
    pipeline.extract_tracks = slow_fake_extract_tracks(seconds)
    # The tests' tracks last a fraction of a second: the first map comes after the first one.
    pipeline.FIRST_MAP_SECONDS = 0.0
    from extraction import cli
    from extraction.cli import main as extraction_main

    if argv[:1] == ["--merge-every-seconds"]:
        # Merges as often as asked (the CLI's 30 s would leave a minute's load with two).
        every, argv = float(argv[1]), argv[2:]
        cli.run_extraction = functools.partial(pipeline.run_extraction, merge_every_seconds=every)

    return extraction_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
