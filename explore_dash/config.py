"""Settings of one running app: which library and data folder, where to listen, which options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AppConfig:
    """Everything ``create_app`` needs to know, fixed for the life of the server.

    Attributes
    ----------
    library : Path
        Root of the music library; audio is only ever served from inside it.
    data_dir : Path
        The library's data folder (``tracks.parquet``, ``segments/``, ``state.json``).
    host, port : str, int
        Where the web server listens.
    anonymize : bool
        Show neutral codes (A1, D1, L1, P1...) instead of model and projection names, for blind
        comparisons.
    extract : bool
        Run the extraction for new or changed files when the app starts.
    redis : str or None
        ``redis://HOST:PORT/DB``: run the t-SNE/UMAP jobs on Celery workers through this Redis
        (explore_dash/server/jobs.py); None runs them in processes of this server.
    token : str or None
        The access token every request must carry (explore_dash/server/access.py); None: none asked.
    allow_hosts : tuple of str
        Host names answered besides localhost and loopback addresses when there is no token
        (``--allow-host``: a name of this machine, a reverse proxy's); any other ``Host`` gets a
        403, so a page of another site cannot reach the app by rebinding its own name.
    mpd : str or None
        ``HOST:PORT`` of the MPD to send music to (``--mpd``; explore_dash/players/mpd.py); None:
        no player, and no player's buttons in the page.
    mpd_root : str or None
        The library's folder inside MPD's music_directory (``--mpd-root``); None: found by
        looking up some of the library's files in MPD's database.
    subsonic, subsonic_user : str or None
        A Subsonic server's address and the user to save playlists as (``--subsonic``,
        ``--subsonic-user``; explore_dash/players/subsonic.py); the password is read from the
        environment only. None: no Subsonic buttons in the page.
    """

    library: Path
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8050
    anonymize: bool = False
    extract: bool = True
    redis: str | None = None
    token: str | None = None
    allow_hosts: tuple[str, ...] = ()
    mpd: str | None = None
    mpd_root: str | None = None
    subsonic: str | None = None
    subsonic_user: str | None = None

    def __post_init__(self) -> None:
        # Accept strings from the CLI or tests, store Paths.
        object.__setattr__(self, "library", Path(self.library))
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "allow_hosts", tuple(self.allow_hosts))
        if not 0 <= int(self.port) <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
