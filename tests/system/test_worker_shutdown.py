"""The real extraction with worker processes stops promptly and leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from explore_dash.data.progress import process_alive
from extraction.contract import read_status
from tests.support.paths import REPO
from tests.support.synth import write_audio
from tests.support.tables import assert_consistent


def children_of(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def start_extraction(library: Path, data: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data)]
    command += ["--models", "musicnn-msd,vgg-mtt", "--workers", "2", "--quiet"]
    return subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE)


def wait_for_workers(process: subprocess.Popen, data: Path, timeout: float = 120) -> set[int]:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, process.stderr.read().decode()
        status = read_status(data)
        workers = children_of(process.pid)
        if status is not None and status.phase == "extracting" and len(workers) >= 2:
            return workers
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)


def make_library(root: Path) -> Path:
    for i in range(6):
        write_audio(root / f"t{i}.wav", 120.0, signal="chirp", seed=i)
    return root


def test_workers001_sigint_stops_the_pool_at_once_with_consistent_tables(tmp_path: Path):
    library, data = make_library(tmp_path / "lib"), tmp_path / "data"
    process = start_extraction(library, data)
    workers = wait_for_workers(process, data)
    time.sleep(1.0)  # batches in the workers' hands
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)  # not after every batch already handed out
    assert process.returncode == 130, stderr
    deadline = time.monotonic() + 10
    while any(process_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "workers outlived the interrupted run"
        time.sleep(0.1)
    assert read_status(data).phase == "interrupted"
    assert_consistent(data)


# A pool worker's start: the initializer, told its parent's pid, then work (a sleep).
WORKER_START = """
import sys, time
from extraction.pool import _init_worker
_init_worker(int(sys.argv[1]), [], 1, 1)
time.sleep(float(sys.argv[2]))
"""


def test_workers002_a_worker_whose_parent_died_while_it_started_exits():
    # The parent was killed while the worker was importing: by the time the worker watches for
    # it, its parent is init (or a subreaper), not the pid it was given.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = subprocess.run(
        [sys.executable, "-c", WORKER_START, str(gone.pid), "30"], cwd=REPO, timeout=20
    )
    assert orphan.returncode == 1
    # With its real parent alive it works on (and ends normally).
    kept = subprocess.run(
        [sys.executable, "-c", WORKER_START, str(os.getpid()), "1"], cwd=REPO, timeout=20
    )
    assert kept.returncode == 0


# A parent that starts a child which dies with it (or not), prints the child's pid, and waits;
# the child says when it is ready, on the same output.
PARENT = """
import subprocess, sys, time
child = ("import time; from extraction.signals import die_with_parent; "
         + ("die_with_parent(); " if sys.argv[1] == "die" else "")
         + "print('ready', flush=True); time.sleep(60)")
print(subprocess.Popen([sys.executable, "-c", child]).pid, flush=True)
time.sleep(60)
"""


def process_gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie not yet reaped by its new parent counts as gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text[text.rfind(")") + 2] in "ZX"


def test_workers003_a_child_that_asked_to_die_with_its_parent_does():
    """die_with_parent (extraction/signals.py): the pool's workers and the maps ahead use it."""
    survivors = []
    for mode in ("die", "live"):
        parent = subprocess.Popen([sys.executable, "-c", PARENT, mode], cwd=REPO,
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "ready"
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while not process_gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not process_gone(child):
            survivors.append(mode)
            os.kill(child, signal.SIGKILL)
    assert survivors == ["live"]  # only the one that did not ask outlived its parent
