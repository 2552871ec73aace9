"""The /audio/<track id> route: whole files, byte ranges, MIME types, and refusing anything else."""

from __future__ import annotations

from pathlib import Path

import flask
import pytest

from explore_dash.data.collection import Collection
from explore_dash.listening.audio import (
    audio_mime_type,
    normalize_range,
    parse_track_id,
    register_audio_route,
    resolve_library_file,
)
from tests.support.fake_collection import (
    FakeCollection,
    write_fake_collection,
    write_tracks_table,
    write_wav,
)

SONG = "Alpha/First Album/01 Song A.wav"


@pytest.fixture()
def fake(tmp_path: Path) -> FakeCollection:
    return write_fake_collection(tmp_path, spaces=())


def make_client(data_dir: Path, library: Path) -> flask.testing.FlaskClient:
    server = flask.Flask(__name__)
    collection = Collection.load(data_dir)
    register_audio_route(server, lambda: collection, library)
    return server.test_client()


@pytest.fixture()
def client(fake: FakeCollection) -> flask.testing.FlaskClient:
    return make_client(fake.data_dir, fake.library)


@pytest.fixture()
def song(fake: FakeCollection) -> bytes:
    return (fake.library / SONG).read_bytes()


def test_route001_full_get(client, song: bytes):
    response = client.get("/audio/0")
    assert response.status_code == 200
    assert response.data == song
    assert response.headers["Content-Type"] == "audio/wav"
    assert response.headers["Content-Length"] == str(len(song))
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    cache = response.headers["Cache-Control"]
    assert "private" in cache and "max-age=3600" in cache and "public" not in cache
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_route002_unicode_path_and_head(client, fake: FakeCollection):
    response = client.get("/audio/2")
    assert response.status_code == 200
    assert response.data == (fake.library / "Beta/Second/01 Étude.wav").read_bytes()
    head = client.head("/audio/2")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(response.data))


def test_route003_conditional_get_is_not_modified(client):
    etag = client.get("/audio/0").headers["ETag"]
    assert client.get("/audio/0", headers={"If-None-Match": etag}).status_code == 304


def test_route004_range_first_100_bytes(client, song: bytes):
    response = client.get("/audio/0", headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert response.data == song[:100]
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(song)}"
    assert response.headers["Content-Length"] == "100"
    assert response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=100-", 100, None),
        ("bytes=-10", -10, None),
        ("bytes=50-59", 50, 59),
        ("bytes=10-999999", 10, None),  # an end past the file is clamped
        ("bytes=-999999", 0, None),  # a suffix longer than the file is the whole file
        ("Bytes = 0 - 0", 0, 0),
    ],
)
def test_route005_satisfiable_ranges(
    client, song: bytes, header: str, first: int, last: int | None
):
    response = client.get("/audio/0", headers={"Range": header})
    expected = song[first:] if last is None else song[first : last + 1]
    assert response.status_code == 206
    assert response.data == expected
    start = first % len(song)
    end = start + len(expected) - 1
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(song)}"


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{big}", "bytes=-0"])
def test_route006_unsatisfiable_ranges_are_416(client, song: bytes, header: str):
    header = header.format(size=len(song), big=len(song) + 10)
    response = client.get("/audio/0", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(song)}"


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",
        "bytes=0-1,5-6",
        "items=0-1",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=--1",
        "bytes=0x10-",
        "bytes=١-٢",  # non-ASCII digits
        "bytes=99999999999999999999999999-",
        "bytes=1-2-3",
        "=",
        "\x00",
    ],
)
def test_route007_malformed_ranges_get_the_whole_file_or_416_never_500(
    client, song: bytes, header: str
):
    response = client.get("/audio/0", headers={"Range": header})
    assert response.status_code in (200, 416)
    if response.status_code == 200:
        assert response.data == song


@pytest.mark.parametrize(
    "track_id",
    ["4", "3", "-1", "99999999999", "2147483648", "abc", "1.5", "0x1", "%201", "", "1%00"],
)
def test_route008_unknown_or_invalid_ids_are_404(client, track_id: str):
    response = client.get(f"/audio/{track_id}")
    assert response.status_code == 404
    assert b"Traceback" not in response.data


@pytest.fixture()
def tampered(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A library, a data folder, and a secret file next to the library."""
    library, data_dir = tmp_path / "library", tmp_path / "data"
    write_wav(library / "inside.wav")
    write_wav(tmp_path / "secret.wav")
    (library / "link-out.wav").symlink_to(tmp_path / "secret.wav")
    (library / "dir-out").symlink_to(tmp_path)
    (library / "link-in.wav").symlink_to(library / "inside.wav")
    (library / "folder.wav").mkdir()
    return library, data_dir, tmp_path / "secret.wav"


def test_route009_paths_escaping_the_library_are_404(tampered: tuple[Path, Path, Path]):
    library, data_dir, secret = tampered
    paths = [
        "inside.wav",
        "../secret.wav",
        str(secret),
        "link-out.wav",
        "dir-out/secret.wav",
        "link-in.wav",
        "folder.wav",
        "missing.wav",
        "inside.wav/../../secret.wav",
        "",
    ]
    write_tracks_table(data_dir, [{"track": i, "path": p} for i, p in enumerate(paths)])
    client = make_client(data_dir, library)
    statuses = {p: client.get(f"/audio/{i}").status_code for i, p in enumerate(paths)}
    assert statuses == {p: 200 if p in ("inside.wav", "link-in.wav") else 404 for p in paths}


def test_route010_library_given_through_a_symlink(
    tampered: tuple[Path, Path, Path], tmp_path: Path
):
    library, data_dir, _ = tampered
    (tmp_path / "library-link").symlink_to(library)
    write_tracks_table(data_dir, [{"track": 0, "path": "inside.wav"}])
    assert make_client(data_dir, tmp_path / "library-link").get("/audio/0").status_code == 200


def test_route011_the_route_sees_a_reloaded_collection(fake: FakeCollection):
    server = flask.Flask(__name__)
    current = {"collection": Collection.load(fake.data_dir)}
    register_audio_route(server, lambda: current["collection"], fake.library)
    client = server.test_client()
    assert client.get("/audio/0").status_code == 200
    write_tracks_table(fake.data_dir, [{"track": 1, "path": "Alpha/First Album/02 Song B.wav"}])
    current["collection"] = Collection.load(fake.data_dir)
    assert client.get("/audio/0").status_code == 404
    assert client.get("/audio/1").status_code == 200


MIME_CASES = {
    "a.mp3": "audio/mpeg",
    "a.flac": "audio/flac",
    "a.ogg": "audio/ogg",
    "a.oga": "audio/ogg",
    "a.opus": "audio/ogg",
    "a.m4a": "audio/mp4",
    "a.mp4": "audio/mp4",
    "a.aac": "audio/aac",
    "a.wav": "audio/wav",
    "a.WAV": "audio/wav",
    "a.aiff": "audio/aiff",
    "a.aif": "audio/aiff",
    "a.wma": "audio/x-ms-wma",
    "a.xyz": "application/octet-stream",
}


def test_route012_mime_types_by_extension(tmp_path: Path):
    library, data_dir = tmp_path / "library", tmp_path / "data"
    for name in MIME_CASES:
        write_wav(library / "formats" / name)  # the bytes do not matter, only the name
    names = list(MIME_CASES)
    write_tracks_table(
        data_dir, [{"track": i, "path": f"formats/{n}"} for i, n in enumerate(names)]
    )
    client = make_client(data_dir, library)
    for i, name in enumerate(names):
        response = client.get(f"/audio/{i}")
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == MIME_CASES[name], name
        assert audio_mime_type(name) == MIME_CASES[name]


# -- the pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("42", 42), ("2147483647", 2147483647), ("2147483648", None), ("-1", None),
     ("+1", None), (" 1", None), ("1e3", None), ("٣", None), ("", None)],
)  # fmt: skip
def test_route013_parse_track_id(text: str, value: int | None):
    assert parse_track_id(text) == value


@pytest.mark.parametrize(
    ("header", "normalized"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", "bytes=0-99"),
        ("bytes=100-", "bytes=100-"),
        ("bytes=-10", "bytes=-10"),
        ("bytes=-1000", "bytes=0-"),
        ("bytes=-5000", "bytes=0-"),
        ("bytes=-0", "bytes=-0"),
        ("bytes=2000-", "bytes=2000-"),
        ("BYTES = 007 - 9", "bytes=7-9"),
        ("bytes=5-2", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
        ("bytes=abc", None),
    ],
)
def test_route014_normalize_range(header: str | None, normalized: str | None):
    assert normalize_range(header, 1000) == normalized


def test_route015_resolve_library_file(tampered: tuple[Path, Path, Path]):
    library, _, secret = tampered
    assert resolve_library_file(library, "inside.wav") == (library / "inside.wav").resolve()
    assert resolve_library_file(library, "link-in.wav") == (library / "inside.wav").resolve()
    for bad in ["../secret.wav", str(secret), "link-out.wav", "folder.wav", "nul\x00.wav", ""]:
        assert resolve_library_file(library, bad) is None, bad
    assert resolve_library_file(library / "missing-library", "inside.wav") is None


@pytest.mark.parametrize(
    "header, status",
    [
        ("bytes=" + "1" * 5000 + "-", 416),  # past any file's end
        ("bytes=0-" + "9" * 5000, 206),  # to the end
        ("bytes=-" + "9" * 5000, 206),  # a suffix longer than the file: all of it
        ("bytes=" + "9" * 5000 + "-" + "1" * 4400, 200),  # last before first: ignored
    ],
)
def test_route016_range_numbers_past_pythons_digit_limit_are_plain_ranges(
    client, song: bytes, header: str, status: int
):
    # Python refuses int() of more than 4,300 digits (ValueError): that must not be a 500.
    response = client.get("/audio/0", headers={"Range": header})
    assert response.status_code == status
    if status != 416:
        assert response.data == song
