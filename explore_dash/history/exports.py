"""Reading listens from the files people have: a ListenBrainz export ("Export listens": JSON or
JSON Lines, zipped or not) and Last.fm scrobbles as common exporters write them (CSV or NDJSON
with artist, album, track and time).

Every reader yields :class:`Listen` values and raises :class:`HistoryError` with the file's
line or entry for anything it cannot read: an import reads the whole file before it keeps any
of it, so a bad file imports nothing half-way.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class HistoryError(ValueError):
    """A listening-history file that cannot be read; the message names where and why."""


@dataclass(frozen=True)
class Listen:
    """One listen: when (Unix seconds, UTC), and what, as the file names it."""

    time: int
    artist: str
    title: str
    album: str = ""
    source: str = ""


#: Column names exporters use, each mapped to a Listen field (lower case).
_COLUMNS = {
    "artist": "artist", "artist_name": "artist", "artist name": "artist",
    "track": "title", "title": "title", "track_name": "title", "track name": "title",
    "name": "title", "song": "title",
    "album": "album", "release_name": "album", "album name": "album", "release": "album",
    "time": "time", "timestamp": "time", "uts": "time", "date": "time", "listened_at": "time",
    "played_at": "time", "utc_time": "time", "date_uts": "time",
}  # fmt: skip
_DATE_FORMATS = ("%d %b %Y, %H:%M", "%d %b %Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def unix_time(value: object) -> int:
    """Seconds since 1970 from a number (seconds, or milliseconds when that large) or a date
    text (ISO 8601 or Last.fm's "31 Jan 2024, 21:04", read as UTC)."""
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parsed_date(text)
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    if not 0 < seconds < 4e9:
        raise ValueError(f"{value!r} is not a time")
    return int(seconds)


def _parsed_date(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for pattern in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{text!r} is not a date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def from_listenbrainz(entry: object, where: str) -> Listen:
    """A listen of ListenBrainz's export: ``listened_at`` and ``track_metadata``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("track_metadata"), dict):
        raise HistoryError(f"{where}: not a ListenBrainz listen (no track_metadata)")
    metadata = entry["track_metadata"]
    try:
        return Listen(unix_time(entry.get("listened_at")), str(metadata["artist_name"]),
                      str(metadata["track_name"]), str(metadata.get("release_name") or ""),
                      "listenbrainz")  # fmt: skip
    except (KeyError, ValueError) as error:
        raise HistoryError(f"{where}: {error}") from None


def from_columns(row: dict, where: str, source: str) -> Listen:
    """A listen from named columns (a CSV row or an NDJSON object)."""
    fields: dict[str, object] = {}
    for name, value in row.items():
        field = _COLUMNS.get(str(name).strip().casefold())
        if field and value not in (None, "") and field not in fields:
            fields[field] = value
    if "artist" not in fields or "title" not in fields or "time" not in fields:
        raise HistoryError(f"{where}: expected artist, track and time columns, got "
                           f"{sorted(str(k) for k in row)}")  # fmt: skip
    try:
        return Listen(unix_time(fields["time"]), str(fields["artist"]), str(fields["title"]),
                      str(fields.get("album", "")), source)  # fmt: skip
    except ValueError as error:
        raise HistoryError(f"{where}: {error}") from None


def _json_listens(text: str, name: str) -> Iterator[Listen]:
    """A JSON array (or an object holding one under "listens"), else JSON Lines."""
    stripped = text.lstrip()
    if stripped.startswith("[") or stripped.startswith("{\"listens\""):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise HistoryError(f"{name}: not valid JSON ({error})") from None
        entries = data.get("listens") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            raise HistoryError(f"{name}: expected a list of listens")
        lines: Iterable[tuple[int, object]] = enumerate(entries, 1)
    else:
        lines = ((n, _json_line(line, f"{name} line {n}"))
                 for n, line in enumerate(text.splitlines(), 1) if line.strip())  # fmt: skip
    for n, entry in lines:
        where = f"{name} entry {n}"
        if isinstance(entry, dict) and "track_metadata" in entry:
            yield from_listenbrainz(entry, where)
        elif isinstance(entry, dict):
            yield from_columns(entry, where, "lastfm")
        else:
            raise HistoryError(f"{where}: expected an object")


def _json_line(line: str, where: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise HistoryError(f"{where}: not valid JSON ({error.msg})") from None


def _csv_listens(text: str, name: str) -> Iterator[Listen]:
    reader = csv.DictReader(io.StringIO(text))
    for n, row in enumerate(reader, 2):
        yield from_columns(row, f"{name} line {n}", "lastfm")


def _member_listens(data: bytes, name: str) -> Iterator[Listen]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HistoryError(f"{name}: not UTF-8 text") from None
    if name.casefold().endswith(".csv"):
        yield from _csv_listens(text, name)
    else:
        yield from _json_listens(text, name)


def read_listens(path: Path) -> list[Listen]:
    """Every listen of a ListenBrainz or Last.fm export at ``path`` (JSON, JSONL, NDJSON or CSV,
    or a zip of them: ListenBrainz's own export is one).

    Raises
    ------
    HistoryError
        When any part of the file cannot be read (nothing is returned then).
    """
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist()
                           if m.casefold().endswith((".json", ".jsonl", ".ndjson", ".csv"))
                           and not m.rsplit("/", 1)[-1].startswith(".")]  # fmt: skip
                if not members:
                    raise HistoryError(f"{path.name}: no listens file (.json, .jsonl, .csv) inside")
                listens = []
                for member in sorted(members):
                    # ListenBrainz's archive also holds the user's feedback and pins: only
                    # files of listens are read.
                    if "feedback" in member or "pinned" in member or "user.json" in member:
                        continue
                    listens += _member_listens(archive.read(member), f"{path.name}:{member}")
                return listens
        return list(_member_listens(path.read_bytes(), path.name))
    except OSError as error:
        raise HistoryError(f"cannot read {path}: {error.strerror or error}") from None
    except zipfile.BadZipFile:
        raise HistoryError(f"{path.name}: a damaged zip file") from None
