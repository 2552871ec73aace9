"""The music library on disk: which audio files it holds, their tags, and their stable track ids."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from extraction.contract import library_file_path, readable_path, stored_path
from extraction.errors import LibraryError

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp3",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".m4a",
        ".mp4",
        ".aac",
        ".wav",
        ".aif",
        ".aiff",
        ".wma",
    }
)

TAG_FIELDS: tuple[str, ...] = (
    "artist",
    "album",
    "title",
    "genre",
    "year",
    "track_number",
    "duration",
)


@dataclass(frozen=True)
class LibraryFile:
    """One audio file found in the library.

    ``path`` is relative to the library root, with POSIX separators, so a library moved to
    another disk or machine keeps its track ids. Undecodable name bytes are mapped as by
    :func:`stored_path`; open the file with :func:`library_file_path`.
    """

    path: str
    size: int
    mtime_ns: int


def check_library(root: Path) -> Path:
    """Return the library root as an absolute path, or raise :class:`LibraryError`."""
    root = Path(root).expanduser()
    try:
        exists, is_dir = root.exists(), root.is_dir()
    except OSError as error:  # a folder above it that this user may not enter
        raise LibraryError(f"music library is not readable: {root} ({error.strerror})") from None
    if not exists:
        raise LibraryError(f"music library not found: {root}")
    if not is_dir:
        raise LibraryError(f"music library is not a folder: {root}")
    if not os.access(root, os.R_OK | os.X_OK):
        raise LibraryError(f"music library is not readable: {root}")
    return root.resolve()


def _is_candidate(name: str) -> bool:
    # "._x.mp3" are macOS resource forks, not audio; hidden files are never music.
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in AUDIO_EXTENSIONS


def scan_library(root: Path) -> list[LibraryFile]:
    """List the audio files below ``root``, recursively, sorted by path.

    Symbolic links are followed only when they resolve inside the library (so a link cannot
    expose files elsewhere, and a link loop cannot trap the walk). Unreadable folders are
    skipped with a warning.

    Parameters
    ----------
    root : Path
        Library root, as returned by :func:`check_library`.

    Returns
    -------
    list of LibraryFile
    """
    root = Path(root)
    real_root = os.path.realpath(root)
    found: list[LibraryFile] = []

    def on_error(error: OSError) -> None:
        log.warning("skipping unreadable folder %s: %s", error.filename, error.strerror)

    for folder, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not _is_candidate(name):
                continue
            full = os.path.join(folder, name)
            real = os.path.realpath(full)
            if os.path.commonpath([real_root, real]) != real_root:
                log.warning("skipping %s: it links outside the library", full)
                continue
            try:
                stat = os.stat(full)
            except OSError as error:
                log.warning("skipping %s: %s", full, error.strerror)
                continue
            if not os.path.isfile(real):
                continue
            relative = PurePosixPath(*Path(os.path.relpath(full, root)).parts).as_posix()
            relative = stored_path(relative)
            found.append(LibraryFile(relative, stat.st_size, stat.st_mtime_ns))
    found.sort(key=lambda f: f.path)
    return found


def assign_track_ids(
    paths: Iterable[str], known: Mapping[str, int], next_id: int
) -> tuple[dict[str, int], int]:
    """Give every path a stable integer id: known paths keep theirs, new ones get fresh ids.

    Ids are never reused, so a cached map or playlist can never point at the wrong track.

    Returns
    -------
    ids : dict of str to int
    next_id : int
        The first id not handed out yet.
    """
    ids: dict[str, int] = {}
    for path in sorted(paths):
        if path in known:
            ids[path] = int(known[path])
        else:
            ids[path] = next_id
            next_id += 1
    return ids, next_id


_YEAR = re.compile(r"(\d{4})")


def _parse_year(value: object) -> int | None:
    match = _YEAR.search(str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def _parse_track_number(value: object) -> int | None:
    if value is None:
        return None
    match = re.match(r"\s*(\d+)", str(value))
    return int(match.group(1)) if match else None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def tags_from_path(relative_path: str) -> dict[str, str | None]:
    """Fallback tags for an untagged file: ``Artist/Album/Title.ext`` folder convention.

    Undecodable name bytes show as U+FFFD, as a file manager would show them.
    """
    parts = PurePosixPath(readable_path(relative_path)).parts
    title = PurePosixPath(parts[-1]).stem
    album = parts[-2] if len(parts) >= 2 else None
    artist = parts[-3] if len(parts) >= 3 else None
    return {"artist": artist, "album": album, "title": title}


def read_tags(root: Path, relative_path: str) -> dict[str, object]:
    """Read a file's tags with tinytag, falling back to folder names for missing fields.

    Never raises for a bad file: tags are best effort, decoding decides whether a file is usable.

    Returns
    -------
    dict
        Keys of :data:`TAG_FIELDS`; ``artist``, ``album`` and ``title`` are always set.
    """
    from tinytag import TinyTag

    tags: dict[str, object] = dict.fromkeys(TAG_FIELDS)
    try:
        found = TinyTag.get(
            library_file_path(root, relative_path), tags=True, duration=True, image=False
        )
    except Exception as error:  # noqa: BLE001 - hostile files raise anything; tags are optional
        log.debug("no tags for %s: %s", relative_path, error)
    else:
        tags.update(
            artist=_clean(found.artist) or _clean(getattr(found, "albumartist", None)),
            album=_clean(found.album),
            title=_clean(found.title),
            genre=_clean(found.genre),
            year=_parse_year(found.year),
            track_number=_parse_track_number(found.track),
            duration=float(found.duration) if found.duration and found.duration > 0 else None,
        )
    for field, fallback in tags_from_path(relative_path).items():
        if not tags[field]:
            tags[field] = fallback
    return tags
