"""Concurrent clients against the real app server on loopback: hover audio and selection callbacks.

    python benchmarks/server_load.py                      # 20 clients, 10 s, fake collection
    python benchmarks/server_load.py --clients 50 --seconds 30 --data D --library L
    python benchmarks/server_load.py --merges             # 20 clients, 60 s, tables growing

Prints p50/p99 latency per request kind and the error counts; exits 1 on any server error.
The load itself is tests/support/load.py (shared with tests/unit/test_server.py). ``--merges``:
the same clients also redraw panels, ask for a cached t-SNE map and poll for new tables, while an
extraction merges new tracks every ``--merge-every`` seconds; every answer is checked against
the table versions the data folder went through (tests/support/load_with_merges.py), and any answer
that mixes versions counts as an error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.load import run_load  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--library", type=Path, help="library of an extracted data folder")
    parser.add_argument("--data", type=Path, help="data folder (default: a fake collection)")
    parser.add_argument("--merges", action="store_true",
                        help="load a growing collection while an extraction merges into it")
    parser.add_argument("--merge-every", type=float, default=3.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    if args.merges:
        return load_with_merges(args)
    from explore_dash.config import AppConfig
    from explore_dash.server.app import build_app

    with tempfile.TemporaryDirectory() as scratch:
        if args.data is None:
            from tests.support.fake_collection import write_fake_collection

            fake = write_fake_collection(Path(scratch))
            args.library, args.data = fake.library, fake.data_dir
        built = build_app(AppConfig(args.library, args.data))
        report = run_load(built, args.clients, args.seconds)
    print(report.summary())
    for line in (report.server_errors + report.unexpected)[:10]:
        print("  ", line)
    return 1 if report.server_errors else 0


def load_with_merges(args: argparse.Namespace) -> int:
    from tests.support.load_with_merges import run_load_with_merges

    seconds = args.seconds if "--seconds" in sys.argv else 60.0
    with tempfile.TemporaryDirectory() as scratch:
        report = run_load_with_merges(Path(scratch), args.clients, seconds, args.merge_every)
    print(report.summary())
    for line in report.errors[:10]:
        print("  ", line)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
