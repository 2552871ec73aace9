"""Importing a listening history: 500,000 listens from a ListenBrainz JSON Lines export, matched
to a library of 20,000 tracks, kept in a fresh data folder's listens table.

    python benchmarks/history_import.py [--listens 500000] [--tracks 20000] [--json FILE]

Synthetic: 2,000 artists of 10 tracks; listens drawn from 30,000 songs, two thirds of them the
library's (a quarter of those written as scrobblers do: changed case, no accents, "feat." and
remaster notes), one third songs the library does not have. Reported: the seconds to read the
file, to match, to keep, and in all (the issue's bar: 30 s), and the match rate against the
share of listens that are of library tracks.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explore_dash.history.exports import read_listens  # noqa: E402
from explore_dash.history.matching import UNMATCHED, match_listens  # noqa: E402
from explore_dash.history.store import add_listens, listens_frame  # noqa: E402

WORDS = ("night", "river", "glass", "ember", "north", "velvet", "signal", "hollow", "café",
         "étoile", "paper", "storm", "quiet", "neon", "harbour", "orbit", "lantern", "fever")


def library(n_tracks: int, rng: random.Random) -> pd.DataFrame:
    rows = []
    for track in range(n_tracks):
        artist = f"Artist {track // 10} {rng.choice(WORDS).title()}"
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))).title()
        rows.append((artist, f"{title} {track}", f"Album {track // 10}"))
    return pd.DataFrame(rows, columns=["artist", "title", "album"])


def as_heard(artist: str, title: str, rng: random.Random) -> tuple[str, str]:
    """How a scrobbler might write a library track's names."""
    change = rng.randrange(4)
    if change == 0:
        return artist.upper(), title.lower()
    if change == 1:
        return artist.replace("é", "e"), title.replace("é", "e").replace("É", "E")
    if change == 2:
        return f"{artist} feat. Someone", f"{title} (feat. Someone)"
    return artist, f"{title} - 2011 Remaster"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listens", type=int, default=500_000)
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rng = random.Random(35)
    tracks = library(args.tracks, rng)
    songs = []
    for _ in range(20_000):
        row = tracks.iloc[rng.randrange(len(tracks))]
        heard = as_heard(row.artist, row.title, rng) if rng.random() < 0.25 else (
            row.artist, row.title)  # fmt: skip
        songs.append((*heard, True))
    songs += [(f"Stranger {i}", f"Unknown Song {i}", False) for i in range(10_000)]
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "listens.jsonl"
        in_library = 0
        with export.open("w") as out:
            for i in range(args.listens):
                artist, title, known = songs[rng.randrange(len(songs))]
                in_library += known
                out.write(json.dumps({"listened_at": 1_500_000_000 + 60 * i, "track_metadata": {
                    "artist_name": artist, "track_name": title, "release_name": ""}}) + "\n")
        started = time.perf_counter()
        listens = read_listens(export)
        read_s = time.perf_counter() - started
        matched = match_listens(listens, tracks)
        match_s = time.perf_counter() - started - read_s
        add_listens(Path(folder), listens_frame(listens, matched))
        total_s = time.perf_counter() - started
    rate = float((matched != UNMATCHED).sum()) / len(listens)
    result = {
        "listens": args.listens, "tracks": args.tracks, "read_s": round(read_s, 2),
        "match_s": round(match_s, 2), "keep_s": round(total_s - read_s - match_s, 2),
        "total_s": round(total_s, 2), "match_rate": round(rate, 4),
        "library_share": round(in_library / args.listens, 4),
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
