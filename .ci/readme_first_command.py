"""Prove the README's first command in a fresh, non-editable install with no extras.

    VENV/bin/python .ci/readme_first_command.py

Run by ``.ci/run`` with the Python of a venv that had ``pip install .`` and nothing else. It
uses only what that venv has (the standard library and the runtime dependencies), and checks
what a new user would meet:

1. every module of the installed ``explore_dash`` and ``extraction`` packages imports, from
   site-packages (not this checkout);
2. ``python -m extraction --help`` works;
3. ``python -m explore_dash --library DIR`` on a small synthesized library, with ``HOME`` an
   empty folder (so the default data folder is used), serves the page, and the first panel's
   figure gets points through the Dash callback that draws it;
4. SIGINT stops it cleanly: exit status 0 or 130, no traceback on stderr, finished tracks kept.

Exits 0 when all hold, 1 with the reason otherwise.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("explore_dash", "extraction")
PAGE_TIMEOUT_S = 180
POINTS_TIMEOUT_S = 900
STOP_TIMEOUT_S = 180


class Failure(Exception):
    """One check did not hold; the message says which and why."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def user_env(home: Path) -> dict[str, str]:
    """The environment of a new user: an empty HOME, nothing pointing into this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "XDG_"))}
    env["HOME"] = str(home)
    return env


def make_library(folder: Path) -> None:
    """Three short tracks in three formats, one of them untagged."""
    sys.path.insert(0, str(REPO))  # tests/support/synth.py only; the app runs from site-packages
    from tests.support.synth import write_audio

    write_audio(
        folder / "Artist A" / "01 tone.ogg",
        5.0,
        signal="tone",
        tags={"artist": "Artist A", "title": "Tone", "genre": "Ambient"},
    )
    write_audio(
        folder / "Artist B" / "02 chirp.mp3",
        7.0,
        signal="chirp",
        tags={"artist": "Artist B", "title": "Chirp"},
    )
    write_audio(folder / "untagged noise.wav", 4.0, signal="noise", seed=3)


IMPORT_EVERY_MODULE = f"""
import importlib, pkgutil, sys, sysconfig
from pathlib import Path
site = Path(sysconfig.get_paths()["purelib"]).resolve()
for name in {PACKAGES!r}:
    package = importlib.import_module(name)
    if not Path(package.__file__).resolve().is_relative_to(site):
        sys.exit(f"{{name}} came from {{package.__file__}}, not the installed package in {{site}}")
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if module.name.endswith(".__main__"):  # importing it runs the command
            continue
        importlib.import_module(module.name)
        print(module.name)
"""


def check_installed_modules(env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise Failure(f"importing the installed modules failed:\n{result.stderr}")
    print(f"ok: {len(result.stdout.split())} installed modules import")


def check_extraction_help(env: dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "extraction", "--help"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or "--library" not in result.stdout:
        raise Failure(f"python -m extraction --help failed:\n{result.stdout}{result.stderr}")
    print("ok: python -m extraction --help")


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def wait_for_page(url: str, app: subprocess.Popen) -> None:
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise Failure(f"the app exited with status {app.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise Failure(f"the page did not answer within {PAGE_TIMEOUT_S} s")


def layout_values(layout: dict) -> dict[tuple[str, str], object]:
    """Every (component id as sorted JSON, property) -> value of the page's layout JSON."""
    values: dict[tuple[str, str], object] = {}

    def walk(node: object) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict) or "props" not in node:
            return
        props = node["props"]
        if "id" in props:
            key = json.dumps(props["id"], sort_keys=True)
            for prop, value in props.items():
                values[(key, prop)] = value
        walk(props.get("children"))

    walk(layout)
    return values


def concrete(id_text: str, panel: int) -> dict | str:
    """A dependency's id with its MATCH wildcard set to ``panel``."""
    if not id_text.startswith("{"):
        return id_text
    spec = json.loads(id_text)
    return {k: (panel if v == ["MATCH"] else v) for k, v in spec.items()}


def figure_callback(dependencies: list[dict]) -> dict:
    """The server callback that draws a panel's figure from the panel's settings."""
    for dependency in dependencies:
        output = dependency["output"]
        if (
            dependency.get("clientside_function") is None
            and '"panel-graph"' in output
            and ".figure" in output
            and "@" not in output.split("...")[0]
        ):
            return dependency
    raise Failure("no server callback draws a panel's figure")


def draw_request(dependency: dict, values: dict[tuple[str, str], object], panel: int) -> dict:
    """The body dash-renderer POSTs to run ``dependency`` for ``panel``."""

    def entry(spec: dict) -> dict:
        component = concrete(spec["id"], panel)
        key = json.dumps(component, sort_keys=True)
        return {
            "id": component,
            "property": spec["property"],
            "value": values.get((key, spec["property"])),
        }

    output = dependency["output"]
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    outputs = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": concrete(component, panel), "property": prop.split("@")[0]})
    inputs = [entry(spec) for spec in dependency["inputs"]]
    first = inputs[0]
    changed = json.dumps(first["id"], sort_keys=True, separators=(",", ":"))
    return {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": [entry(spec) for spec in dependency.get("state", [])],
        "changedPropIds": [f"{changed}.{first['property']}"],
    }


def points_in(response: dict) -> int:
    """Segments drawn in the base trace of any figure in a callback response."""
    for props in response.get("response", {}).values():
        figure = props.get("figure") if isinstance(props, dict) else None
        if not isinstance(figure, dict) or not figure.get("data"):
            continue
        ids = figure["data"][0].get("customdata")
        if isinstance(ids, dict) and "bdata" in ids:  # float64 typed array
            return len(base64.b64decode(ids["bdata"])) // 8
        if isinstance(ids, list):
            return len(ids)
    return 0


def wait_for_points(base: str, app: subprocess.Popen) -> int:
    dependency = figure_callback(get_json(base + "_dash-dependencies"))
    deadline = time.monotonic() + POINTS_TIMEOUT_S
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise Failure(f"the app exited with status {app.returncode} while analysing")
        # The layout is built per page load, with the tables as they are now.
        values = layout_values(get_json(base + "_dash-layout"))
        body = json.dumps(draw_request(dependency, values, panel=0)).encode()
        request = urllib.request.Request(
            base + "_dash-update-component",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
            answer = json.loads(text) if text else {}  # 204: nothing to draw yet
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise Failure(f"drawing the first panel answered {error.code}") from error
            answer = {}
        drawn = points_in(answer)
        if drawn:
            return drawn
        time.sleep(2)
    raise Failure(f"the first panel had no points after {POINTS_TIMEOUT_S} s")


def finished_tracks(home: Path) -> int:
    import pyarrow.parquet as pq

    tables = list((home / ".local" / "share" / "explore-dash").glob("*/tracks.parquet"))
    if len(tables) != 1:
        raise Failure(f"expected one data folder under the default place, found {tables}")
    statuses = pq.read_table(tables[0], columns=["status"]).column("status").to_pylist()
    return statuses.count("ok")


def check_first_command(home: Path, library: Path, env: dict[str, str]) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    logs = home.parent
    with open(logs / "app.out", "w") as out, open(logs / "app.err", "w") as err:
        app = subprocess.Popen(
            [sys.executable, "-m", "explore_dash", "--library", str(library), "--port", str(port)],
            cwd=home,
            env=env,
            stdout=out,
            stderr=err,
        )
        try:
            wait_for_page(base, app)
            print(f"ok: the page answers at {base}")
            drawn = wait_for_points(base, app)
            print(f"ok: the first panel has {drawn} points")
            app.send_signal(signal.SIGINT)
            status = app.wait(STOP_TIMEOUT_S)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    stderr = (logs / "app.err").read_text(errors="replace")
    output = (logs / "app.out").read_text(errors="replace")
    if status not in (0, 130):
        raise Failure(f"exit status {status} after SIGINT\n{output}{stderr}")
    if "Traceback" in stderr or "Traceback" in output:
        raise Failure(f"a traceback after SIGINT:\n{stderr}")
    kept = finished_tracks(home)
    if kept < 1:
        raise Failure("no finished track was kept after SIGINT")
    print(f"ok: SIGINT -> exit {status}, no traceback, {kept} finished tracks kept")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="readme-first-command-") as scratch:
        root = Path(scratch)
        home, library = root / "home", root / "library"
        home.mkdir()
        make_library(library)
        env = user_env(home)
        try:
            check_installed_modules(env, home)
            check_extraction_help(env, home)
            check_first_command(home, library, env)
        except Failure as failure:
            print(f"FAILED: {failure}", file=sys.stderr)
            for log in ("app.out", "app.err"):
                if (root / log).is_file():
                    print(f"--- {log} ---\n{(root / log).read_text(errors='replace')}")
            return 1
    print("the README's first command works in a fresh venv with no extras")
    return 0


if __name__ == "__main__":
    sys.exit(main())
