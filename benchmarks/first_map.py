"""From the command to a map: ``python -m explore_dash`` on a real library, timed as a user sees it.

    python benchmarks/first_map.py [--library DIR] [--json out.json] [--no-full]

Starts the real command on an empty data folder and measures, from the moment it is started:
- serving: the page answers;
- first tables: the first merged tracks are on disk (the map has something to show);
- first map: headless Chromium, opened as soon as the page answers, shows points in the first
  panel without a reload;
- full extraction: the status file says ``done`` (skipped with ``--no-full``).
Target (issue "One command from a music folder to a living map"): first map <= 60 s on the
86-track shared library (``../shared/music/make-library.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_LIBRARY = Path.home() / ".cache" / "explore-dash-music" / "library"
GRAPH = "document.getElementById('{\"panel\":0,\"type\":\"panel-graph\"}')"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def points_shown(driver) -> int:
    try:
        return int(
            driver.execute_script(
                f"const g = {GRAPH}?.querySelector('.js-plotly-plot');"
                "return g && g._fullData && g._fullData[0] ? g._fullData[0]._length || 0 : 0;"
            )
        )
    except Exception:  # noqa: BLE001 - the page is still loading
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=DEFAULT_LIBRARY)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-full", action="store_true", help="stop after the first map")
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    args = parser.parse_args()
    if not args.library.is_dir():
        sys.exit(f"no library at {args.library}: run ../shared/music/make-library.sh first")

    from selenium import webdriver

    from extraction.contract import read_status
    from tests.support.browser_options import chrome_options

    data = Path(tempfile.mkdtemp(prefix="explore-dash-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "explore_dash", "--library", str(args.library)]
    command += ["--data", str(data), "--port", str(port)]
    log = open(data.parent / f"{data.name}.log", "w")  # noqa: SIM115 - kept for the run
    started = time.monotonic()
    app = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    times: dict[str, float] = {}
    driver = None
    try:
        while not answers(url):
            if app.poll() is not None:
                sys.exit(f"the app exited ({app.returncode}); see {log.name}")
            time.sleep(0.1)
        times["serving_s"] = time.monotonic() - started
        driver = webdriver.Chrome(options=chrome_options())
        driver.get(url)
        while "first_map_s" not in times:
            now = time.monotonic() - started
            if "first_tables_s" not in times and (data / "tracks.parquet").exists():
                times["first_tables_s"] = now
            if points_shown(driver) > 0:
                times["first_map_s"] = now
            if now > args.timeout:
                sys.exit("no map before the timeout")
            time.sleep(0.2)
        times["first_map_points"] = points_shown(driver)
        driver.quit()
        driver = None
        if not args.no_full:
            while True:
                status = read_status(data)
                if status is not None and status.phase in ("done", "failed", "interrupted"):
                    break
                if time.monotonic() - started > args.timeout:
                    sys.exit("extraction did not finish before the timeout")
                time.sleep(1)
            times["full_extraction_s"] = time.monotonic() - started
            times["tracks"] = status.tracks_done
            times["tracks_failed"] = status.tracks_failed
            times["audio_hours"] = status.audio_done_seconds / 3600
            times["realtime_factor"] = status.audio_done_seconds / times["full_extraction_s"]
    finally:
        if driver is not None:
            driver.quit()
        app.send_signal(signal.SIGINT)
        try:
            app.wait(120)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)
    times["load_average_1min_end"] = os.getloadavg()[0]
    times["cores"] = os.cpu_count()
    for key, value in times.items():
        print(f"{key:24s} {value:10.2f}" if isinstance(value, float) else f"{key:24s} {value:>10}")
    if args.json:
        args.json.write_text(json.dumps(times, indent=2) + "\n")


if __name__ == "__main__":
    main()
