"""Extraction on a Dask cluster (a 2-worker LocalCluster): the tables of a local run, even when a
worker dies mid-run."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from extraction import cli
from extraction.cluster import LOCAL, close, connect
from extraction.pipeline import run_extraction
from extraction.registry import load_registry, resolve_models
from extraction.store import DataStore
from tests.support.synth import write_audio, write_random_bytes

distributed = pytest.importorskip("distributed", reason="pip install '.[test]' brings it")

MODELS = "vgg-mtt,musicnn-msd"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lib")
    write_audio(root / "a" / "long.flac", 40.0, signal="chirp")
    write_audio(root / "a" / "short.ogg", 4.0, signal="noise")
    write_random_bytes(root / "broken.mp3", 4000)
    for number in range(4):
        write_audio(root / "b" / f"tone {number}.wav", 9.0 + number, signal="tone")
    return root


@pytest.fixture(scope="module")
def local_tables(library, tmp_path_factory) -> dict:
    data = tmp_path_factory.mktemp("local")
    cli.run(library, data, MODELS, workers=1, quiet=True)
    return tables(data)


def tables(data: Path) -> dict:
    """Every table of a data folder, as python values (tracks without their mtime)."""
    found = {}
    for path in sorted(data.rglob("*.parquet")):
        if "staging" in path.parts:
            continue
        table = pq.read_table(path).to_pydict()
        found[str(path.relative_to(data))] = table
    return found


def assert_same_tables(ours: dict, reference: dict) -> None:
    assert ours.keys() == reference.keys()
    for name, table in reference.items():
        other = ours[name]
        assert other.keys() == table.keys(), name
        for column, values in table.items():
            if column in ("vector", "pca", "std_pca"):
                # Another process, other inference threads: float rounding only.
                np.testing.assert_allclose(np.array(other[column], np.float32),
                                           np.array(values, np.float32), rtol=1e-4, atol=2e-5,
                                           err_msg=f"{name} {column}")  # fmt: skip
            else:
                assert other[column] == values, f"{name} {column}"


def test_cluster001_a_local_cluster_gives_the_tables_of_a_local_run(library, local_tables,
                                                                     tmp_path):  # fmt: skip
    summary = cli.run(library, tmp_path, MODELS, quiet=True, dask=LOCAL)
    assert summary.ok == 6 and list(summary.failed) == ["broken.mp3"]
    assert_same_tables(tables(tmp_path), local_tables)  # ids, offsets, tags, errors included


def test_cluster002_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(
    library, local_tables, tmp_path
):
    client = connect(LOCAL)
    try:
        pids = client.run(os.getpid)
        killed = {}

        def kill_one_busy_worker() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = [address for address, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(1.0)  # mid-track: its networks are loaded and running
                    killed["pid"] = pids[busy[0]]
                    os.kill(killed["pid"], signal.SIGKILL)
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_one_busy_worker)
        killer.start()
        store = DataStore(tmp_path)
        store.prepare()
        with store.exclusive():
            specs = resolve_models(MODELS.split(","), load_registry())
            summary = run_extraction(library, store, specs, cluster=client)
        killer.join()
    finally:
        close(client)
    assert killed, "no worker was ever busy"
    assert summary.ok == 6 and list(summary.failed) == ["broken.mp3"]
    assert_same_tables(tables(tmp_path), local_tables)


def test_cluster003_an_unreachable_scheduler_is_one_clear_error(library, tmp_path):
    with pytest.raises(cli.ExtractionError, match="cannot reach the Dask scheduler"):
        cli.run(library, tmp_path, MODELS, quiet=True, dask="tcp://127.0.0.1:9")
