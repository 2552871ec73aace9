"""compute_once: a map computed once under its lock, then read from the cache; the lock let go."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from explore_dash.maps import compute
from explore_dash.maps.cache import cached_map
from explore_dash.maps.compute import compute_once
from explore_dash.maps.locks import map_being_computed
from explore_dash.maps.projection_run import ProjectionCancelled, ProjectionError
from tests.support.maps import computations

KEY = "a-map-key"
SEGMENT_IDS = np.arange(10, 40, dtype=np.int64)
FEATURES = np.random.default_rng(0).normal(size=(len(SEGMENT_IDS), 8)).astype(np.float32)


class FakeProjection:
    """Stands for compute_projection: counts its calls, and can hold them or fail."""

    def __init__(self, error: Exception | None = None, hold: threading.Event | None = None):
        self.error = error
        self.hold = hold
        self.started = threading.Event()
        self.calls: list[tuple[str, int]] = []

    def __call__(self, name, features, *, progress=None, should_stop=None) -> np.ndarray:
        self.calls.append((name, len(features)))
        self.started.set()
        if self.hold is not None:
            assert self.hold.wait(10), "never let go"
        if should_stop is not None and should_stop():
            raise ProjectionCancelled("projection was cancelled")
        if self.error is not None:
            raise self.error
        if progress is not None:
            progress(1.0)
        return np.column_stack([features[:, 0], features[:, 1]]).astype(np.float32)


@pytest.fixture()
def projection(monkeypatch) -> FakeProjection:
    fake = FakeProjection()
    monkeypatch.setattr(compute, "compute_projection", fake)
    return fake


def features_counted(asked: list) -> Callable[[], np.ndarray]:
    def features() -> np.ndarray:
        asked.append(1)
        return FEATURES

    return features


def test_compute001_a_second_call_reads_the_cache_without_computing(tmp_path: Path, projection):
    asked, progress = [], []
    first = compute_once(tmp_path, KEY, "tsne", SEGMENT_IDS, features_counted(asked),
                         progress=progress.append)  # fmt: skip
    assert projection.calls == [("tsne", len(SEGMENT_IDS))] and progress == [1.0]
    assert np.array_equal(cached_map(tmp_path, KEY, SEGMENT_IDS), first)
    second = compute_once(tmp_path, KEY, "tsne", SEGMENT_IDS, features_counted(asked))
    assert np.array_equal(second, first)
    assert len(projection.calls) == 1 and len(asked) == 1  # nor its features asked for again
    assert computations(tmp_path) == 1 and not map_being_computed(tmp_path, KEY)


@pytest.mark.parametrize("waiting", [None, lambda: None], ids=["blocking", "panel"])
def test_compute002_an_error_stores_nothing_and_lets_the_lock_go(tmp_path: Path, monkeypatch,
                                                                 waiting):  # fmt: skip
    monkeypatch.setattr(compute, "compute_projection",
                        FakeProjection(error=ProjectionError("too few points")))  # fmt: skip
    with pytest.raises(ProjectionError, match="too few points"):
        compute_once(tmp_path, KEY, "umap", SEGMENT_IDS, lambda: FEATURES, waiting=waiting)
    assert not map_being_computed(tmp_path, KEY)
    assert cached_map(tmp_path, KEY, SEGMENT_IDS) is None and computations(tmp_path) == 0


def test_compute003_a_cancel_stores_nothing_and_lets_the_lock_go(tmp_path: Path, projection):
    with pytest.raises(ProjectionCancelled):
        compute_once(tmp_path, KEY, "tsne", SEGMENT_IDS, lambda: FEATURES,
                     should_stop=lambda: True)  # fmt: skip
    assert not map_being_computed(tmp_path, KEY)
    assert cached_map(tmp_path, KEY, SEGMENT_IDS) is None
    # And the next caller computes it.
    compute_once(tmp_path, KEY, "tsne", SEGMENT_IDS, lambda: FEATURES)
    assert computations(tmp_path) == 1


def test_compute004_a_real_cancel_lets_the_lock_go(tmp_path: Path):
    """The real projection, stopped by its ``should_stop`` (what stops the maps ahead)."""
    with pytest.raises(ProjectionCancelled):
        compute_once(tmp_path, KEY, "tsne", SEGMENT_IDS, lambda: FEATURES,
                     should_stop=lambda: True)  # fmt: skip
    assert not map_being_computed(tmp_path, KEY) and computations(tmp_path) == 0


def test_compute005_concurrent_callers_compute_once(tmp_path: Path, monkeypatch):
    """A panel (``waiting``) and the maps ahead (blocking) asking while another computes."""
    release = threading.Event()
    fake = FakeProjection(hold=release)
    monkeypatch.setattr(compute, "compute_projection", fake)
    results: dict[str, np.ndarray] = {}
    waited = threading.Event()

    def call(name: str, waiting) -> None:
        results[name] = compute_once(tmp_path, KEY, "tsne", SEGMENT_IDS, lambda: FEATURES,
                                     waiting=waiting)  # fmt: skip

    first = threading.Thread(target=call, args=("first", None))
    first.start()
    assert fake.started.wait(10)
    assert map_being_computed(tmp_path, KEY)
    others = [threading.Thread(target=call, args=("panel", waited.set)),
              threading.Thread(target=call, args=("ahead", None))]  # fmt: skip
    for thread in others:
        thread.start()
    assert waited.wait(10)  # the panel was told it waits
    release.set()
    for thread in (first, *others):
        thread.join(20)
    assert len(fake.calls) == 1 and computations(tmp_path) == 1
    assert sorted(results) == ["ahead", "first", "panel"]
    for xy in results.values():
        assert np.array_equal(xy, results["first"])
    assert not map_being_computed(tmp_path, KEY)
