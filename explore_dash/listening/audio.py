"""The ``/audio/<track id>`` route: plays indexed library files, with byte ranges for seeking.

Its prefix is :data:`explore_dash.routes.AUDIO_PREFIX`, which the page's code reads too.

Only files listed as playable in ``tracks.parquet`` whose real path lies inside the library are
ever served; everything else is a plain 404, so the route cannot be used to read other files.
"""

from __future__ import annotations

import logging
import os
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import flask
from werkzeug.exceptions import NotFound
from werkzeug.wsgi import wrap_file

from explore_dash.data.collection import Collection
from explore_dash.routes import AUDIO_PREFIX
from extraction.contract import library_file_path

log = logging.getLogger(__name__)

AUDIO_ROUTE = AUDIO_PREFIX + "<track_id>"
#: Browsers revalidate after this (ETag / Last-Modified make that a cheap 304).
AUDIO_MAX_AGE = 3600
_INT32_MAX = 2**31 - 1

MIME_TYPES = {
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    # Chromium and Firefox play Vorbis and Opus served as plain audio/ogg.
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    # A .aac file is a raw ADTS stream, not an MP4 container: its registered type is audio/aac.
    ".aac": "audio/aac",
    ".wav": "audio/wav",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
    ".wma": "audio/x-ms-wma",
}
DEFAULT_MIME_TYPE = "application/octet-stream"


def audio_mime_type(path: str | Path) -> str:
    """The Content-Type to serve an audio file with, from its extension (case-insensitive)."""
    return MIME_TYPES.get(PurePosixPath(str(path)).suffix.lower(), DEFAULT_MIME_TYPE)


def parse_track_id(text: str) -> int | None:
    """The track id in a URL segment: plain ASCII digits within int32, else None."""
    if not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    value = int(text)
    return value if value <= _INT32_MAX else None


def resolve_library_file(library: Path, relative: str) -> Path | None:
    """The real path of ``relative`` (a ``tracks.parquet`` path) if it is a file in ``library``.

    Refuses absolute paths, ``..`` components and anything whose resolved path (after following
    symlinks) is outside the library's resolved root; the last check alone would suffice, the
    others make the intent plain. A name with bytes that are not UTF-8 is stored with those
    bytes mapped to private-use characters and is found again here (``library_file_path``).
    """
    if not relative or "\x00" in relative:
        return None
    posix = PurePosixPath(relative)
    if posix.is_absolute() or ".." in posix.parts:
        return None
    try:
        root = Path(library).resolve(strict=True)
        real = library_file_path(root, posix.as_posix()).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
        return None
    if not real.is_relative_to(root) or not real.is_file():
        return None
    return real


_SINGLE_BYTE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)
#: More bytes than any file holds (an exabyte): a larger Range position means "past the end".
_BEYOND_ANY_FILE = 10**18


def _byte_position(digits: str) -> int:
    """A Range position from its ASCII digits, at most :data:`_BEYOND_ANY_FILE`.

    Python refuses ``int()`` of more than 4,300 digits (a ValueError, which was a 500), and no
    file is that long anyway, so a long number is cut to "past the end" before it is converted.
    """
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < len(str(_BEYOND_ANY_FILE)) else _BEYOND_ANY_FILE


def _digits_less(left: str, right: str) -> bool:
    """``int(left) < int(right)`` for digit strings of any length, without converting them."""
    left, right = left.lstrip("0"), right.lstrip("0")
    return (len(left), left) < (len(right), right)


def normalize_range(header: str | None, size: int) -> str | None:
    """The ``Range`` header to honour for a file of ``size`` bytes, or None to send it whole.

    RFC 9110 §14.2 asks servers to ignore a Range they do not understand; Werkzeug answers 416
    instead. So: another unit, bad syntax, ``last < first`` and multiple ranges (which media
    players never ask for) are dropped and get the whole file (200); a suffix longer than the file
    means the whole file (206); a first byte past the end or ``-0`` stays, for a 416.
    """
    if not header:
        return None
    match = _SINGLE_BYTE_RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = _byte_position(last)
        return "bytes=0-" if 0 < size <= suffix else f"bytes=-{suffix}"
    if last and _digits_less(last, first):
        return None
    return f"bytes={_byte_position(first)}-{_byte_position(last) if last else ''}"


def file_response(
    server: flask.Flask, handle: BinaryIO, info: os.stat_result, stored: str, environ: dict
) -> flask.Response:
    """Serve an open file with validators and byte ranges, like Werkzeug's ``send_file``.

    Not ``send_file`` itself: it encodes the file's path as UTF-8 for its ETag and headers,
    which fails for a name holding bytes that are not UTF-8. Everything here comes from the
    stored (always valid) path and from ``fstat`` of the handle actually served.
    """
    response = server.response_class(
        wrap_file(environ, handle), mimetype=audio_mime_type(stored), direct_passthrough=True
    )
    response.content_length = info.st_size
    response.last_modified = info.st_mtime
    name_sum = zlib.adler32(stored.encode("utf-8")) & 0xFFFFFFFF
    response.set_etag(f"{info.st_mtime_ns}-{info.st_size}-{name_sum}")
    response.cache_control.max_age = AUDIO_MAX_AGE
    response.expires = int(time.time() + AUDIO_MAX_AGE)
    response = response.make_conditional(environ, accept_ranges=True, complete_length=info.st_size)
    if response.status_code == 304:  # no body will be read from the file
        handle.close()
    return response


def register_audio_route(
    server: flask.Flask, get_collection: Callable[[], Collection], library: Path
) -> None:
    """Add ``GET /audio/<track id>`` to ``server``.

    Parameters
    ----------
    get_collection : callable
        Returns the current collection (called per request, so a reloaded one is seen).
    library : Path
        The music library root; files are served only from inside it.
    """

    @server.get(AUDIO_ROUTE, endpoint="explore_dash_audio")
    def serve_audio(track_id: str) -> flask.Response:
        track = parse_track_id(track_id)
        tracks = get_collection().tracks
        if track is None or track not in tracks.index:
            raise NotFound()
        stored = str(tracks.at[track, "path"])
        path = resolve_library_file(library, stored)
        if path is None:
            log.warning(
                "track %d: %r is not a file in the library", track, tracks.at[track, "path"]
            )
            raise NotFound()
        try:
            handle = open(path, "rb")  # noqa: SIM115 - the response closes it
        except OSError:  # vanished or unreadable between the checks and the open
            raise NotFound() from None
        try:
            info = os.fstat(handle.fileno())
            environ = dict(flask.request.environ)
            environ.pop("HTTP_RANGE", None)
            wanted = normalize_range(flask.request.headers.get("Range"), info.st_size)
            if wanted is not None:
                environ["HTTP_RANGE"] = wanted
            response = file_response(server, handle, info, stored, environ)
        except BaseException:
            handle.close()
            raise
        # Personal music: browsers may cache it, shared proxies should not.
        response.cache_control.public = False
        response.cache_control.private = True
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
