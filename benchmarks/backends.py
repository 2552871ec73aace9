"""Inference time per patch of each backend for each shipped model, one thread, same run.

    python benchmarks/backends.py [--batch 16] [--rounds 5] [--json FILE]

Each model runs on the same fixed random batch under Essentia (its TensorFlow 2.5 held to one
intra-op thread) and under OpenVINO (``INFERENCE_NUM_THREADS=1``), after a warm-up batch that
builds the session or compiles the model. The rounds alternate the backends, so a busy machine
slows both alike; the median round is reported in ms per patch, with the largest difference
between the two backends' outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="patches per run (default 16)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from extraction.inference import limit_tensorflow_threads

    limit_tensorflow_threads(1)  # before Essentia creates any TensorFlow session
    import numpy as np

    from extraction.backends import OpenVinoRunner
    from extraction.contract import LAYERS
    from extraction.inference import ModelRunner
    from extraction.registry import DEFAULT_MODEL_NAMES, load_registry

    registry = load_registry()
    patches = np.random.default_rng(0).uniform(0, 4, (args.batch, 187, 96)).astype(np.float32)
    results = {}
    for name in DEFAULT_MODEL_NAMES:
        runners = {
            "essentia": ModelRunner(registry[name], batch_size=args.batch),
            "openvino": OpenVinoRunner(registry[name], batch_size=args.batch, threads=1),
        }
        outputs = {backend: runner.predict(patches) for backend, runner in runners.items()}
        times: dict[str, list[float]] = {backend: [] for backend in runners}
        for _ in range(args.rounds):
            for backend, runner in runners.items():
                start = time.perf_counter()
                runner.predict(patches)
                times[backend].append((time.perf_counter() - start) / args.batch)
        ms = {backend: 1000 * statistics.median(t) for backend, t in times.items()}
        results[name] = {
            "ms_per_patch": {backend: round(value, 2) for backend, value in ms.items()},
            "speedup": round(ms["essentia"] / ms["openvino"], 2),
            "max_abs_difference": {
                layer: float(np.abs(outputs["openvino"][layer] - outputs["essentia"][layer]).max())
                for layer in LAYERS
            },
        }
        print(
            f"{name}: essentia {ms['essentia']:.1f} ms, openvino {ms['openvino']:.1f} ms per "
            f"patch ({results[name]['speedup']}x); max |diff| "
            + ", ".join(f"{k} {v:.1e}" for k, v in results[name]["max_abs_difference"].items()),
            flush=True,
        )
    if args.json:
        import openvino

        report = {
            "batch": args.batch,
            "rounds": args.rounds,
            "threads": 1,
            "openvino": openvino.get_version(),
            "machine": platform.processor() or platform.machine(),
            "load_1min": round(os.getloadavg()[0], 2),
            "models": results,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
