"""Starting the app and the extraction: failures at start are one clear line, never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explore_dash import cli
from explore_dash.server import startup
from tests.support.paths import REPO


def start_command(
    args: list[str], tmp_path: Path, prelude: str = ""
) -> subprocess.CompletedProcess:
    """``python -m explore_dash ARGS`` from this checkout, with ``prelude`` run first."""
    code = f"{prelude}\nimport sys, runpy\nsys.argv = ['explore_dash', *{args!r}]\n"
    code += "runpy.run_module('explore_dash', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("explore-dash: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_cli001_a_port_in_use_is_one_line_and_starts_no_extraction(tmp_path: Path):
    library, data = tmp_path / "music", tmp_path / "data"
    library.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = start_command(
            ["--library", str(library), "--data", str(data), "--port", str(port)], tmp_path
        )
    assert_one_line_error(result, f"port {port} is in use", f"--port {port + 1}")
    assert not (data / "progress.json").exists()  # no extraction was started


def test_cli002_a_missing_library_is_one_line(tmp_path: Path):
    result = start_command(["--library", str(tmp_path / "nowhere")], tmp_path)
    assert_one_line_error(result, "music library not found", "nowhere")


def test_cli003_an_unreadable_library_is_one_line(tmp_path: Path, monkeypatch, capsys):
    # Root reads any folder whatever its mode, so the refusal is the operating system's answer.
    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(startup.os, "scandir", refuse)
    started = []
    monkeypatch.setattr(cli, "start_extraction", lambda *a: started.append(a))
    status = cli.run(library=tmp_path, data=tmp_path / "data", host="127.0.0.1", port=0)
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip().startswith(f"explore-dash: error: music library not readable: {tmp_path}")
    assert len(err.strip().splitlines()) == 1
    assert not started


def test_cli004_a_missing_package_is_one_line_saying_to_reinstall(tmp_path: Path):
    library = tmp_path / "music"
    library.mkdir()
    # As in an install without dash[diskcache]: the background-job manager cannot load psutil.
    result = start_command(
        ["--library", str(library), "--data", str(tmp_path / "data"), "--port", "0"],
        tmp_path,
        prelude="import sys; sys.modules['psutil'] = None",
    )
    assert_one_line_error(result, "a required package is missing", "pip install")
    assert not (tmp_path / "data" / "progress.json").exists()


def test_cli005_an_unknown_host_is_one_line(tmp_path: Path):
    library = tmp_path / "music"
    library.mkdir()
    result = start_command(
        ["--library", str(library), "--data", str(tmp_path / "data"), "--host", "no.such.host."],
        tmp_path,
    )
    assert_one_line_error(result, "--host no.such.host.")


@pytest.mark.parametrize("after_s", [0.0, 0.05, 0.4, 1.5])
def test_cli006_extraction_stopped_while_starting_exits_quietly(tmp_path: Path, after_s: float):
    """The app stops its extraction child with SIGINT, possibly while it is still importing, or
    while its interpreter still starts (0.05 s on a busy machine: runpy finding the package)."""
    from extraction.signals import stops_blocked

    library = tmp_path / "music"
    library.mkdir()
    with stops_blocked():  # as explore_dash.cli.start_extraction starts it
        child = subprocess.Popen(
            [sys.executable, "-m", "extraction", "--library", str(library), "--data",
             str(tmp_path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
    time.sleep(after_s)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    # An empty library is done in well under a second: a signal that lands while the finished
    # interpreter shuts down (its handlers back to the default) ends it by the signal itself.
    assert child.returncode in (0, 130, -signal.SIGINT), err
    assert "Traceback" not in err + out


def test_cli007_a_stop_during_a_held_block_is_acted_on_after_it():
    from extraction.signals import stops_held

    finished = []
    with pytest.raises(KeyboardInterrupt), stops_held():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        finished.append(True)  # the block was not cut short
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_cli008_missing_module_names_the_module_behind_a_wrapped_import_error():
    from extraction.signals import missing_module

    try:
        try:
            import explore_dash_no_such_module  # noqa: F401
        except ImportError as inner:
            raise ImportError("requires extra dependencies") from inner
    except ImportError as outer:
        assert missing_module(outer) == "explore_dash_no_such_module"
    assert missing_module(ImportError("numpy: PyCapsule_Import failed")) is None


@pytest.mark.parametrize("flag, started", [(False, 1), (True, 0)])
def test_cli010_the_maps_ahead_start_with_the_app_unless_told_not_to(tmp_path, monkeypatch,
                                                                     flag, started):  # fmt: skip
    from explore_dash.maps import ahead as maps_ahead

    library = tmp_path / "music"
    library.mkdir()
    launched = []

    class Helper:
        pid = 4242

        def poll(self):
            return None

        def wait(self):
            return None

        def terminate(self):
            launched.append("terminated")

        def send_signal(self, signum):
            launched.append(signum)

    def start(data):
        launched.append(data)
        return Helper()

    monkeypatch.setattr(maps_ahead, "start_maps_ahead", start)
    monkeypatch.setattr(cli, "start_extraction", lambda *a: None)
    monkeypatch.setattr("explore_dash.maps.numba_cache.start_warm_up", lambda *a: None)
    monkeypatch.setattr("dash.Dash.run", lambda *a, **k: None)  # serve nothing: return at once
    args = cli.parse_args(["--library", str(library), "--data", str(tmp_path / "d"), "--port", "0",
                           "--no-extract", *(["--no-maps-ahead"] if flag else [])])  # fmt: skip
    assert cli.run(**vars(args)) == 0
    # Stopped, then resumed in case the page had paused it (it acts on SIGTERM once resumed).
    expected = [tmp_path / "d", "terminated", signal.SIGCONT]
    assert launched == (expected if started else [])


def test_cli012_every_option_of_the_command_line_is_a_keyword_of_run():
    import inspect

    # main() passes the parsed options to run() as they are: a dest run() lacks would be a
    # TypeError at every start, a keyword no option gives would never be set from the command.
    options = vars(cli.parse_args(["--library", "music"]))
    parameters = inspect.signature(cli.run).parameters
    assert set(options) == set(parameters)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


def test_cli011_a_helper_that_finishes_before_the_app_leaves_no_zombie():
    process = cli.reaped_when_done(subprocess.Popen([sys.executable, "-c", "pass"]))
    deadline = time.monotonic() + 30
    while process.returncode is None:  # set by the reaping thread alone: nothing here waits
        assert time.monotonic() < deadline, "the finished helper was never reaped"
        time.sleep(0.05)
    assert process.returncode == 0 and not Path(f"/proc/{process.pid}").exists()
    assert cli.reaped_when_done(None) is None
