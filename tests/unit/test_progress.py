"""What the page says of the extraction beside it (data/progress.py)."""

from __future__ import annotations

import subprocess
import sys

from explore_dash.data.progress import extraction_alive, extraction_view
from extraction.contract import ExtractionStatus


def test_progress001_an_extraction_is_alive_while_it_runs_in_a_living_process():
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert extraction_alive(None) is False
    assert extraction_alive(ExtractionStatus(phase="extracting")) is True  # this process
    assert extraction_alive(ExtractionStatus(phase="scanning")) is True
    assert extraction_alive(ExtractionStatus(phase="done")) is False
    # Left "extracting" by a run that was killed: not alive, and the page says so.
    killed = ExtractionStatus(phase="extracting", pid=int(gone.stdout))
    assert extraction_alive(killed) is False
    view = extraction_view(killed, extraction_alive(killed))
    assert not view.running and "stopped unexpectedly" in view.text
