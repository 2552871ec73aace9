"""Listening history: exports read (ListenBrainz JSON, JSONL and zip; Last.fm CSV and NDJSON),
names normalised, listens matched to the library's tracks, kept once, and the import command."""

from __future__ import annotations

import json
import zipfile

import pytest

from explore_dash.cli import main as cli_main
from explore_dash.data.tables import read_tracks
from explore_dash.history.command import build_parser, import_history
from explore_dash.history.exports import HistoryError, Listen, read_listens, unix_time
from explore_dash.history.matching import UNMATCHED, match_listens
from explore_dash.history.names import artist_key, title_key
from explore_dash.history.store import read_listens_table
from extraction.contract import TRACKS_FILE
from tests.support.fake_collection import write_fake_collection

#: The fake library's tracks as scrobblers write them: exact, case, accents, "feat.", notes.
HEARD = [
    ("Alpha", "Song A", "First Album", 0),
    ("ALPHA", "song b", "", 1),
    ("Beta", "Etude", "Second", 2),  # no accent
    ("Beta feat. Someone", "Étude (feat. Someone)", "", 2),
    ("Gamma", "Crowd - 2011 Remaster", "Live", 5),
    ("Delta", "Hit [Live at Wembley]", "", 7),
    ("Delta", "Hit (Single Version)", "Greatest Hits", 7),
    ("Nobody", "Not Here", "", UNMATCHED),
]
T0 = 1_700_000_000


def listenbrainz_entries() -> list[dict]:
    return [{"listened_at": T0 + 60 * i, "track_metadata": {
                "artist_name": a, "track_name": t, "release_name": album,
                "additional_info": {"duration_ms": 200000}}}
            for i, (a, t, album, _) in enumerate(HEARD)]  # fmt: skip


def lastfm_csv() -> str:
    rows = ["uts,utc_time,artist,album,track"]
    for i, (a, t, album, _) in enumerate(HEARD):
        rows.append(f'{T0 + 60 * i},"14 Nov 2023, 22:{i:02d}","{a}","{album}","{t}"')
    return "\n".join(rows) + "\n"


@pytest.fixture
def library(tmp_path):
    return write_fake_collection(tmp_path)


def test_history001_names_without_case_accents_featured_artists_or_release_notes():
    assert title_key("Étude (feat. Someone)") == title_key("etude") == "etude"
    assert title_key("Crowd - 2011 Remaster") == title_key("Crowd (Remastered)") == "crowd"
    assert title_key("Song - Part 2") == "song part 2"  # a dash that is no release note
    assert artist_key("Beta feat. Someone") == artist_key("BETA") == "beta"


def test_history002_every_export_format_reads_the_same_listens(tmp_path):
    expected = [Listen(T0 + 60 * i, a, t, album, "listenbrainz")
                for i, (a, t, album, _) in enumerate(HEARD)]  # fmt: skip
    as_json = tmp_path / "listens.json"
    as_json.write_text(json.dumps(listenbrainz_entries()))
    as_jsonl = tmp_path / "listens.jsonl"
    as_jsonl.write_text("\n".join(json.dumps(e) for e in listenbrainz_entries()) + "\n")
    zipped = tmp_path / "listenbrainz_export.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("listens/2023/11.jsonl", as_jsonl.read_text())
        archive.writestr("feedback.jsonl", '{"score": 1}\n')  # not listens: left alone
    for path in (as_json, as_jsonl, zipped):
        assert read_listens(path) == expected, path.name
    as_csv = tmp_path / "scrobbles.csv"
    as_csv.write_text(lastfm_csv())
    ndjson = tmp_path / "scrobbles.ndjson"
    ndjson.write_text("\n".join(json.dumps({"artist": a, "album": al, "track": t,
                                            "time": f"2023-11-14T22:13:{i:02d}Z"})
                                for i, (a, t, al, _) in enumerate(HEARD)))  # fmt: skip
    scrobbles = read_listens(as_csv)
    assert [(s.time, s.artist, s.title, s.album) for s in scrobbles] == [
        (e.time, e.artist, e.title, e.album) for e in expected]  # fmt: skip
    assert {s.source for s in scrobbles} == {"lastfm"}
    # 2023-11-14T22:13:20Z is 1,700,000,000.
    assert [s.time for s in read_listens(ndjson)] == [1_699_999_980 + i for i in range(len(HEARD))]


@pytest.mark.parametrize("text, said", [
    ('[{"listened_at": 1, "track_metadata": {"artist_name": "a"}}]', "entry 1: 'track_name'"),
    ('{"listened_at": 1700000000, "track_metadata": {"artist_name": "a", "track_name": "b"}}\n'
     "not json\n", "line 2: not valid JSON"),
    ("artist,track\nA,B\n", "line 2: expected artist, track and time columns"),
    ("artist,track,time\nA,B,yesterday\n", "line 2: 'yesterday' is not a date"),
])  # fmt: skip
def test_history003_a_bad_file_says_where_and_why(tmp_path, text, said):
    path = tmp_path / ("bad.csv" if text.startswith("artist") else "bad.json")
    path.write_text(text)
    with pytest.raises(HistoryError, match=said.replace("(", r"\(").replace(")", r"\)")):
        read_listens(path)


def test_history004_every_listen_of_a_library_track_matches(library):
    tracks = read_tracks(library.data_dir / TRACKS_FILE)
    listens = [Listen(T0, a, t, album) for a, t, album, _ in HEARD]
    assert match_listens(listens, tracks).tolist() == [track for *_, track in HEARD]


def test_history005_an_import_keeps_each_listen_once_and_a_bad_file_nothing(library, tmp_path):
    export = tmp_path / "listens.json"
    export.write_text(json.dumps(listenbrainz_entries()))
    report = import_history(export, library.data_dir)
    assert (report.read, report.matched, report.tracks, report.added) == (8, 7, 5, 8)
    assert report.unmatched == (("Nobody", "Not Here", 1),)
    again = import_history(export, library.data_dir)
    assert again.added == 0 and len(read_listens_table(library.data_dir)) == 8
    scrobbles = tmp_path / "scrobbles.csv"  # the same listens from Last.fm: already there
    scrobbles.write_text(lastfm_csv())
    assert import_history(scrobbles, library.data_dir).added == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(listenbrainz_entries()[0]) + "\n{broken\n")
    with pytest.raises(HistoryError):
        import_history(bad, library.data_dir)
    table = read_listens_table(library.data_dir)
    assert len(table) == 8 and table["track"].tolist() == [t for *_, t in HEARD]


def test_history006_the_command_prints_what_became_of_the_listens(library, tmp_path, capsys):
    export = tmp_path / "listens.json"
    export.write_text(json.dumps(listenbrainz_entries()))
    assert cli_main(["history", "import", str(export), "--data", str(library.data_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == ["listens read: 8", "listens matched to the library: 7 (88%)",
                       "tracks they matched: 5",
                       "new listens kept: 8 (the rest were already there)"]
    assert out[4:] == ["most listened, not in the library (top 1):", "       1  Nobody – Not Here"]
    assert cli_main(["history", "import", str(tmp_path / "none.json"), "--data",
                     str(library.data_dir)]) == 2  # fmt: skip
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # --library or --data, not both
        build_parser().parse_args(["import", "f", "--library", "a", "--data", "b"])


def test_history007_times_as_exporters_write_them():
    assert unix_time(1700000000) == unix_time("1700000000") == 1700000000
    assert unix_time(1700000000123) == 1700000000  # milliseconds
    assert unix_time("2023-11-14T22:13:20Z") == unix_time("14 Nov 2023, 22:13") + 20
    with pytest.raises(ValueError):
        unix_time(True)


def test_history008_a_misspelt_name_matches_a_near_one_does_not():
    import pandas as pd

    tracks = pd.DataFrame({"artist": ["Björk", "Björk", "Portishead"],
                           "title": ["Army of Me", "Hit", "Glory Box"],
                           "album": ["Post", "X", "Dummy"]}, index=[10, 11, 12])  # fmt: skip
    listens = [Listen(T0, "Bjork", "Army of Mee"), Listen(T0, "Portishaed", "Glory Box"),
               Listen(T0, "Björk", "Hits"), Listen(T0, "Björk", "Hyperballad")]
    assert match_listens(listens, tracks).tolist() == [10, 12, UNMATCHED, UNMATCHED]
