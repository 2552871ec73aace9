"""Extraction speed and memory: the research system's way against our pipeline, same tracks.

    python benchmarks/extraction.py [--tracks 2] [--runs 3]
                                    [--variants research,ours-2-essentia,ours-2-openvino]
                                    [--long-hours 2 | --long-hours 0] [--json FILE]
    python benchmarks/extraction.py --ceiling [--json FILE]

Variants, run in turn within each round (so a busy machine slows them all alike), each in a
fresh process whose whole process tree is sampled for memory:

- ``research``: the research system's way. For each of the four models and each of its two
  layers, one pass over the tracks with Essentia's ``MonoLoader(sampleRate=16000)`` decoding the
  file again and ``TensorflowPredictMusiCNN(graphFilename=..., output=<layer node>)`` (the musicnn
  VGG graphs take the same mel input, so the same wrapper runs them). ``patchHopSize=187`` so it
  computes the same non-overlapping patches as ours (its default, 93, would double its work).
- ``dask``, ``dask-shared``: ``python -m extraction --dask local`` (a LocalCluster of 2
  single-threaded worker processes, started and stopped by the run, OpenVINO): each file's
  bytes sent with its task, or (``dask-shared``) read by the workers from the shared library,
  so the difference between the two is what shipping the bytes costs.
- ``ours-N[-BACKEND]``: ``python -m extraction`` on a library of the same files into an empty
  data folder, with ``--workers N`` and ``--backend BACKEND`` (``essentia`` or ``openvino``;
  ``auto`` when left out): decoding, mel, all four networks, staging, merging, PCA, parquet.
  OpenVINO's compiled-model cache is part of the data folder, so each run starts it cold.

Reported per variant: audio seconds per wall second (realtime factor), seconds per track, and
peak RSS summed over the process tree (shared library pages count once per process, so this
overstates real memory use); medians over the rounds. Then our default variant alone on a file of
``--long-hours`` hours made by concatenating the tracks (peak RSS is what matters there).

``--ceiling`` measures what each stage costs one core per 3-s patch (decoding; mel, Essentia's
and the numpy one; each network under each backend with one inference thread) and so, for each
backend, the realtime factor that no layout of the work over this machine's cores can beat, and
each stage's share of it.

Tracks: the Ogg Vorbis files of the small shared library (Essentia's MonoLoader rejects Opus).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MUSIC = Path.home() / ".cache" / "explore-dash-music"
DEFAULT_LIBRARY = MUSIC / "library-small"
CACHE = Path.home() / ".cache" / "explore-dash-bench"
MODELS = ("musicnn-msd", "musicnn-mtt", "vgg-msd", "vgg-mtt")


# -- the research system's way ------------------------------------------------------------------


def research_pass(paths: list[Path]) -> None:
    """One decode and one ``TensorflowPredictMusiCNN`` per (model, layer, track)."""
    from extraction.essentia_env import import_essentia_standard
    from extraction.registry import LAYERS, load_registry

    es = import_essentia_standard()
    registry = load_registry()
    for name in MODELS:
        spec = registry[name]
        for layer in LAYERS:
            predict = es.TensorflowPredictMusiCNN(
                graphFilename=str(spec.graph_path),
                input=spec.input_node,
                output=spec.layers[layer].node,
                patchHopSize=187,
            )
            for path in paths:
                audio = es.MonoLoader(filename=str(path), sampleRate=16000)()
                values = predict(audio)
                assert values.shape[1] == spec.layers[layer].dims


# -- the machine's ceiling -----------------------------------------------------------------------


def _core_seconds(work, repeats: int = 3) -> float:
    """Fewest CPU seconds of this process over ``repeats`` calls of ``work()``."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def ceiling_pass(path: Path, backends: tuple[str, ...] = ("essentia", "openvino")) -> dict:
    """Per-core cost of each stage on one track, in this process, one inference thread.

    Returns milliseconds of one core per 3-s patch for decoding, for each mel implementation
    (Essentia's ``TensorflowInputMusiCNN`` frame by frame, the numpy one on whole chunks), and
    for each model under each backend (both layers in one run, the pipeline's batch size, best of
    3 after a warm-up run); then, per backend, the realtime factor that no layout of this work
    over ``usable_cores()`` cores can beat, and which stage holds the largest share of it.
    """
    from extraction.inference import limit_tensorflow_threads

    limit_tensorflow_threads(1)  # before Essentia creates any TensorFlow session
    import numpy as np

    from extraction.audio import iter_audio
    from extraction.backends import make_runner
    from extraction.features import (
        SAMPLE_RATE,
        SEGMENT_SECONDS,
        essentia_log_mel,
        patches_from_signal,
    )
    from extraction.inference import usable_cores
    from extraction.mel import log_mel
    from extraction.registry import load_registry

    def decode() -> list:
        return list(iter_audio(path, sample_rate=SAMPLE_RATE, chunk_seconds=10.0))

    chunks = decode()
    signal = np.concatenate(chunks)
    patches = patches_from_signal(signal)
    n = len(patches)
    decode_ms = 1000 * _core_seconds(decode) / n

    mel = {
        name: round(1000 * _core_seconds(partial(patches_from_signal, signal, function)) / n, 1)
        for name, function in (("essentia", essentia_log_mel), ("numpy", log_mel))
    }
    pipeline_mel = mel["numpy"]
    registry = load_registry()
    per_backend = {}
    for backend in backends:
        per_model = {}
        with tempfile.TemporaryDirectory(prefix="ceiling-cache-") as cache:
            for name in MODELS:
                runner = make_runner(backend, registry[name], threads=1, cache_dir=Path(cache))
                runner.predict(patches[:16])
                seconds = []
                for _ in range(3):
                    start = time.perf_counter()
                    runner.predict(patches)
                    seconds.append(time.perf_counter() - start)
                per_model[name] = 1000 * min(seconds) / n
        inference_ms = sum(per_model.values())
        stages = {"decode": decode_ms, "mel": pipeline_mel, "inference": inference_ms}
        total_ms = sum(stages.values())
        per_backend[backend] = {
            "model_core_ms_per_patch": {k: round(v, 1) for k, v in per_model.items()},
            "inference_core_ms_per_patch": round(inference_ms, 1),
            "total_core_ms_per_patch": round(total_ms, 1),
            "share": {k: round(v / total_ms, 2) for k, v in stages.items()},
            "ceiling_realtime": round(usable_cores() * SEGMENT_SECONDS * 1000 / total_ms, 1),
        }
    return {
        "track": path.name,
        "patches": n,
        "cores": usable_cores(),
        "decode_core_ms_per_patch": round(decode_ms, 1),
        "mel_core_ms_per_patch": mel,
        "backends": per_backend,
        "load_1min": round(os.getloadavg()[0], 2),
    }


# -- measuring a child process ------------------------------------------------------------------


def _tree_rss(process) -> int:
    import psutil

    total = 0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def measure(command: list[str], env: dict | None = None) -> dict:
    """Wall time and peak process-tree RSS of a command; raises if it fails."""
    import psutil

    peak = 0
    stop = threading.Event()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    process = psutil.Process(child.pid)

    def sample() -> None:
        nonlocal peak
        last_report = time.perf_counter()
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                peak = max(peak, _tree_rss(process))
            if time.perf_counter() - last_report >= 60:
                last_report = time.perf_counter()
                elapsed = last_report - started
                print(f"    ... {elapsed:.0f} s, peak RSS so far {peak / 2**20:.0f} MB", flush=True)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Reaped grandchildren (the pool's workers) are included.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"{command} failed ({child.returncode}):\n{stderr[-3000:]}")
    return {
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": peak / 2**20,
        "stdout": stdout[-2000:],
    }


def run_variant(variant: str, paths: list[Path], library: Path, scratch: Path) -> dict:
    """One timed run of a variant on ``paths``, which are all the files in ``library``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if variant == "research":
        command = [sys.executable, __file__, "--research-pass", *map(str, paths)]
        return measure(command, env)
    data = scratch / f"data-{variant}"
    shutil.rmtree(data, ignore_errors=True)
    command = [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data)]
    if variant.startswith("dask"):
        # A LocalCluster of 2 single-threaded workers, started by the run (its start is timed);
        # the workers' OpenVINO cache emptied first, as the data folder's is for ours-*.
        shutil.rmtree(Path(tempfile.gettempdir()) / "explore-dash-worker", ignore_errors=True)
        command += ["--quiet", "--backend", "openvino", "--dask", "local"]
        command += ["--shared-library"] if variant == "dask-shared" else []
    else:
        workers, _, backend = variant.removeprefix("ours-").partition("-")
        command += ["--quiet", "--workers", workers, "--backend", backend or "auto"]
    result = measure(command, env)
    shutil.rmtree(data, ignore_errors=True)
    if f"ok: {len(paths)} " not in result["stdout"]:
        raise RuntimeError(f"{variant} did not extract every track:\n{result['stdout']}")
    return result


# -- inputs -------------------------------------------------------------------------------------


def duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None:
            return float(stream.duration * stream.time_base)
        return container.duration / 1e6


def pick_tracks(library: Path, n: int) -> list[Path]:
    """The ``n`` longest Ogg Vorbis files (MonoLoader cannot read Opus)."""
    found = sorted(library.rglob("*.ogg"), key=lambda p: (-duration(p), str(p)))
    if len(found) < n:
        raise SystemExit(f"need {n} .ogg files under {library}, found {len(found)}")
    return found[:n]


def long_file(sources: list[Path], hours: float) -> Path:
    """A FLAC file of ``hours`` hours, the sources' audio back to back (made once, cached)."""
    import av
    import numpy as np

    # Alone in its folder, which the pipeline then takes as the library.
    target = CACHE / f"long-{hours:g}h-v2" / "long.flac"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part.flac")
    rate = 44100
    needed = int(hours * 3600 * rate)
    written = 0
    with av.open(str(partial), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout="stereo")
        while written < needed:
            for source in sources:
                # One resampler per file: it is fixed to its first input's layout and rate.
                resampler = av.AudioResampler(format="s16", layout="stereo", rate=rate)
                with av.open(str(source)) as container:
                    for frame in container.decode(audio=0):
                        for converted in resampler.resample(frame):
                            # Packed s16 stereo comes as one row of interleaved samples.
                            samples = converted.to_ndarray()
                            take = 2 * min(samples.shape[1] // 2, needed - written)
                            if take <= 0:
                                break
                            chunk = av.AudioFrame.from_ndarray(
                                np.ascontiguousarray(samples[:, :take]),
                                format="s16",
                                layout="stereo",
                            )
                            chunk.sample_rate = rate
                            for packet in stream.encode(chunk):
                                out.mux(packet)
                            written += take // 2
                if written >= needed:
                    break
        for packet in stream.encode(None):
            out.mux(packet)
    partial.rename(target)
    return target


def machine() -> dict:
    from importlib import metadata

    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "system": platform.platform(),
        "python": platform.python_version(),
        "essentia": metadata.version("essentia-tensorflow"),
        "gpu": "none (essentia-tensorflow found no CUDA libraries)",
    }


# -- main ---------------------------------------------------------------------------------------


def summarise(runs: list[dict], audio_seconds: float, n_tracks: int) -> dict:
    walls = [run["wall_seconds"] for run in runs]
    wall = statistics.median(walls)
    cpu = statistics.median(run["cpu_seconds"] for run in runs)
    return {
        "wall_seconds": [round(w, 2) for w in walls],
        "median_wall_seconds": round(wall, 2),
        "realtime": round(audio_seconds / wall, 2),
        "seconds_per_track": round(wall / n_tracks, 2),
        "median_cpu_seconds": round(cpu, 2),
        "audio_per_cpu_second": round(audio_seconds / cpu, 2),
        "peak_rss_mb": round(statistics.median(run["peak_rss_mb"] for run in runs)),
        "load_average_1min": [run["load_1min"] for run in runs],
    }


def table(results: dict, baseline: str) -> str:
    lines = [
        f"{'variant':<10} {'realtime':>9} {'x research':>10} {'s/track':>8} {'peak RSS':>9} "
        f"{'audio s / CPU s':>15}",
    ]
    base = results[baseline]["realtime"] if baseline in results else None
    for variant, row in results.items():
        ratio = f"{row['realtime'] / base:.2f}" if base else "-"
        lines.append(
            f"{variant:<10} {row['realtime']:>8.1f}x {ratio:>10} "
            f"{row['seconds_per_track']:>8.1f} {row['peak_rss_mb']:>6} MB "
            f"{row['audio_per_cpu_second']:>15.1f}"
        )
    return "\n".join(lines)


def rounds(args: argparse.Namespace, paths: list[Path], variants: list[str]) -> dict:
    """Every variant in turn, ``args.runs`` times; the summary and the table."""
    tracks = [str(p.relative_to(args.library)) for p in paths]
    audio_seconds = sum(duration(p) for p in paths)
    print(f"{len(paths)} tracks, {audio_seconds:.0f} s of audio; {args.runs} rounds of {variants}")
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as scratch:
        # A library of just these tracks (links leaving a library are not followed).
        library = Path(scratch) / "library"
        library.mkdir()
        for path in paths:
            shutil.copyfile(path, library / path.name)
        copies = [library / path.name for path in paths]
        for round_index in range(args.runs):
            for variant in variants:
                result = run_variant(variant, copies, library, Path(scratch))
                result["load_1min"] = round(os.getloadavg()[0], 2)
                runs[variant].append(result)
                print(
                    f"  round {round_index + 1} {variant:<9} {result['wall_seconds']:7.1f} s "
                    f"{audio_seconds / result['wall_seconds']:6.1f}x "
                    f"{result['peak_rss_mb']:6.0f} MB  cpu {result['cpu_seconds']:6.1f} s  "
                    f"load {result['load_1min']}",
                    flush=True,
                )
    results = {v: summarise(runs[v], audio_seconds, len(paths)) for v in variants}
    report = {
        "machine": machine(),
        "tracks": tracks,
        "audio_seconds": round(audio_seconds, 1),
        "runs": args.runs,
        "results": results,
    }
    print(table(results, "research"))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", type=Path, default=DEFAULT_LIBRARY)
    parser.add_argument("--tracks", type=int, default=2, help="how many .ogg tracks")
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--variants", default="research,ours-2-essentia,ours-2-openvino")
    parser.add_argument("--long-hours", type=float, default=2.0, help="0 skips the long file")
    parser.add_argument(
        "--long-only", action="store_true", help="only the long file, added to an existing JSON"
    )
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results-extraction.json")
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="only measure each stage's cost per core and the realtime factor it allows, "
        "added to an existing JSON",
    )
    parser.add_argument("--research-pass", nargs="+", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.research_pass:
        research_pass(args.research_pass)
        return
    if args.ceiling:
        report = json.loads(args.json.read_text()) if args.json.exists() else {}
        report["machine"] = machine()
        report["ceiling"] = ceiling_pass(pick_tracks(args.library, 1)[0])
        print(json.dumps(report["ceiling"], indent=2))
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
        return

    paths = pick_tracks(args.library, args.tracks)
    variants = args.variants.split(",")
    if args.long_only:
        report = json.loads(args.json.read_text()) if args.json.exists() else {}
        report.setdefault("machine", machine())
    else:
        report = rounds(args, paths, variants)
    ours = [v for v in variants if v.startswith("ours-")]
    if args.long_hours > 0 and ours:
        variant = ours[-1]
        path = long_file(paths, args.long_hours)
        long_seconds = duration(path)
        with tempfile.TemporaryDirectory(prefix="bench-extraction-long-") as scratch:
            result = run_variant(variant, [path], path.parent, Path(scratch))
        report["long_file"] = {
            "variant": variant,
            "audio_seconds": round(long_seconds, 1),
            "wall_seconds": round(result["wall_seconds"], 1),
            "realtime": round(long_seconds / result["wall_seconds"], 2),
            "peak_rss_mb": round(result["peak_rss_mb"]),
            "cpu_seconds": round(result["cpu_seconds"], 1),
            "load_1min": round(os.getloadavg()[0], 2),
        }
        print(
            f"{args.long_hours:g}-hour file, {variant}: {report['long_file']['realtime']:.1f}x, "
            f"peak RSS {report['long_file']['peak_rss_mb']} MB"
        )
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
