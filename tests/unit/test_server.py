"""The web server under attack and under load: what it binds to, what it serves, how it fails."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest
from dash import Dash

from explore_dash.cli import exposure_warning, parse_args
from explore_dash.config import AppConfig
from explore_dash.data.colouring import NONE
from explore_dash.server.app import BuiltApp, build_app
from explore_dash.server.startup import is_loopback
from tests.support.fake_collection import FakeCollection, write_fake_collection, write_wav
from tests.support.load import callback_body, layout_values, run_load, selection_callback_key

SONG = "Alpha/First Album/01 Song A.wav"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[FakeCollection, BuiltApp, dict[str, bytes]]:
    """The whole app on a fake collection, with secret files around the library."""
    root = tmp_path_factory.mktemp("served")
    fake = write_fake_collection(root)
    secrets = {}
    for name in ("secret.wav", "library-secret.txt"):
        write_wav(root / name, hz=1234.0 + len(name))
        secrets[name] = (root / name).read_bytes()
    (root / "library-secret.txt").write_bytes(b"password=hunter2")
    secrets["library-secret.txt"] = b"password=hunter2"
    (fake.library / "escape.wav").symlink_to(root / "secret.wav")
    # An MPD and a Subsonic server where nothing listens: the players' callbacks are there to be
    # fuzzed too, and each answers at once that its server does not answer.
    config = AppConfig(fake.library, fake.data_dir, mpd="127.0.0.1:9",
                       subsonic="http://127.0.0.1:9", subsonic_user="fuzz")  # fmt: skip
    return fake, build_app(config), secrets


@pytest.fixture(scope="module")
def served(built) -> tuple[FakeCollection, Dash, dict[str, bytes]]:
    """The app of :func:`built` alone."""
    fake, parts, secrets = built
    return fake, parts.dash, secrets


def test_server001_loopback_by_default_and_a_warning_anywhere_else():
    assert parse_args(["--library", "x"]).host == "127.0.0.1"
    for host in ("127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host) and exposure_warning(host) is None, host
    for host in ("0.0.0.0", "", "::", "192.168.1.20", "10.0.0.1", "example.org", "my-laptop"):
        warning = exposure_warning(host)
        assert warning and "anyone who can reach this address" in warning, host


ATTACKS = [
    "/audio/..%2F..%2Fsecret.wav",
    "/audio/..%2f..%2fsecret.wav",
    "/audio/%2e%2e%2fsecret.wav",
    "/audio/%252e%252e%252fsecret.wav",
    "/audio/..",
    "/audio/../secret.wav",
    "/audio/../../secret.wav",
    "/audio//etc/passwd",
    "/audio/%2Fetc%2Fpasswd",
    "/audio/escape.wav",
    "/audio/-1",
    "/audio/-0",
    "/audio/3",  # the error track: in the table, never playable
    "/audio/4",  # a gap in the ids
    "/audio/2147483647",
    "/audio/2147483648",
    "/audio/99999999999999999999999999999999",
    "/audio/1e3",
    "/audio/0x1",
    "/audio/%C2%B2",  # superscript two
    "/audio/%D9%A0",  # Arabic-Indic zero
    "/audio/0%00",
    "/audio/%00",
    "/audio/0%20",
    "/audio/ 0",
    "/audio/0/..",
    "/audio/0/../1",
    "/audio/0;1",
    "/audio/" + "9" * 5000,
]


@pytest.mark.parametrize("url", ATTACKS)
def test_server002_the_audio_route_never_leaves_the_library(served, url: str):
    fake, app, secrets = served
    with app.server.test_client() as client, client.get(url) as response:
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code == 200:
            # Not an /audio/<id> URL once decoded (it holds a slash): Dash's catch-all route
            # answers with the app's own page, as for any unknown path.
            assert response.mimetype == "text/html", url
            assert b'id="react-entry-point"' in response.data
        assert response.data not in secrets.values()
        assert b"Traceback" not in response.data and b'File "' not in response.data


def test_server003_the_audio_route_serves_its_tracks_and_ignores_query_strings(served):
    fake, app, _ = served
    with app.server.test_client() as client, client.get("/audio/0?path=../../secret.wav") as r:
        assert r.status_code == 200 and r.data == (fake.library / SONG).read_bytes()


def test_server004_random_range_headers_never_break_the_audio_route(served):
    fake, app, _ = served
    song = (fake.library / SONG).read_bytes()
    rng = random.Random(4)
    alphabet = "bytes=-,0123456789 \t;xyzBYTES" + "\u0661\u00b2"
    with app.server.test_client() as client:
        for _ in range(300):
            header = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
            if rng.random() < 0.5:
                header = "bytes=" + header
            with client.get("/audio/0", headers={"Range": header}) as response:
                assert response.status_code in (200, 206, 416), header
                if response.status_code == 200:
                    assert response.data == song, header
                elif response.status_code == 206:
                    first, last = response.headers["Content-Range"][6:].split("/")[0].split("-")
                    assert response.data == song[int(first) : int(last) + 1], header


BAD_VALUES = [
    None,
    "",
    "x",
    -1,
    2**63,
    1e308,
    True,
    [],
    [None],
    {},
    {"ids": "all"},
    {"ids": [None, "1", -5, 1e30]},
    {"ids": list(range(0, 200000, 7)), "source": 7},
    {"source": "left"},
    "\U0001f3b5" * 2000,
    [[["deep"]]],
]


def server_callbacks(app) -> list[str]:
    """Every callback that runs on the server, background jobs (their own processes) aside."""
    return [
        key
        for key, callback in app.callback_map.items()
        if "callback" in callback and not callback.get("background")
    ]


def assert_handled(response, what: str) -> None:
    """A callback request got an answer: a result, no update, or an error without internals."""
    assert response.status_code in (200, 204, 400, 404, 405, 413, 415, 422), (what, response)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text, what
    if response.status_code == 200:
        json.loads(text)


def post_handled(client, body: dict, key: str, statuses: dict[int, int]) -> None:
    """POST a callback body; its answer must be handled (:func:`assert_handled`), and counted."""
    with client.post("/_dash-update-component", json=body) as response:
        assert_handled(response, (key, body))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1


def test_server005_malformed_callback_requests_get_an_error_not_a_crash(served):
    _, app, _ = served
    url = "/_dash-update-component"
    with app.server.test_client() as client:
        for raw in (b"", b"{", b"not json", b"[]", b"null", b"42", b'"x"', b"{}", b"\xff\xfe"):
            with client.post(url, data=raw, content_type="application/json") as response:
                assert response.status_code in (400, 415, 422), raw
                assert_handled(response, raw)
        for body in (
            {"output": "no-such-component.children", "inputs": [], "state": []},
            {"output": 7, "inputs": "x"},
            {"output": selection_callback_key(app)},
            {"output": selection_callback_key(app), "inputs": [{"id": 1}], "outputs": None},
        ):
            with client.post(url, json=body) as response:
                assert_handled(response, body)
        with client.post(url, data="{}", content_type="text/plain") as response:
            assert_handled(response, "text/plain")


def test_server006_callbacks_with_wrong_values_answer_and_the_server_keeps_serving(served):
    fake, app, _ = served
    initial = layout_values(app)
    rng = random.Random(6)
    statuses: dict[int, int] = {}
    with app.server.test_client() as client:
        for key in server_callbacks(app):
            for _ in range(len(BAD_VALUES)):

                def value(component_id, prop):
                    if rng.random() < 0.6:
                        return rng.choice(BAD_VALUES)
                    return initial.get((json.dumps(component_id, sort_keys=True), prop))

                post_handled(client, callback_body(app, key, value), key, statuses)
        print("statuses of bad callback requests:", statuses)
        # Still serving, and still right.
        key = selection_callback_key(app)
        selected = {"ids": [1, 2], "source": 0}
        body = callback_body(
            app,
            key,
            lambda i, p: (
                selected
                if i == "selection-store"
                else initial.get((json.dumps(i, sort_keys=True), p))
            ),
        )
        with client.post("/_dash-update-component", json=body) as response:
            assert response.status_code == 200
            assert json.loads(response.get_data(as_text=True))["response"]
        with client.get("/audio/0") as response:
            assert response.status_code == 200
            assert response.data == (fake.library / SONG).read_bytes()


def without_fields(body: dict, rng: random.Random) -> dict:
    """``body`` with fields taken out: values of entries, whole entries, state, outputs' parts."""
    body = json.loads(json.dumps(body))
    damage = rng.choice(["value", "entry", "state", "property", "changed", "id"])
    entries = [e for field in ("inputs", "state") for e in body.get(field, [])]
    flat = [item for e in entries for item in (e if isinstance(e, list) else [e])]
    if damage == "value" and flat:
        rng.choice(flat).pop("value", None)
    elif damage == "entry" and body["inputs"]:
        body["inputs"].pop(rng.randrange(len(body["inputs"])))
    elif damage == "state":
        body.pop("state", None)
    elif damage == "property":
        outputs = body["outputs"] if isinstance(body["outputs"], list) else [body["outputs"]]
        first = outputs[0][0] if isinstance(outputs[0], list) else outputs[0]
        first.pop("property", None)
    elif damage == "changed":
        body["changedPropIds"] = [rng.choice(["", "x.y", "no-such.value", "{"])]
    elif flat:
        rng.choice(flat)["id"] = rng.choice(["no-such-component", {"type": "x", "panel": 9}])
    return body


def test_server008_callbacks_with_missing_fields_and_unknown_ids_answer_without_a_500(served):
    _, app, _ = served
    initial = layout_values(app)
    rng = random.Random(8)
    statuses: dict[int, int] = {}
    with app.server.test_client() as client:
        for key in server_callbacks(app):
            body = callback_body(
                app, key, lambda i, p: initial.get((json.dumps(i, sort_keys=True), p))
            )
            for _ in range(12):
                post_handled(client, without_fields(body, rng), key, statuses)
        print("statuses of callback requests with fields missing:", statuses)
        assert client.get("/audio/0").status_code == 200


BAD_JOBS = BAD_VALUES + [
    {"settings": "x"},
    {"settings": [1, 2, 3, 4], "look": [1, 2, 3]},
    {"settings": ["musicnn", "msd", "embedding", "tsne"]},  # no look, no music
    {"settings": ["musicnn", "msd", "embedding", "tsne"], "look": [NONE, False, False],
     "artists": [], "tags": [], "every_n": 10**9, "window": 1},  # fmt: skip
    {"settings": ["vgg", "mtt", "taggram", "umap"], "look": ["plaid", 1, 0], "window": "x"},
]


def background_callbacks(app) -> list[str]:
    return [key for key, callback in app.callback_map.items() if callback.get("background")]


def finish_job(client, body: dict, started, what) -> str:
    """Poll a background job Dash started to its end, as the page does: "no update" or what came."""
    assert_handled(started, what)
    if started.status_code != 200 or "cacheKey" not in (answer := started.get_json()):
        return "no update" if started.status_code == 204 else started.get_data(as_text=True)
    url = f"/_dash-update-component?cacheKey={answer['cacheKey']}&job={answer['job']}"
    for _ in range(300):
        with client.post(url, json=body) as response:
            assert_handled(response, what)
            text = response.get_data(as_text=True)
            if response.status_code != 200 or '"progress"' not in text and "running" not in text:
                # No update: 204, or a background result with nothing in it.
                nothing = response.status_code == 204 or json.loads(text) == {"multi": True}
                return "no update" if nothing else text
        time.sleep(0.1)
    raise AssertionError(f"the job of {what} never ended")


def test_server009_background_jobs_given_forged_stores_or_handles_end_as_no_update(served):
    _, app, _ = served
    initial = layout_values(app)
    statuses: dict[str, int] = {}
    with app.server.test_client() as client:
        for key in background_callbacks(app):
            for job in BAD_JOBS:

                def value(component_id, prop, job=job):
                    if prop == "data" and "panel-job" in json.dumps(component_id):
                        return job
                    return initial.get((json.dumps(component_id, sort_keys=True), prop))

                body = callback_body(app, key, value)
                with client.post("/_dash-update-component", json=body) as started:
                    status = finish_job(client, body, started, (key, job))
                statuses[status] = statuses.get(status, 0) + 1
                # Its process gone before the next: a poll may answer "no update" while a job
                # still ends, and jobs past the cap are refused (tests/unit/test_local_jobs.py).
                deadline = time.monotonic() + 60
                while app._background_manager.running_jobs():
                    assert time.monotonic() < deadline, ("a job never ended", key, job)
                    time.sleep(0.05)
                text = client.get("/").get_data(as_text=True)  # still serving
                assert "Traceback" not in text
            for handles in ("cacheKey=forged&job=1", "cacheKey=forged&job=x~y", "job=-1",
                            "cacheKey=../../etc/passwd&job=99999999"):  # fmt: skip
                with client.post(f"/_dash-update-component?{handles}", json=body) as response:
                    assert_handled(response, handles)
    print("how background jobs with forged stores ended:", statuses)
    assert statuses == {"no update": len(BAD_JOBS) * len(background_callbacks(app))}


def test_server007_twenty_clients_hover_and_select_with_no_server_error(built):
    _, parts, _ = built
    seconds = float(os.environ.get("EXPLORE_DASH_LOAD_SECONDS", "10"))
    report = run_load(parts, clients=20, seconds=seconds, seed=7)
    print(report.summary())
    assert report.server_errors == []
    assert report.unexpected == []
    assert set(report.latencies) == {"audio", "selection"}
    assert report.requests >= 100  # the clients really ran, concurrently, the whole time


def test_server010_clients_under_load_see_one_table_version_while_merges_land(tmp_path):
    from tests.support.load_with_merges import run_load_with_merges

    seconds = float(os.environ.get("EXPLORE_DASH_LOAD_SECONDS", "10"))
    report = run_load_with_merges(tmp_path, clients=10, seconds=seconds, merge_every=2.0)
    print(report.summary())
    assert report.errors == []
    assert report.versions_made >= 2 and report.versions_served >= 2  # it grew underneath
    outcomes = report.load.outcomes
    assert outcomes["poll: new version"] and outcomes["t-SNE from the cache"]
    assert set(report.load.latencies) == {"audio", "selection", "redraw", "tsne", "poll"}


def show_playlist_key(app) -> str:
    """A single-output server callback: the playlist's rows, fed by the playlist store."""
    return next(key for key in server_callbacks(app) if key.startswith("playlist-list.children"))


def test_server011_hostile_callback_bodies_get_a_400_never_a_500(served):
    _, app, _ = served
    initial = layout_values(app)
    key = show_playlist_key(app)
    body = callback_body(app, key, lambda i, p: initial.get((json.dumps(i, sort_keys=True), p)))
    deep = "[" * 1000 + "]" * 1000
    raw = json.dumps(body)[:-1] + f', "nested": {deep}}}'
    hostile = [
        {**body, "changedPropIds": [{}]},  # unhashable in Dash's trigger lookup
        {**body, "changedPropIds": [[1]]},
        {**body, "outputs": {"id": "no-such-component", "property": "children"}},
        {**body, "outputs": {"id": "playlist-list", "property": "style"}},
        {**body, "inputs": [{"id": "no-such-component", "property": "data", "value": []}]},
    ]
    with app.server.test_client() as client:
        with client.post(
            "/_dash-update-component", data=raw, content_type="application/json"
        ) as response:
            assert response.status_code == 400 and b"Traceback" not in response.data
        for forged in hostile:
            with client.post("/_dash-update-component", json=forged) as response:
                assert response.status_code == 400, forged
                assert_handled(response, forged)


def test_server012_a_trigger_that_names_none_of_the_inputs_is_no_update(served):
    _, app, _ = served
    initial = layout_values(app)
    with app.server.test_client() as client:
        for key in server_callbacks(app):
            body = callback_body(
                app, key, lambda i, p: initial.get((json.dumps(i, sort_keys=True), p))
            )
            for changed in ("", "x.y", "{", '{"type":"x"}.n_clicks', "no-such.value"):
                forged = {**body, "changedPropIds": [changed]}
                with client.post("/_dash-update-component", json=forged) as response:
                    assert response.status_code == 204, (key, changed, response.data[:300])


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/no_such_library/x.js",
        "/_dash-component-suites/dash/no-such-file.js",
        "/_dash-component-suites/dash/../../etc/passwd",
        "/_dash-component-suites/plotly/package_data/plotly.min.jsx",
    ],
)
def test_server013_unknown_component_suite_files_are_404(served, path: str):
    _, app, _ = served
    with app.server.test_client() as client, client.get(path) as response:
        assert response.status_code == 404, path
        assert b"Traceback" not in response.data and b"registered" not in response.data


def test_server014_a_retry_given_a_job_that_is_no_panels_job_is_no_update(served):
    _, app, _ = served
    initial = layout_values(app)
    retries = [
        key
        for key in server_callbacks(app)
        if any("panel-retry" in i["id"] for i in app.callback_map[key]["inputs"])
    ]
    assert len(retries) == 2  # one a panel
    with app.server.test_client() as client:
        for key in retries:
            for job in ("x", [1, 2], 7, {"settings": "x"}, {"settings": [1, 2, 3, 4]}):

                def value(component_id, prop, job=job):
                    if prop == "data" and "panel-job" in json.dumps(component_id):
                        return job
                    if prop == "n_clicks":
                        return 1
                    return initial.get((json.dumps(component_id, sort_keys=True), prop))

                body = callback_body(app, key, value)
                with client.post("/_dash-update-component", json=body) as response:
                    assert response.status_code == 204, (job, response.data[:300])


def resident_bytes() -> int:
    """This process's resident memory (the test client serves in it), from /proc or resource."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def hostile_bodies(app, key: str, body: dict, rng: random.Random) -> list[tuple[str, object]]:
    """(class, body) of each hostile kind for one callback: depth, foreign outputs, odd
    changedPropIds, oversized lists. Bodies are dicts, or raw bytes where JSON cannot say it."""
    bodies: list[tuple[str, object]] = []
    flat = [e for field in ("inputs", "state") for e in body.get(field) or []]
    raw = json.dumps(body)
    for depth in (20, 40, 1000, 100_000):
        text = "[" * depth + "]" * depth
        bodies.append(("depth", (raw[:-1] + f', "extra": {text}}}').encode()))
    for entry in flat:
        for depth in (20, 40):
            forged = json.loads(raw)
            target = forged["inputs"] if entry in body["inputs"] else forged["state"]
            index = (body["inputs"] if entry in body["inputs"] else body["state"]).index(entry)
            items = target[index] if isinstance(target[index], list) else [target[index]]
            for item in items:
                item["value"] = nested(depth)
            bodies.append(("depth", forged))
    others = [k for k in app.callback_map if k != key and "callback" in app.callback_map[k]]
    for other in rng.sample(others, 3):
        foreign = callback_body(app, other, lambda i, p: None)
        bodies.append(("foreign outputs", {**body, "outputs": foreign["outputs"]}))
        bodies.append(("foreign outputs", {**foreign, "inputs": body["inputs"]}))
    for changed in ([{}], [[]], [1], [None], ["{"], ["x.y"], ["" ], ["a.b"] * 1000,
                    [{"id": "x"}], "not a list", [body["changedPropIds"][0]] * 50):  # fmt: skip
        bodies.append(("changedPropIds", {**body, "changedPropIds": changed}))
    for size, item in ((100_000, 7), (100_000, "x"), (1_000_000, 1), (20_000, {"ids": [1]})):
        for entry_index in range(len(flat)):
            forged = json.loads(raw)
            entries = forged["inputs"] + (forged.get("state") or [])
            items = entries[entry_index]
            for one in items if isinstance(items, list) else [items]:
                one["value"] = [item] * size if not isinstance(item, dict) else {
                    "ids": list(range(size)), "source": 0, "items": [item] * 10}
            bodies.append(("oversized lists", forged))
    first = flat[0]
    if isinstance(first, list) and first:  # a pattern-matching ALL input: many components
        forged = json.loads(raw)
        forged["inputs"][0] = [first[0]] * 50_000
        bodies.append(("oversized lists", forged))
    return bodies


def test_server015_hostile_bodies_for_every_callback_in_bounded_time_and_memory(served):
    """Depth, foreign outputs, odd changedPropIds and oversized lists against every callback:
    no 500, no traceback, under 1 s of CPU a request and under 50 MB of growth in all."""
    _, app, _ = served
    initial = layout_values(app)
    rng = random.Random(15)
    statuses: dict[str, dict[int, int]] = {}
    worst = (0.0, "")
    keys = [key for key, callback in app.callback_map.items() if "callback" in callback]
    with app.server.test_client() as client:
        bodies = []
        for key in keys:
            body = callback_body(
                app, key, lambda i, p: initial.get((json.dumps(i, sort_keys=True), p))
            )
            # Kept as bytes: a heap of forged lists would make the collector's full passes
            # (in whichever request they fall) cost seconds, which is no request's doing.
            for kind, forged in hostile_bodies(app, key, body, rng):
                data = forged if isinstance(forged, bytes) else json.dumps(forged).encode()
                bodies.append((key, kind, data))
        start = resident_bytes()
        for _ in range(2):  # twice: growth that comes back each round would be a leak
            before = resident_bytes()
            for key, kind, data in bodies:
                started = time.thread_time()
                with client.post("/_dash-update-component", data=data,
                                 content_type="application/json") as response:  # fmt: skip
                    assert_handled(response, (key[:60], kind))
                    spent = time.thread_time() - started
                counts = statuses.setdefault(kind, {})
                counts[response.status_code] = counts.get(response.status_code, 0) + 1
                worst = max(worst, (spent, f"{kind} {key[:60]}"))
                assert spent < 1.0, (kind, key, spent)
            second_round = resident_bytes() - before
        grown = resident_bytes() - start
        print(f"{len(bodies)} hostile bodies x 2; statuses {statuses}; worst CPU "
              f"{worst[0] * 1000:.0f} ms ({worst[1]}); RSS grew {grown / 2**20:.1f} MB in all, "
              f"{second_round / 2**20:.1f} MB in the second round")  # fmt: skip
        assert grown < 50 * 2**20
        assert client.get("/audio/0").status_code == 200  # still serving
