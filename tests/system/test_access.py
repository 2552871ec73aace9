"""Off loopback every route needs the access token; on loopback nothing changes unless asked."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from explore_dash import ids
from explore_dash.cli import visitor_url
from explore_dash.config import AppConfig
from explore_dash.server.access import (
    COOKIE_NAME,
    RedactToken,
    access_key,
    cookie_value,
    install_access_token,
    redact,
)
from explore_dash.server.app import create_app
from explore_dash.server.failed_tries import FAILURE_WINDOW_SECONDS, MAX_FAILURES, MemoryTries
from explore_dash.server.startup import StartupError, access_token, allowed_hosts
from tests.support.doubles import FakeClock, free_port, wait_for_port
from tests.support.fake_collection import write_fake_collection
from tests.support.load import callback_body, layout_values, selection_callback_key
from tests.support.paths import REPO

TOKEN = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    fake = write_fake_collection(tmp_path_factory.mktemp("access"))
    app = create_app(AppConfig(fake.library, fake.data_dir, extract=False, token=TOKEN))
    return fake, app


def every_route(app) -> list[tuple[str, str, dict | None]]:
    """(method, path, JSON body) that work with the token: the page, Dash's routes, the callbacks
    for a selection and a playlist download, audio, assets."""
    initial = layout_values(app)

    def value(component, prop):
        chosen = {ids.PLAYLIST: [0, 1], ids.PLAYLIST_EXPORT: 1, ids.PLAYLIST_NAME: "party"}
        if isinstance(component, str) and component in chosen:
            return chosen[component]
        return initial.get((json.dumps(component, sort_keys=True), prop))

    selection = callback_body(app, selection_callback_key(app), value)
    export = f"..{ids.PLAYLIST_DOWNLOAD}.data...{ids.PLAYLIST_MESSAGE}.children.."
    download = callback_body(app, export, value)
    asset = next(p.name for p in (REPO / "assets").glob("*.js"))
    script = re.findall(r'src="([^"]+_dash-component-suites[^"]+)"', page_html(app))[0]
    return [("GET", "/", None), ("GET", "/a/deep/link", None), ("GET", "/_dash-layout", None),
            ("GET", "/_dash-dependencies", None), ("GET", "/_favicon.ico", None),
            ("GET", "/_reload-hash", None), ("GET", "/audio/0", None),
            ("POST", "/_presence", None),
            ("GET", f"/assets/{asset}", None), ("GET", "/assets/style.css", None),
            ("GET", script.split("?")[0], None),
            ("POST", "/_dash-update-component", selection),
            ("POST", "/_dash-update-component", download)]  # fmt: skip


def page_html(app) -> str:
    with app.server.test_client() as client:
        client.get(f"/?token={TOKEN}")
        return client.get("/").get_data(as_text=True)


def request(client, method: str, path: str, body):
    return client.open(path, method=method, json=body)


def test_access001_every_route_answers_401_without_the_token_and_works_with_it(guarded):
    _, app = guarded
    routes = every_route(app)
    # Every route the server has is among them (Flask's empty /static only refuses).
    adapter = app.server.url_map.bind("localhost")
    reached = {adapter.match(path, method)[0] for method, path, _ in routes}
    assert reached | {"static"} == {rule.endpoint for rule in app.server.url_map.iter_rules()}
    with app.server.test_client() as stranger:
        for method, path, body in routes + [("GET", "/static/x", None)]:
            response = request(stranger, method, path, body)
            assert response.status_code == 401, path
            assert "access token" in response.get_data(as_text=True)
        # A made-up cookie is no better.
        stranger.set_cookie(COOKIE_NAME, "0" * 64)
        assert stranger.get("/").status_code == 401
    with app.server.test_client() as visitor:
        arrival = visitor.get(f"/?token={TOKEN}&view=1")
        assert arrival.status_code == 303 and arrival.headers["Location"] == "/?view=1"
        cookie = arrival.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and TOKEN not in cookie
        for method, path, body in routes:
            response = request(visitor, method, path, body)
            assert response.status_code == (204 if path == "/_presence" else 200), path
        assert ".m3u8" in response.get_data(as_text=True)  # the playlist came down
        assert visitor.get("/audio/0", headers={"Range": "bytes=0-9"}).status_code == 206
        # The way back never leaves this server, and any path can be asked for.
        for path, back in (("//evil.example/", "/evil.example/"),
                           ("/\\evil.example/", "/%5Cevil.example/"),
                           ("/\xe2\x82\xac", "/%E2%82%AC")):  # "/€" as WSGI carries it
            arrival = visitor.get("/", query_string={"token": TOKEN},
                                  environ_overrides={"PATH_INFO": path})  # as sent, raw
            assert (arrival.status_code, arrival.headers["Location"]) == (303, back), path


def test_access002_wrong_tokens_are_refused_and_then_slowed_down(guarded, tmp_path):
    fake, _ = guarded
    clock = FakeClock()
    import flask

    server = flask.Flask("guarded")
    server.add_url_rule("/", "page", lambda: "the page")
    install_access_token(server, TOKEN, b"k" * 32, MemoryTries(clock))
    with server.test_client() as client:
        # A cookie made from the token alone is worth nothing without the app's secret.
        client.set_cookie(COOKIE_NAME, cookie_value(TOKEN, b"guessed key"))
        assert client.get("/").status_code == 401
        client.delete_cookie(COOKIE_NAME)
        for attempt in range(MAX_FAILURES):
            assert client.get(f"/?token=guess{attempt}").status_code == 401
        slowed = client.get(f"/?token={TOKEN}")  # even the right one waits out the minute
        assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
        other = client.get(f"/?token={TOKEN}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert other.status_code == 303  # another address is not slowed down
        # One IPv6 host may pick any address of its /64: they count as one.
        for attempt in range(MAX_FAILURES):
            host = {"REMOTE_ADDR": f"2001:db8::{attempt + 1:x}"}
            assert client.get(f"/?token=guess{attempt}", environ_base=host).status_code == 401
        neighbour = {"REMOTE_ADDR": "2001:db8::ffff"}
        assert client.get(f"/?token={TOKEN}", environ_base=neighbour).status_code == 429
        clock.now += FAILURE_WINDOW_SECONDS
        assert client.get(f"/?token={TOKEN}").status_code == 303
        assert client.get("/").get_data(as_text=True) == "the page"


def test_access003_the_token_is_chosen_like_this():
    assert access_token("127.0.0.1", None, {}) is None  # loopback: as easy as before
    assert access_token("127.0.0.1", "given-token", {}) == "given-token"
    assert access_token("::1", None, {"EXPLORE_DASH_TOKEN": "from-environment"}) == (
        "from-environment"
    )
    made = access_token("0.0.0.0", None, {})
    assert made and len(made) >= 32 and made != access_token("0.0.0.0", None, {})
    with pytest.raises(StartupError, match="at least 8"):
        access_token("0.0.0.0", "short", {})
    assert visitor_url("127.0.0.1", 8050, None) == "http://127.0.0.1:8050/"
    assert visitor_url("192.168.1.20", 8050, "abc").endswith("192.168.1.20:8050/?token=abc")
    assert visitor_url("0.0.0.0", 9, "abc").endswith(":9/?token=abc")
    assert visitor_url("::1", 9, "a+b&c d").endswith("[::1]:9/?token=a%2Bb%26c+d")


def test_access004_log_records_never_carry_the_token():
    assert redact(f"GET /?token={TOKEN}&a=1 HTTP/1.1") == "GET /?token=[redacted]&a=1 HTTP/1.1"
    record = logging.LogRecord("werkzeug", logging.INFO, "", 0, '"%s" 303', (f"/?token={TOKEN}",),
                               None)  # fmt: skip
    RedactToken().filter(record)
    assert TOKEN not in record.getMessage()


def test_access005_the_command_off_loopback_prints_a_token_and_logs_it_nowhere_else(tmp_path):
    fake = write_fake_collection(tmp_path)
    port = free_port()
    command = [sys.executable, "-m", "explore_dash", "--library", str(fake.library), "--data",
               str(fake.data_dir), "--no-extract", "--no-maps-ahead", "--host", "0.0.0.0",
               "--port", str(port), "--debug"]  # fmt: skip
    # --debug: werkzeug logs every request line, the place a token would leak to.
    env = {key: value for key, value in os.environ.items() if key != "EXPLORE_DASH_TOKEN"}
    app = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        lines = []
        for line in app.stdout:
            lines.append(line)
            if line.startswith("explore-dash: serving"):
                break
        token = re.search(r"\?token=([\w-]+)", lines[-1]).group(1)
        base = f"http://127.0.0.1:{port}"
        wait_for_port(port, app)
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(base + "/", timeout=20)
        assert denied.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as wrong:
            urllib.request.urlopen(base + "/?token=not-the-token", timeout=20)
        assert wrong.value.code == 401
        jar = CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(f"{base}/?token={token}", timeout=20)
        assert page.status == 200 and page.url == base + "/"  # the token left the address
        assert browser.open(base + "/audio/0", timeout=20).status == 200
        # --debug: Dash's tools, but not Werkzeug's debugger (it answers before any hook).
        for debugger in ("/?__debugger__=yes&cmd=resource&f=style.css", "/console"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + debugger, timeout=20)
            assert refused.value.code == 401, debugger
    finally:
        app.terminate()
        rest, _ = app.communicate(timeout=30)
    after_start = rest
    assert "GET /audio/0" in after_start  # the request lines are there ...
    assert token not in after_start  # ... without the token
    assert "".join(lines).count(token) == 1  # printed once, in the address to open


def test_access006_gunicorn_asks_for_the_token_it_is_given_and_its_access_log_hides_it(tmp_path):
    pytest.importorskip("gunicorn", reason="gunicorn comes with explore-dash[cluster]")
    fake = write_fake_collection(tmp_path)
    port = free_port()
    env = {**os.environ, "EXPLORE_DASH_LIBRARY": str(fake.library),
           "EXPLORE_DASH_DATA": str(fake.data_dir), "EXPLORE_DASH_TOKEN": TOKEN}  # fmt: skip
    env.pop("EXPLORE_DASH_REDIS", None)
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
               "--access-logfile", "-", "explore_dash.wsgi:app"]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(base + "/audio/0", timeout=60)
        assert denied.value.code == 401
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        assert browser.open(f"{base}/?token={TOKEN}", timeout=60).url == base + "/"
        assert browser.open(base + "/audio/0", timeout=60).status == 200
        # The name percent-encoded is the same parameter to Flask: accepted, and hidden too.
        other = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        assert other.open(f"{base}/?%74oken={TOKEN}&x=1", timeout=60).url == base + "/?x=1"
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert "GET /audio/0" in log and "token=[redacted]" in log  # the access log was written
    assert TOKEN not in log


def test_access007_the_cookie_secret_is_made_once_for_every_process_and_kept_private(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:  # processes of one app starting at once
        keys = set(pool.map(lambda _: access_key(tmp_path), range(16)))
    assert len(keys) == 1 and len(keys.pop()) == 32
    key_file = next(tmp_path.glob("access.key"))
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["access.key"]  # no temporaries left
    not_a_folder = tmp_path / "access.key" / "data"  # cannot hold anything, even for root
    assert access_key(not_a_folder) != access_key(not_a_folder)  # one per process then


def test_access008_the_wsgi_app_without_a_token_answers_this_machine_only(tmp_path):
    from explore_dash.wsgi import create_server

    fake = write_fake_collection(tmp_path)
    environ = {"EXPLORE_DASH_LIBRARY": str(fake.library), "EXPLORE_DASH_DATA": str(fake.data_dir)}
    with create_server(environ).test_client() as client:
        assert client.get("/audio/0").status_code == 200  # 127.0.0.1, the test client's
        stranger = client.get("/audio/0", environ_base={"REMOTE_ADDR": "192.168.1.7"})
        assert stranger.status_code == 403 and "EXPLORE_DASH_TOKEN" in stranger.get_data(True)
    with create_server({**environ, "EXPLORE_DASH_TOKEN": TOKEN}).test_client() as client:
        visitor = {"REMOTE_ADDR": "192.168.1.7"}
        assert client.get("/audio/0", environ_base=visitor).status_code == 401
        assert client.get(f"/?token={TOKEN}", environ_base=visitor).status_code == 303
        assert client.get("/audio/0", environ_base=visitor).status_code == 200


FOREIGN_HOST = "rebind.attacker.example:8050"
LOCAL_HOSTS = ("localhost", "localhost:8050", "LOCALHOST.", "127.0.0.1:8050", "127.0.0.2",
               "[::1]:8050", "[::ffff:127.0.0.1]:8050")  # fmt: skip


@pytest.fixture(scope="module")
def open_app(tmp_path_factory):
    """The app as ``python -m explore_dash`` serves it by default: loopback, no token."""
    fake = write_fake_collection(tmp_path_factory.mktemp("open"))
    config = AppConfig(fake.library, fake.data_dir, extract=False, allow_hosts=("music.example",))
    return fake, create_app(config)


def test_access009_without_a_token_every_route_refuses_a_foreign_host_name(open_app, guarded):
    # DNS rebinding: a page of rebind.attacker.example, its name then pointed at 127.0.0.1,
    # would read the library through the browser. Its requests carry its own name as Host.
    _, app = open_app
    with app.server.test_client() as client:
        for method, path, body in every_route(app) + [("GET", "/static/x", None)]:
            refused = client.open(path, method=method, json=body,
                                  headers={"Host": FOREIGN_HOST})  # fmt: skip
            assert refused.status_code == 403, path
            text = refused.get_data(as_text=True)
            assert text.count("\n") == 1 and "--allow-host" in text, text
            assert "rebind.attacker.example" in text
            for host in LOCAL_HOSTS + ("Music.Example:443",):  # the name the user allowed
                answer = client.open(path, method=method, json=body, headers={"Host": host})
                assert answer.status_code != 403, (path, host)
        # A name only resembling an allowed or a local one is foreign.
        for host in ("music.example.attacker.example", "localhost.attacker.example",
                     "127.0.0.1.nip.io", "0.0.0.0:8050", "[::]:8050"):  # fmt: skip
            assert client.get("/", headers={"Host": host}).status_code == 403, host
    # With a token a rebound page has no cookie for its name (nor the token): no check needed.
    _, guarded_app = guarded
    with guarded_app.server.test_client() as visitor:
        arrival = visitor.get(f"/?token={TOKEN}", headers={"Host": "music.lan:8050"})
        assert arrival.status_code == 303


def test_access010_allow_host_for_the_command_and_for_gunicorn(tmp_path):
    import http.client

    from explore_dash.cli import parse_args
    from explore_dash.wsgi import config_from_environment

    fake = write_fake_collection(tmp_path)
    assert parse_args(["--library", "m"]).allow_hosts == []
    environ = {"EXPLORE_DASH_LIBRARY": str(fake.library), "EXPLORE_DASH_DATA": str(fake.data_dir),
               "EXPLORE_DASH_ALLOW_HOSTS": "music.example, Proxy.Example.:443"}  # fmt: skip
    assert config_from_environment(environ).allow_hosts == ("music.example", "proxy.example")
    with pytest.raises(StartupError, match="--allow-host"):
        parse_and_check = ["--library", "m", "--allow-host", "a b/c"]
        allowed_hosts(parse_args(parse_and_check).allow_hosts)
    port = free_port()
    command = [sys.executable, "-m", "explore_dash", "--library", str(fake.library), "--data",
               str(fake.data_dir), "--no-extract", "--no-maps-ahead", "--port", str(port),
               "--allow-host", "music.example", "--allow-host", "proxy.example"]  # fmt: skip
    env = {key: value for key, value in os.environ.items() if key != "EXPLORE_DASH_TOKEN"}
    app = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for_port(port, app)

        def status(host: str, path: str = "/_dash-layout") -> int:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path, headers={"Host": host})
                return connection.getresponse().status
            finally:
                connection.close()

        assert status(FOREIGN_HOST) == 403 and status(FOREIGN_HOST, "/audio/0") == 403
        for host in ("localhost:8050", f"127.0.0.1:{port}", "music.example", "proxy.example:80"):
            assert status(host) == 200, host
    finally:
        app.terminate()
        app.wait(30)


def test_access011_an_ipv4_client_of_a_dual_stack_socket_is_on_loopback():
    # gunicorn -b [::]:8050 sees IPv4 clients as ::ffff:a.b.c.d; 127.0.0.1 is still this machine.
    import flask

    from explore_dash.server.access import install_loopback_only
    from explore_dash.server.startup import is_loopback

    server = flask.Flask("loopback")
    server.add_url_rule("/", "page", lambda: "the page")
    install_loopback_only(server)
    with server.test_client() as client:
        for address, status in (("::ffff:127.0.0.1", 200), ("::ffff:127.8.0.1", 200),
                                ("::1", 200), ("::ffff:192.168.1.7", 403),
                                ("::ffff:0:127.0.0.1", 403)):  # fmt: skip
            answer = client.get("/", environ_base={"REMOTE_ADDR": address})
            assert answer.status_code == status, address
    assert is_loopback("::ffff:127.0.0.1") and is_loopback("[::ffff:127.0.0.1]")
    assert not is_loopback("::ffff:10.0.0.1")


def test_access012_the_token_is_redacted_however_its_name_is_spelled():
    # Flask decodes a parameter's name (%74oken, tok%65n are "token"): the log must too.
    for query in (f"?%74oken={TOKEN}", f"?x=1&tok%65n={TOKEN}", f"?%74%6F%6B%65%6E={TOKEN}&a=1",
                  f"?a=1;token={TOKEN}", f"?token={TOKEN}&%74oken={TOKEN}x"):  # fmt: skip
        line = redact(f'127.0.0.1 - - "GET /{query} HTTP/1.1" 303 0')
        assert TOKEN not in line and "[redacted]" in line, line
        record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(r)s",
                                   ({"r": f"GET /{query} HTTP/1.1"},), None)  # fmt: skip
        RedactToken().filter(record)
        assert TOKEN not in record.getMessage()
    kept = "GET /?tokens=1&my%74oken=2&view=3 HTTP/1.1"  # other names are left alone
    assert redact(kept) == kept


def test_access013_wrong_tokens_are_counted_across_gunicorn_workers(tmp_path):
    pytest.importorskip("gunicorn", reason="gunicorn comes with explore-dash[cluster]")
    import http.client

    fake = write_fake_collection(tmp_path)
    port = free_port()
    env = {**os.environ, "EXPLORE_DASH_LIBRARY": str(fake.library),
           "EXPLORE_DASH_DATA": str(fake.data_dir), "EXPLORE_DASH_TOKEN": TOKEN}  # fmt: skip
    env.pop("EXPLORE_DASH_REDIS", None)
    # --timeout: a sync worker waiting on the held connection sends no heartbeat meanwhile.
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "--timeout", "120",
               "-b", f"127.0.0.1:{port}", "explore_dash.wsgi:app"]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for_port(port, server)
        # A sync worker serves one connection at a time: the first accepted (the queue is
        # first in, first out) keeps worker A waiting for its request, so the wrong tries
        # that follow all go to worker B; the right token then goes to A.
        held = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        held.connect()
        for attempt in range(MAX_FAILURES):
            with pytest.raises(urllib.error.HTTPError) as wrong:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/?token=guess{attempt}",
                                       timeout=120)  # fmt: skip
            assert wrong.value.code == 401
        held.request("GET", f"/?token={TOKEN}")
        slowed = held.getresponse()
        assert slowed.status == 429 and int(slowed.getheader("Retry-After")) >= 1
        held.close()
    finally:
        server.terminate()
        server.wait(30)


def one_wrong_try(path: Path) -> float:
    from explore_dash.server.failed_tries import SqliteTries

    return SqliteTries(path).attempt("192.0.2.7", correct=False)


def test_access014_the_data_folders_count_is_one_locked_step_for_every_process(tmp_path, caplog):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from explore_dash.server.failed_tries import TRIES_FILE, SqliteTries

    # A burst from four processes at once: five are looked at, every other one waits.
    path = tmp_path / "cache" / TRIES_FILE
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("fork")) as pool:
        waits = list(pool.map(one_wrong_try, [path] * 24))
    assert waits.count(0.0) == MAX_FAILURES
    assert all(0 < wait <= FAILURE_WINDOW_SECONDS for wait in waits if wait)
    # A clock set back does not lock anyone out for longer than the window.
    clock = FakeClock()
    clock.now = 1_000_000.0
    tries = SqliteTries(tmp_path / "clock.sqlite", clock)
    for _ in range(MAX_FAILURES):
        assert tries.attempt("192.0.2.8", False) == 0
    assert 0 < tries.attempt("192.0.2.8", True) <= FAILURE_WINDOW_SECONDS
    clock.now -= 3600
    assert tries.attempt("192.0.2.8", True) == 0
    # A data folder that cannot hold the file: counted in this process, said once.
    (tmp_path / "not-a-folder").write_text("")
    local = SqliteTries(tmp_path / "not-a-folder" / TRIES_FILE)
    waits = [local.attempt("192.0.2.9", False) for _ in range(MAX_FAILURES + 2)]
    assert waits[:MAX_FAILURES] == [0.0] * MAX_FAILURES and all(waits[MAX_FAILURES:])
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "in this process only" in caplog.records[0].message


def test_access015_with_redis_the_count_is_kept_in_redis_for_every_machine(redis_url, tmp_path):
    import redis

    from explore_dash.server.failed_tries import REDIS_PREFIX, RedisTries, shared_tries

    # Two app processes, on two machines as far as they can tell: only Redis is shared.
    here, there = shared_tries(tmp_path, redis_url), shared_tries(tmp_path / "other", redis_url)
    assert isinstance(here, RedisTries)
    for _ in range(MAX_FAILURES):
        assert here.attempt("198.51.100.7", False) == 0
    assert 0 < there.attempt("198.51.100.7", True) <= FAILURE_WINDOW_SECONDS
    assert there.attempt("198.51.100.8", True) == 0  # another address is not slowed down
    assert here.attempt("2001:db8::1", False) == 0 and there.attempt("2001:db8::2", True) == 0
    # Quiet clients cost nothing: the count expires with the window.
    ttl = redis.Redis.from_url(redis_url).pttl(REDIS_PREFIX + "198.51.100.7")
    assert 0 < ttl <= FAILURE_WINDOW_SECONDS * 1000
    assert not (tmp_path / "cache").exists()  # nothing counted in the data folder
    # Redis away: counted in this process until it is back.
    away = RedisTries(f"redis://127.0.0.1:{free_port()}/0")
    waits = [away.attempt("198.51.100.9", False) for _ in range(MAX_FAILURES + 1)]
    assert waits[:MAX_FAILURES] == [0.0] * MAX_FAILURES and waits[-1] > 0
