"""Prove the Essentia-free path: tables made without Essentia equal the default path's.

    PYTHON .ci/without_essentia.py NO_ESSENTIA_PYTHON

Where essentia-tensorflow has no wheel (macOS, Linux aarch64, Windows) the extraction runs on
OpenVINO with the numpy mel bands. ``NO_ESSENTIA_PYTHON`` is the Python of a venv that had
``pip install .`` and then lost essentia-tensorflow; ``PYTHON`` (running this script) is the
test venv, with Essentia. Both extract the same synthesized library with the default settings;
the networks' outputs (``vector``) must agree within 1e-4, and the PCA columns computed from
them within 1e-4 of their largest value (standardizing over a handful of segments divides by
small deviations, which scales a 1e-5 difference up). Exits 0 when they do, 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from extraction.contract import list_column_to_matrix, segment_spaces  # noqa: E402
from tests.support.synth import write_audio  # noqa: E402

TOLERANCE = 1e-4


def extract(python: str, library: Path, data: Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run(
        [python, "-m", "extraction", "--library", str(library), "--data", str(data), "--quiet"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"FAILED: extraction with {python}:\n{result.stdout}{result.stderr}")
    return result.stdout


def has_essentia(python: str) -> bool:
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('essentia') is None)"
    return subprocess.run([python, "-c", probe]).returncode == 0


def main(no_essentia_python: str) -> int:
    if has_essentia(no_essentia_python) or not has_essentia(sys.executable):
        print("FAILED: the first Python must lack Essentia and this one have it")
        return 1
    with tempfile.TemporaryDirectory(prefix="without-essentia-") as scratch:
        root = Path(scratch)
        library = root / "library"
        write_audio(library / "A" / "tone.ogg", 7.0, signal="tone", tags={"artist": "A"})
        write_audio(library / "B" / "chirp.mp3", 9.5, signal="chirp")
        write_audio(library / "noise.wav", 4.0, signal="noise", seed=5)
        extract(sys.executable, library, root / "default", cwd=REPO)
        print(extract(no_essentia_python, library, root / "without", cwd=root).strip())
        spaces = segment_spaces(root / "default")
        if not spaces or spaces != segment_spaces(root / "without"):
            print(f"FAILED: different tables: {spaces} / {segment_spaces(root / 'without')}")
            return 1
        worst = worst_vector = 0.0
        for model, layer in spaces:
            relative = Path("segments") / f"model={model}" / f"layer={layer}" / "part-0.parquet"
            a = pq.read_table(root / "default" / relative)
            b = pq.read_table(root / "without" / relative)
            if a.column("track").to_pylist() != b.column("track").to_pylist():
                print(f"FAILED: {model}/{layer}: other segments")
                return 1
            for column in ("vector", "pca", "std_pca"):
                x = list_column_to_matrix(a.column(column))
                y = list_column_to_matrix(b.column(column))
                difference = float(np.abs(x - y).max()) if x.size else 0.0
                scale = 1.0 if column == "vector" else max(1.0, float(np.abs(x).max()))
                worst = max(worst, difference / scale) if column != "vector" else worst
                worst_vector = max(worst_vector, difference) if column == "vector" else worst_vector
                if difference > TOLERANCE * scale:
                    print(f"FAILED: {model}/{layer} {column} differs by {difference:.2e}")
                    return 1
    print(
        "ok: tables without Essentia equal the default path's: network outputs within "
        f"{worst_vector:.1e}, PCA columns within {worst:.1e} of their scale"
    )
    return 0


if __name__ == "__main__":
    # Absolute but not resolved: the venv's python is a link whose target is outside the venv.
    sys.exit(main(os.path.abspath(sys.argv[1])))
