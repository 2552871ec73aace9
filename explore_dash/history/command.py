"""``explore-dash history import FILE``: listens from an export into the library's data folder,
and what became of them, printed."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from explore_dash.data.tables import read_tracks
from explore_dash.history.exports import HistoryError, read_listens
from explore_dash.history.matching import UNMATCHED, match_listens
from explore_dash.history.store import add_listens, listens_frame
from extraction.contract import TRACKS_FILE, default_data_dir

#: Unmatched artist/title pairs the import names, most listened first.
UNMATCHED_SHOWN = 10


@dataclass(frozen=True)
class ImportReport:
    """What an import read, matched and kept."""

    read: int
    matched: int
    tracks: int
    added: int
    unmatched: tuple[tuple[str, str, int], ...]  # (artist, title, listens), most listened first

    def lines(self) -> list[str]:
        share = f" ({self.matched / self.read:.0%})" if self.read else ""
        lines = [
            f"listens read: {self.read}",
            f"listens matched to the library: {self.matched}{share}",
            f"tracks they matched: {self.tracks}",
            f"new listens kept: {self.added} (the rest were already there)",
        ]
        if self.unmatched:
            lines.append(f"most listened, not in the library (top {len(self.unmatched)}):")
            lines += [f"  {count:>6}  {artist} – {title}"
                      for artist, title, count in self.unmatched]  # fmt: skip
        return lines


def import_history(path: Path, data_dir: Path) -> ImportReport:
    """Read every listen of ``path``, match it to the library's tracks, keep the new ones.

    Raises
    ------
    HistoryError
        When the file cannot be read, or the data folder holds no analysed library; nothing is
        kept then.
    """
    tracks_file = data_dir / TRACKS_FILE
    if not tracks_file.exists():
        raise HistoryError(f"{data_dir} holds no analysed library (no {TRACKS_FILE}): run "
                           "explore-dash on the library first")  # fmt: skip
    listens = read_listens(path)
    tracks: pd.DataFrame = read_tracks(tracks_file)
    matched = match_listens(listens, tracks)
    added = add_listens(data_dir, listens_frame(listens, matched))
    missing = Counter((listen.artist, listen.title)
                      for listen, track in zip(listens, matched, strict=True)
                      if track == UNMATCHED)  # fmt: skip
    return ImportReport(
        read=len(listens),
        matched=int((matched != UNMATCHED).sum()),
        tracks=len(set(matched[matched != UNMATCHED].tolist())),
        added=added,
        unmatched=tuple((a, t, n) for (a, t), n in missing.most_common(UNMATCHED_SHOWN)),
    )


def build_parser() -> argparse.ArgumentParser:
    """``explore-dash history``'s command line (documented flag for flag in the README)."""
    parser = argparse.ArgumentParser(
        prog="explore-dash history", description="Your listening history, kept with the library."
    )
    commands = parser.add_subparsers(dest="action", required=True)
    importing = commands.add_parser(
        "import", help="listens from a ListenBrainz export or Last.fm scrobbles (JSON, JSONL, "
        "NDJSON or CSV, zipped or not)")  # fmt: skip
    importing.add_argument("file", type=Path, help="the export")
    where = importing.add_mutually_exclusive_group(required=True)
    where.add_argument("--library", type=Path, help="the music folder (its data folder is used)")
    where.add_argument("--data", type=Path, help="the library's data folder")
    return parser


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    data_dir = (args.data.expanduser().resolve() if args.data is not None
                else default_data_dir(args.library))  # fmt: skip
    try:
        report = import_history(args.file, data_dir)
    except HistoryError as error:
        print(f"explore-dash history: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0
