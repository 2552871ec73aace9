"""Which device each inference backend runs on, and how fast: one short run for a GPU machine.

    python benchmarks/gpu.py [--minutes 10] [--json FILE]

Synthesizes ``--minutes`` of audio (four tracks of chirps and noise, FLAC), then runs
``python -m extraction`` on them once per backend (``essentia``, ``openvino``, and ``auto``,
which picks one of those), each into an empty data folder, and reports for each:

- the device the networks ran on. Essentia: "GPU" when its TensorFlow logged creating a GPU
  device (``TF_CPP_MIN_LOG_LEVEL=0``), else "CPU". OpenVINO: the ``EXECUTION_DEVICES`` of a
  model compiled as the pipeline compiles it (always its CPU plugin: OpenVINO's GPU plugin is
  for Intel GPUs);
- the GPU memory the run's processes held at their peak, from ``nvidia-smi`` (sampled every
  0.2 s; "-" without ``nvidia-smi``);
- the realtime factor (audio seconds per wall second, start-up included).

On a machine without an NVIDIA GPU it runs the same way and says so; the README's GPU section
quotes its output where one was available.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BACKENDS = ("essentia", "openvino", "auto")
# TensorFlow 2.5's log line when it places a device on a GPU.
TF_GPU_DEVICE = re.compile(r"Created TensorFlow device \(/job:localhost/.*device:GPU:\d+")


def nvidia_gpus() -> list[str]:
    """Names of the NVIDIA GPUs ``nvidia-smi`` lists; empty without one (or without the tool)."""
    if shutil.which("nvidia-smi") is None:
        return []
    result = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def gpu_memory_mb(pids: set[int]) -> int:
    """GPU memory in MB held by ``pids`` now, as ``nvidia-smi`` reports its compute apps."""
    result = subprocess.run(
        ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        check=False,
    )
    total = 0
    for line in result.stdout.splitlines():
        pid, _, used = line.partition(",")
        with contextlib.suppress(ValueError):
            if int(pid) in pids:
                total += int(used)
    return total


def make_tracks(folder: Path, minutes: float) -> float:
    """Four FLAC tracks totalling ``minutes``; returns their audio seconds."""
    from tests.support.synth import write_audio

    seconds = minutes * 60 / 4
    for i, signal in enumerate(("chirp", "noise", "chirp", "noise")):
        write_audio(folder / f"track-{i}.flac", seconds, sample_rate=44100, signal=signal, seed=i)
    return 4 * seconds


def openvino_devices() -> str:
    """The execution devices of one shipped model compiled as the pipeline compiles it."""
    from extraction.backends import OpenVinoRunner
    from extraction.registry import DEFAULT_MODEL_NAMES, load_registry

    runner = OpenVinoRunner(load_registry()[DEFAULT_MODEL_NAMES[0]])
    runner._compile()
    return ",".join(runner._compiled.get_property("EXECUTION_DEVICES"))


def run_backend(backend: str, library: Path, scratch: Path, watch_gpu: bool) -> dict:
    """One extraction of ``library`` with ``backend``: wall time, TensorFlow's GPU log, GPU MB."""
    import psutil

    data = scratch / f"data-{backend}"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    command = [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data)]
    command += ["--quiet", "--backend", backend, "-v"]
    peak_gpu = 0
    stop = threading.Event()
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def sample() -> None:
        nonlocal peak_gpu
        process = psutil.Process(child.pid)
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                pids = {child.pid, *(p.pid for p in process.children(recursive=True))}
                peak_gpu = max(peak_gpu, gpu_memory_mb(pids))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    if watch_gpu:
        sampler.start()
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    stop.set()
    if watch_gpu:
        sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"--backend {backend} failed ({child.returncode}):\n{stderr[-3000:]}")
    state = json.loads((data / "state.json").read_text(encoding="utf-8"))
    return {
        "resolved_backend": state.get("backend"),
        "wall_seconds": round(wall, 2),
        "tensorflow_gpu_device": bool(TF_GPU_DEVICE.search(stderr)),
        "peak_gpu_memory_mb": peak_gpu if watch_gpu else None,
    }


def device_of(result: dict, openvino: str) -> str:
    if result["resolved_backend"] == "openvino":
        return openvino
    return "GPU" if result["tensorflow_gpu_device"] else "CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="audio to extract (10)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    gpus = nvidia_gpus()
    print(f"NVIDIA GPUs: {'; '.join(gpus) if gpus else 'none'}", flush=True)
    from extraction.backends import essentia_sees_cuda_gpu, resolve_backend

    report: dict = {
        "machine": {
            "system": platform.platform(),
            "cpu_cores": os.cpu_count(),
            "nvidia_gpus": gpus,
            "essentia_sees_cuda_gpu": essentia_sees_cuda_gpu(),
            "auto_resolves_to": resolve_backend("auto"),
        },
        "backends": {},
    }
    openvino = openvino_devices()
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as scratch:
        library = Path(scratch) / "library"
        library.mkdir()
        audio_seconds = make_tracks(library, args.minutes)
        report["audio_seconds"] = round(audio_seconds, 1)
        for backend in BACKENDS:
            result = run_backend(backend, library, Path(scratch), watch_gpu=bool(gpus))
            result["device"] = device_of(result, openvino)
            result["realtime"] = round(audio_seconds / result["wall_seconds"], 1)
            report["backends"][backend] = result
            gpu_mb = result["peak_gpu_memory_mb"]
            print(
                f"--backend {backend:<8} ran {result['resolved_backend']} on {result['device']}: "
                f"{result['realtime']}x realtime ({result['wall_seconds']} s), GPU memory "
                f"{'-' if gpu_mb is None else f'{gpu_mb} MB'}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
