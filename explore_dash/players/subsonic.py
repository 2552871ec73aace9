"""A Subsonic or OpenSubsonic server (Navidrome, Gonic, Airsonic, Supysonic) as the user's
player: the playlist, a radio or a path saved there as a playlist of the server's own songs.

Each track is matched to the server's song by its path where the server gives paths (the
server's folder may sit above or below the library's root), else by artist, title, album and
duration. The password comes from :data:`PASSWORD_VARIABLE` only and travels as the API asks:
a salted token (API >= 1.13), else the hex-encoded form (``enc:``); it never reaches a page, a
log line or a playlist file, and no error message carries a request's address.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

#: The environment variable holding the server's password.
PASSWORD_VARIABLE = "EXPLORE_DASH_SUBSONIC_PASSWORD"
#: What explore-dash calls itself to the server (the API's ``c``).
CLIENT_NAME = "explore-dash"
#: The API version asked for first; a server older than token authentication answers with its own.
TOKEN_API = (1, 13, 0)
#: Seconds before a silent server counts as gone.
TIMEOUT_SECONDS = 10.0
#: Songs asked per search when matching a track.
SEARCH_SONGS = 40
#: Seconds a song's duration may differ from the track's and still be the same recording.
DURATION_SLACK = 3.0


class SubsonicError(Exception):
    """The server does not answer, refuses, or failed; the message is for the page."""


@dataclass(frozen=True)
class TrackToMatch:
    """One track of a playlist as the library knows it."""

    path: str
    artist: str
    album: str
    title: str
    duration: float


@dataclass(frozen=True)
class Saved:
    """What :meth:`SubsonicServer.save_playlist` did."""

    name: str
    matched: int
    unmatched: tuple[str, ...]  # "artist – title" of each track the server does not have

    def message(self) -> str:
        total = self.matched + len(self.unmatched)
        text = f"Saved '{self.name}' on the server: {self.matched} of {total} tracks matched"
        if self.unmatched:
            text += "; not on the server: " + ", ".join(self.unmatched[:10])
            text += "…" if len(self.unmatched) > 10 else ""
        return text


def folded(text: str) -> str:
    """``text`` without case, accents or extra spaces, to compare names."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).split())


def same_file(server_path: str, library_path: str) -> bool:
    """Whether the server's song at ``server_path`` is the library's file ``library_path``: the
    same path, or one ending with the other at a folder boundary."""
    a, b = server_path.strip("/"), library_path.strip("/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def best_song(track: TrackToMatch, songs: Sequence[dict]) -> str | None:
    """The id of the server's song that is ``track``: by path first, else by artist and title
    (album and the nearest duration breaking ties), within :data:`DURATION_SLACK`."""
    for song in songs:
        if song.get("path") and same_file(str(song["path"]), track.path):
            return str(song["id"])
    candidates = [
        song for song in songs
        if folded(str(song.get("title", ""))) == folded(track.title)
        and folded(str(song.get("artist", ""))) == folded(track.artist)
        and abs(float(song.get("duration") or track.duration) - track.duration) <= DURATION_SLACK
    ]  # fmt: skip
    if not candidates:
        return None
    candidates.sort(key=lambda song: (folded(str(song.get("album", ""))) != folded(track.album),
                                      abs(float(song.get("duration") or 0) - track.duration)))
    return str(candidates[0]["id"])


def search_terms(track: TrackToMatch) -> list[str]:
    """What to search the server for: the title, then the file's name (an untagged song's title
    on most servers), each only once."""
    stem = track.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return list(dict.fromkeys(term for term in (track.title, stem) if term.strip()))


@dataclass
class SubsonicServer:
    """A Subsonic API server and the user explore-dash saves playlists as."""

    url: str
    user: str
    password: str = field(repr=False)
    _legacy: bool | None = field(default=None, repr=False)  # None: not asked yet

    @classmethod
    def from_options(cls, url: str, user: str) -> SubsonicServer:
        """The server ``--subsonic`` and ``--subsonic-user`` name, its password from the
        environment."""
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if not password:
            raise SubsonicError(f"set {PASSWORD_VARIABLE} to the password of {user!r}")
        return cls(url.rstrip("/"), user, password)

    def _auth(self, legacy: bool) -> dict[str, str]:
        if legacy:
            return {"v": "1.12.0", "p": "enc:" + self.password.encode().hex()}
        salt = secrets.token_hex(8)
        token = hashlib.md5((self.password + salt).encode()).hexdigest()  # noqa: S324 (the API's)
        return {"v": ".".join(map(str, TOKEN_API)), "t": token, "s": salt}

    def call(self, endpoint: str, params: Sequence[tuple[str, str]] = ()) -> dict:
        """The ``subsonic-response`` of ``endpoint`` (``getPlaylists``...) with ``params``.

        Raises
        ------
        SubsonicError
            The server does not answer, or answered with an error.
        """
        if self._legacy is None:
            self._legacy = self._needs_legacy_auth()
        return self._call(endpoint, params, self._legacy)

    def _needs_legacy_auth(self) -> bool:
        """Whether the server is older than token authentication (API < 1.13): asked once."""
        try:
            self._call("ping", (), legacy=False)
        except SubsonicError as error:
            version = getattr(error, "server_version", None)
            if version is not None and version < TOKEN_API:
                return True
            raise
        return False

    def _call(self, endpoint: str, params: Sequence[tuple[str, str]], legacy: bool) -> dict:
        query = [("u", self.user), ("c", CLIENT_NAME), ("f", "json"),
                 *self._auth(legacy).items(), *params]  # fmt: skip
        address = f"{self.url}/rest/{endpoint}.view"
        request = urllib.request.Request(address, urllib.parse.urlencode(query).encode(),
                                         method="POST")  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
                body = json.loads(reply.read())
        except urllib.error.HTTPError as error:  # its text names no address or credential
            raise SubsonicError(f"the Subsonic server at {self.url} answered "
                                f"{error.code}") from None  # fmt: skip
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SubsonicError(f"the Subsonic server at {self.url} does not answer "
                                f"({reason})") from None  # fmt: skip
        except ValueError:
            raise SubsonicError(f"{self.url} does not answer as a Subsonic server") from None
        answer = body.get("subsonic-response") if isinstance(body, dict) else None
        if not isinstance(answer, dict):
            raise SubsonicError(f"{self.url} does not answer as a Subsonic server")
        if answer.get("status") != "ok":
            failure = answer.get("error") or {}
            error = SubsonicError(f"the Subsonic server refused: {failure.get('message', '?')}")
            error.server_version = _version(answer.get("version", ""))  # type: ignore[attr-defined]
            raise error
        return answer

    def find_song(self, track: TrackToMatch) -> str | None:
        """The id of ``track``'s song on the server, or None."""
        for term in search_terms(track):
            answer = self.call("search3", [("query", term), ("songCount", str(SEARCH_SONGS)),
                                           ("artistCount", "0"), ("albumCount", "0")])  # fmt: skip
            songs = (answer.get("searchResult3") or {}).get("song") or []
            found = best_song(track, songs)
            if found is not None:
                return found
        return None

    def save_playlist(self, name: str, tracks: Sequence[TrackToMatch]) -> Saved:
        """``tracks`` in order as the server's playlist ``name`` (its songs replaced when the user
        has one of that name already); tracks the server lacks are left out and named."""
        song_ids, unmatched = [], []
        for track in tracks:
            found = self.find_song(track)
            if found is None:
                unmatched.append(f"{track.artist} – {track.title}")
            elif found not in song_ids:
                song_ids.append(found)
        if not song_ids:
            raise SubsonicError(f"the Subsonic server has none of these {len(tracks)} tracks")
        songs = [("songId", song) for song in song_ids]
        existing = self.playlist_id(name)
        target = [("playlistId", existing)] if existing else [("name", name)]
        self.call("createPlaylist", [*target, *songs])
        return Saved(name, len(tracks) - len(unmatched), tuple(unmatched))

    def playlist_id(self, name: str) -> str | None:
        """The id of the user's own playlist called ``name``, if there is one."""
        playlists = (self.call("getPlaylists").get("playlists") or {}).get("playlist") or []
        for playlist in playlists:
            if playlist.get("name") == name and playlist.get("owner", self.user) == self.user:
                return str(playlist["id"])
        return None

    def playlist_paths(self, playlist: str) -> list[str]:
        """The paths of the songs of the playlist with id ``playlist``, in order."""
        answer = self.call("getPlaylist", [("id", playlist)])
        return [str(song.get("path", "")) for song in answer["playlist"].get("entry", [])]


def _version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return None
