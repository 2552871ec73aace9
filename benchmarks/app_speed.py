"""Explorer speed in headless Chromium with a large synthetic collection.

    python benchmarks/app_speed.py [--segments 100000] [--runs 3] [--select-points 10000]
                                   [--json out.json]

Measures, per run (medians printed):
- page usable: navigation start to both panels drawn with every point;
- hover to audio: pointer moved onto a point to the audio element requesting that segment;
- box selection: pointer released after a box over ``--select-points`` points (10k) of one
  panel to the other panel showing the same selection.
Targets (issue "The explorer"): usable <= 3 s, hover <= 150 ms, 10k selection <= 500 ms.

Each run also measures a pure-Plotly baseline page in the same browser, interleaved: the same
two panel figures (built by the app's own code), the same WebGL settings (no multisampling,
screen pixel ratio), plotly.min.js from a script tag, no Dash. Its page load, its hover to
audio (playing from a `plotly_hover` listener) and its own native box selection being drawn
are the floor of what Plotly itself costs on this machine's WebGL.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.fake_collection import make_collection  # noqa: E402
from tests.support.pointer import drag, move_to  # noqa: E402

GRAPH = 'document.getElementById(\'{{"panel":{0},"type":"panel-graph"}}\')'


BASELINE_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script>
// The explorer's WebGL settings (assets/explore-core.js): no multisampling on Plotly's canvases.
const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (type, attributes) {
  if (String(type).startsWith("webgl") && this.classList.contains("gl-canvas")) {
    attributes = Object.assign({}, attributes, {antialias: false});
  }
  return getContext.call(this, type, attributes);
};
</script>
<script src="plotly.min.js"></script>
<style>body {margin: 0} .panel {width: 780px; height: 680px; display: inline-block}</style>
</head><body>
<div id="panel-0" class="panel"></div><div id="panel-1" class="panel"></div>
<audio id="player" preload="auto"></audio>
<script>
const config = {plotGlPixelRatio: Math.max(1, Math.round(devicePixelRatio)), responsive: true};
fetch("figures.json").then(r => r.json()).then(figures => figures.forEach((figure, i) => {
  const gd = document.getElementById("panel-" + i);
  Plotly.newPlot(gd, figure.data, figure.layout, config).then(() => {
    gd.on("plotly_hover", event => {
      const id = gd._fullData[0].customdata[event.points[0].pointNumber];
      const audio = document.getElementById("player");
      audio.src = "audio/" + Math.floor(id / 65536);
      audio.load();
    });
    gd.on("plotly_selected", () => requestAnimationFrame(() => {
      window.__mirrored = performance.now();
    }));
  });
}));
</script></body></html>
"""


def serve_baseline(fake, port: int) -> http.server.ThreadingHTTPServer:
    """Serve the pure-Plotly baseline page with the app's own two default panel figures."""
    import plotly

    from explore_dash.callbacks.panels import draw
    from explore_dash.config import AppConfig
    from explore_dash.data.state import AppState
    from explore_dash.maps.points import visible_points
    from explore_dash.maps.settings import DEFAULT_PANELS

    state = AppState.load(AppConfig(fake.library, fake.data_dir))
    snapshot = state.snapshot
    figures = []
    for settings in DEFAULT_PANELS:
        points = visible_points(snapshot, state.cache_dir, settings, None, None, 1)
        figures.append(draw(snapshot, settings, points, ([], [], [], []), False)[0])
    folder = Path(tempfile.mkdtemp(prefix="explore-dash-baseline-"))
    (folder / "index.html").write_text(BASELINE_PAGE, encoding="utf-8")
    (folder / "figures.json").write_text(json.dumps(figures), encoding="utf-8")
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    (folder / "plotly.min.js").write_bytes(plotly_js.read_bytes())
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def graph(panel: int) -> str:
    """The Plotly graph div of a panel, in the app or in the baseline page."""
    return (
        f"(document.getElementById('panel-{panel}') ||"
        f" {GRAPH.format(panel)}?.querySelector('.js-plotly-plot'))"
    )


def start_browser():
    from selenium import webdriver

    from tests.support.browser_options import chrome_options

    driver = webdriver.Chrome(options=chrome_options())
    driver.set_script_timeout(120)
    return driver


def wait(driver, script: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(script)


def measure_page_usable(driver, url: str, n_points: int) -> float:
    driver.get("about:blank")
    driver.get(url)
    ready = (
        f"const a = {graph(0)}, b = {graph(1)};"
        "const full = g => g && g._fullData && g._fullData[0] && g._fullData[0].customdata"
        f" && g._fullData[0].customdata.length === {n_points};"
        "return full(a) && full(b) ? performance.now() : null;"
    )
    return wait(driver, ready) / 1000.0


def point_pixel(driver, panel: int, index: int):
    return driver.execute_script(
        f"const gd = {graph(panel)}; const t = gd._fullData[0];"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
        "const r = gd.getBoundingClientRect();"
        f"return [r.left + xa._offset + xa.l2p(t.x[{index}]),"
        f" r.top + ya._offset + ya.l2p(t.y[{index}])];"
    )


def measure_hover(driver, index: int) -> float:
    driver.execute_script(
        "window.__moved = null; window.__requested = null;"
        f"{graph(0)}.addEventListener('mousemove', () => {{ window.__moved = performance.now(); }},"
        " {capture: true, once: true});"
        "const audio = document.getElementById('player');"
        "audio.removeAttribute('src'); audio.load();"
        "audio.addEventListener('loadstart', () => { window.__requested = performance.now(); },"
        " {once: true});"
    )
    x, y = point_pixel(driver, 0, index)
    move_to(driver, x, y)
    wait(driver, "return window.__requested")
    return driver.execute_script("return window.__requested - window.__moved") / 1000.0


def measure_box_selection(driver, n_points: int) -> tuple[float, int]:
    """Seconds from releasing a box over about ``n_points`` points of panel 0 to panel 1
    showing them, and how many it selected.

    The box spans the panel's full height from its left edge to the x below which ``n_points``
    points lie (the synthetic points are bunched, so a fixed width catches very different
    counts from one collection to the next).
    """
    driver.execute_script(f"Plotly.relayout({graph(0)}, {{dragmode: 'select'}})")
    time.sleep(0.5)
    box = driver.execute_script(
        f"const gd = {graph(0)}; const r = gd.getBoundingClientRect();"
        "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
        "const xs = Float64Array.from(gd._fullData[0].x).sort();"
        f"const edge = xa.l2p(xs[Math.min(xs.length - 1, {n_points})]);"
        "return [r.left + xa._offset, r.top + ya._offset, edge, ya._length];"
    )
    left, top, edge, height = box
    driver.execute_script(
        "window.__released = null; window.__mirrored = null;"
        "document.addEventListener('mouseup', () => { window.__released = performance.now(); },"
        " {capture: true, once: true});"
        "const check = () => { if (!window.exploreDash) { return; }"
        " if (window.exploreDash.selection.shown(1).length) {"
        " window.__mirrored = performance.now(); } else { requestAnimationFrame(check); } };"
        "requestAnimationFrame(check);"
    )
    x0, y0 = left + 2, top + 2
    x1, y1 = left + edge, top + height - 2
    drag(driver, (x0, y0), (x1, y1))
    wait(driver, "return window.__mirrored", timeout=30)
    seconds = driver.execute_script("return window.__mirrored - window.__released") / 1000.0
    count = driver.execute_script(
        "return window.exploreDash ? window.exploreDash.selection.shown(1).length :"
        f" {graph(0)}._fullData[0].selectedpoints.length"
    )
    return seconds, count


def start_app(fake, port: int, *flags: str) -> subprocess.Popen:
    """``python -m explore_dash`` on ``fake`` (with the maps computed ahead, unless ``flags``)."""
    return subprocess.Popen(
        [sys.executable, "-m", "explore_dash", "--library", str(fake.library), "--data",
         str(fake.data_dir), "--no-extract", "--port", str(port), *flags],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_for_page(url: str, server: subprocess.Popen) -> None:
    import urllib.request

    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(server.stderr.read().decode()) from None
            time.sleep(0.3)


def cached_whole_maps(fake, url: str) -> dict[str, float]:
    """Seconds for the server to answer a panel asking for each space's t-SNE and UMAP
    whole-collection map, once the maps computed ahead are done (from the cache)."""
    from benchmarks.million import panel_request, post_panel
    from explore_dash.config import AppConfig
    from explore_dash.data.snapshot import Snapshot
    from explore_dash.server.app import create_app
    from tests.support.load import layout_values

    # The app object only builds the requests (its callback map and first values).
    app = create_app(AppConfig(fake.library, fake.data_dir, extract=False))
    initial = layout_values(app)
    seconds = {}
    for model, layer in Snapshot.load(fake.data_dir).collection.available_spaces():
        architecture, dataset = model.split("-")
        for projection in ("umap", "tsne"):
            body = panel_request(app, initial, 0, architecture=architecture, dataset=dataset,
                                 layer=layer, projection=projection)  # fmt: skip
            seconds[f"{model} {layer} {projection}"], _ = post_panel(url.rstrip("/"), body)
    return seconds


def maps_paused(cache: Path) -> str:
    """Whether the maps-ahead process is paused by the page now ("yes", "no", "-": none)."""
    from explore_dash.maps.ahead import read_ahead_status

    status = read_ahead_status(cache)
    try:
        stat = Path(f"/proc/{status.pid}/stat").read_text() if status else ""
    except OSError:
        stat = ""
    if not stat:
        return "-"
    return "yes" if stat[stat.rfind(")") + 2] == "T" else "no"


#: Unmeasured runs before the "busy" phase of --during-maps-ahead.
WARM_UP_RUNS = 2


def during_maps_ahead(args) -> int:
    """Hover and selection while the whole collection's maps are computed, then after.

    The "busy" runs count only while ``cache/maps-ahead.json`` names a map being computed; the
    "idle" runs come once every map is ready, in the same process and browser. The page pauses
    the maps while it is used (explore_dash/maps/yielding.py): each run's hover and selection follow
    a page load (paused), and a further hover comes after a quiet spell long enough for the maps
    to have gone on (the worst case: the first move after a pause).

    The browser is warmed up first, unmeasured (:data:`WARM_UP_RUNS` page loads, hovers and
    selections): a fresh browser's first two page loads and hovers are slower (empty HTTP
    cache), and they would otherwise always fall in the busy phase.
    """
    from explore_dash.maps.ahead import read_ahead_status
    from explore_dash.maps.yielding import QUIET_SECONDS

    root = Path(tempfile.mkdtemp(prefix="explore-dash-bench-"))
    fake = make_collection(root, args.segments)
    cache = fake.data_dir / "cache"
    server = start_app(fake, args.port)
    url = f"http://127.0.0.1:{args.port}/"
    results: dict[str, dict[str, list[float]]] = {"busy": {}, "idle": {}}
    driver = None
    try:
        wait_for_page(url, server)
        driver = start_browser()
        for run in range(WARM_UP_RUNS):
            measure_page_usable(driver, url, args.segments)
            measure_hover(driver, 500 + run)
            measure_box_selection(driver, args.select_points)
        for phase in ("busy", "idle"):
            if phase == "busy":
                deadline = time.monotonic() + 300
                while not ((status := read_ahead_status(cache)) and status.computing):
                    assert time.monotonic() < deadline, "the maps ahead never started"
                    time.sleep(0.5)
            if phase == "idle":
                deadline = time.monotonic() + 1800
                while (status := read_ahead_status(cache)) is None or status.text():
                    assert time.monotonic() < deadline, "the maps ahead never finished"
                    time.sleep(2)
            for run in range(args.runs):
                status = read_ahead_status(cache)
                computing = bool(status and status.computing)
                if phase == "busy" and not computing:
                    print("maps ahead not computing any more: busy phase over", flush=True)
                    break
                measure_page_usable(driver, url, args.segments)
                time.sleep(0.5)
                hover = measure_hover(driver, 1000 + run * 7919)
                # The first hover after a quiet spell: the maps were let go on meanwhile
                # (explore_dash/maps/yielding.py), so this one meets them running.
                time.sleep(QUIET_SECONDS + 1.0)
                first = measure_hover(driver, 2000 + run * 7919)
                paused_before = maps_paused(cache)
                seconds, count = measure_box_selection(driver, args.select_points)
                paused = f"{paused_before}/{maps_paused(cache)}"
                results[phase].setdefault("hover_to_audio_s", []).append(hover)
                results[phase].setdefault("box_selection_s", []).append(seconds)
                results[phase].setdefault("first_hover_after_quiet_s", []).append(first)
                print(f"{phase} run {run}: hover {hover:.3f}, selection {seconds:.3f}, "
                      f"first hover after {QUIET_SECONDS + 1.0:.0f} s quiet {first:.3f} "
                      f"({count} selected; computing: {status.computing if status else '-'}; "
                      f"maps paused before/after the selection: {paused})",
                      flush=True)  # fmt: skip
        cached = cached_whole_maps(fake, url)
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait()
    report = {phase: {name: statistics.median(values) for name, values in found.items()}
              for phase, found in results.items()}  # fmt: skip
    report["cached_whole_map_s"] = cached
    print("whole-collection map from the cache, per space and projection:", cached)
    report["runs"] = results
    report["load_average"] = os.getloadavg()
    for name in ("hover_to_audio_s", "box_selection_s", "first_hover_after_quiet_s"):
        busy, idle = report["busy"].get(name), report["idle"].get(name)
        if busy and idle:
            print(f"{name}: busy {busy:.3f} idle {idle:.3f} ratio {busy / idle:.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=8071)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--select-points", type=int, default=10_000, help="points the box selection catches"
    )
    parser.add_argument(
        "--during-maps-ahead", action="store_true",
        help="measure the app while the maps computed ahead run, then once they are all done "
        "(no baseline page)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.during_maps_ahead:
        return during_maps_ahead(args)

    root = Path(tempfile.mkdtemp(prefix="explore-dash-bench-"))
    started = time.perf_counter()
    fake = make_collection(root, args.segments)
    print(f"synthetic collection: {args.segments} segments ({time.perf_counter() - started:.1f} s)")
    # The maps computed ahead stay off here: this measures the app on an idle machine
    # (--during-maps-ahead measures it beside them).
    server = start_app(fake, args.port, "--no-maps-ahead")
    url = f"http://127.0.0.1:{args.port}/"
    driver = None
    renderer = "unknown"
    names = ("page_usable_s", "hover_to_audio_s", "box_selection_s")
    results: dict[str, list[float]] = {name: [] for name in names}
    results.update({"baseline_" + name: [] for name in names})
    baseline = serve_baseline(fake, args.port + 1)
    baseline_url = f"http://127.0.0.1:{args.port + 1}/"
    try:
        import urllib.request

        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(server.stderr.read().decode()) from None
                time.sleep(0.3)
        driver = start_browser()
        renderer = driver.execute_script(
            "const gl = document.createElement('canvas').getContext('webgl');"
            "const info = gl && gl.getExtension('WEBGL_debug_renderer_info');"
            "return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'unknown';"
        )
        print(f"WebGL renderer: {renderer}")
        selected = 0
        for run in range(args.runs):
            for prefix, page in (("", url), ("baseline_", baseline_url)):
                usable = measure_page_usable(driver, page, args.segments)
                results[prefix + "page_usable_s"].append(usable)
                time.sleep(0.5)
                hover = measure_hover(driver, 1000 + run * 7919)
                results[prefix + "hover_to_audio_s"].append(hover)
                seconds, count = measure_box_selection(driver, args.select_points)
                results[prefix + "box_selection_s"].append(seconds)
                selected = count if not prefix else selected
                print(
                    f"run {run} {prefix or 'app'}: usable {usable:.3f}, hover {hover:.3f},"
                    f" selection {seconds:.3f} ({count} selected)",
                    flush=True,
                )
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait()
        baseline.shutdown()
    report = {name: statistics.median(values) for name, values in results.items()}
    report["segments_per_panel"] = args.segments
    report["webgl_renderer"] = renderer
    report["selected_points"] = selected
    report["runs"] = results
    report["load_average"] = os.getloadavg()
    for name in results:
        print(f"{name:27s} median {report[name]:.3f}  runs {[round(v, 3) for v in results[name]]}")
    print(f"load average (1, 5, 15 min): {report['load_average']}")
    print(f"selection size: {selected} points")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
