"""The server callbacks called directly, as plain functions of (snapshot, inputs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash import Output, Patch, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs, library, panels, playlist
from explore_dash.figures import PanelSettings
from explore_dash.snapshot import Snapshot
from extraction.contract import ExtractionStatus, segment_id
from tests.fake_collection import FakeCollection, write_fake_collection

PCA = PanelSettings("musicnn", "msd", "embedding", "pca")
TSNE = PanelSettings("musicnn", "msd", "embedding", "tsne")
NONE = ([], [], [], [])
#: Bounds no test input reaches, for checks of an input's type rather than its length.
WIDE = inputs.PageBounds(tracks=1000, segments=1000, choices=1000, moments=1000)


@pytest.fixture()
def fake(tmp_path: Path) -> FakeCollection:
    return write_fake_collection(tmp_path)


@pytest.fixture()
def snapshot(fake: FakeCollection) -> Snapshot:
    return Snapshot.load(fake.data_dir)


def draw(snapshot, cache_dir, settings, *, new_tables=False, running=False, view=None, **music):
    """(figure, count, job) of ``panels.draw_panel`` (its legend is checked in callbacks1xx)."""
    return panels.draw_panel(
        snapshot,
        cache_dir,
        settings,
        music.get("artists", []),
        music.get("tags", []),
        music.get("every_n", 1),
        music.get("highlight", NONE),
        new_tables=new_tables,
        view=view,
        extraction_running=lambda: running,
    )[:3]


def test_callbacks001_a_stored_projection_draws_at_once(snapshot, tmp_path):
    figure, count, job = draw(snapshot, tmp_path / "cache", PCA, artists=["Alpha"])
    assert count == "8 segments" and job is no_update  # Alpha: tracks of 5 and 3 segments
    assert [trace["name"] for trace in figure["data"]] == ["segments", "highlight", "trajectories",
                                                        "trajectory ends"]  # fmt: skip
    assert figure["layout"]["title"]["text"] == "musicnn-msd · embedding · PCA"


def test_callbacks002_a_map_not_computed_yet_goes_to_the_background_job(snapshot, tmp_path):
    figure, count, job = draw(snapshot, tmp_path / "cache", TSNE, every_n=2)
    assert figure is no_update
    assert count.startswith("computing t-SNE for")
    assert len(job.pop("request")) == 16  # each job its own (two pages, one map: two results)
    assert job == {"settings": ["musicnn", "msd", "embedding", "tsne"], "artists": [],
                   "tags": [], "every_n": 2, "window": 1,
                   "look": ["none", False, False]}  # fmt: skip
    # New tables while the extraction runs: the old map stays, no job is started.
    figure, count, job = draw(snapshot, tmp_path / "cache", TSNE, new_tables=True, running=True)
    assert figure is no_update and job is no_update and "redrawn when extraction ends" in count


def test_callbacks003_the_job_computes_stores_and_draws_and_then_the_map_is_cached(
    snapshot, tmp_path
):
    cache = tmp_path / "cache"
    _, _, job = draw(snapshot, cache, TSNE)
    progress = []
    figure, count, _ = panels.compute_panel_map(snapshot, cache, job, NONE, progress.append)
    assert count == "20 segments" and progress[0] == (0, "starting") and progress[-1][0] == 100
    # Drawn from the cache now, the same points in the same places.
    again, _, next_job = draw(snapshot, cache, TSNE)
    assert next_job is no_update and again["data"][0]["x"] == figure["data"][0]["x"]


def test_callbacks004_new_tables_keep_the_users_zoom(snapshot, tmp_path):
    view = {"revision": f"{PCA}", "xaxis": [0, 1], "yaxis": [2, 3], "dragmode": "select"}
    figure, _, _ = draw(snapshot, tmp_path, PCA, new_tables=True, view=view)
    assert figure["layout"]["xaxis"]["range"] == [0, 1]
    assert figure["layout"]["dragmode"] == "select"
    other = {**view, "revision": "another map"}
    figure, _, _ = draw(snapshot, tmp_path, PCA, new_tables=True, view=other)
    assert "range" not in figure["layout"]["xaxis"]


def test_callbacks005_recolouring_patches_only_the_highlight_trace(snapshot, tmp_path):
    patches = panels.recolour(snapshot, tmp_path, (["Beta"], [], [], []), [PCA, TSNE], [], [], 1)
    assert isinstance(patches[0], Patch) and patches[1] is no_update  # t-SNE: not computed


def test_callbacks006_the_playlist_follows_the_selection_and_the_buttons(snapshot):
    tracks = snapshot.tracks
    chosen = [segment_id(2, 0.0), segment_id(2, 2.992), segment_id(0, 0.0)]
    order = playlist.edit_playlist(tracks, ids.SELECTION, False, chosen, [])
    assert order == [2, 0]
    up = {"type": ids.PLAYLIST_UP, "track": 0}
    assert playlist.edit_playlist(tracks, up, True, chosen, order) == [0, 2]
    remove = {"type": ids.PLAYLIST_REMOVE, "track": 2}
    assert playlist.edit_playlist(tracks, remove, True, chosen, order) == [0]
    assert playlist.edit_playlist(tracks, up, False, chosen, order) is no_update  # created


def test_callbacks007_export_saves_and_downloads(snapshot, fake):
    download, message = playlist.export(
        snapshot.tracks, fake.library, fake.data_dir, [2, 0], "mix", False
    )
    assert download["filename"] == "mix.m3u8" and download["base64"] is True
    assert message.startswith("Saved 2 tracks to ")
    assert playlist.export(snapshot.tracks, fake.library, fake.data_dir, [], "x", False)[0] is (
        no_update
    )


def test_callbacks012_an_export_with_no_room_left_says_why(snapshot, fake, monkeypatch):
    import explore_dash.playlist as saving

    monkeypatch.setattr(saving, "MAX_SAVED_PLAYLISTS", 1)
    playlist.export(snapshot.tracks, fake.library, fake.data_dir, [0], "first", False)
    download, message = playlist.export(
        snapshot.tracks, fake.library, fake.data_dir, [0], "second", False
    )
    assert download is no_update and "already holds 1 playlists" in message


def test_callbacks008_the_poll_sends_choices_only_for_a_new_version(snapshot, fake):
    status = ExtractionStatus(phase="done", tracks_total=3, tracks_done=3)
    same = library.poll_library(snapshot, status, snapshot.version, str(fake.library))
    # After the poll interval and the maps-ahead line, nothing for an unchanged version.
    assert same[len(library.EXTRACTION_OUTPUTS) + 2 :] == (no_update,) * (
        len(library.LIBRARY_OUTPUTS) - 2
    )
    new = library.poll_library(snapshot, status, snapshot.version - 1, str(fake.library))
    version_at = len(library.EXTRACTION_OUTPUTS) + 2
    assert new[version_at] == snapshot.version
    artists = new[version_at + 3]
    assert artists == ["Alpha", "Beta", "Delta", "Gamma"]


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: inputs.whole(v, 1, 30), 0),
        (lambda v: inputs.whole(v, 1, 30), True),
        (lambda v: inputs.whole(v, 1, 30), 2.5),
        (lambda v: inputs.whole(v, 1, 30), float("nan")),
        (inputs.texts, [1, 2]),
        (inputs.texts, "Alpha"),
        (inputs.wholes, [1, "2"]),
        (lambda v: inputs.selection(v, WIDE), {"ids": [{"x": 1}]}),
        (lambda v: inputs.choice(v, {"pca"}), "tsne"),
        (inputs.flag, "yes"),
    ],
)
def test_callbacks009_inputs_the_page_never_sends_are_no_update(check, value):
    with pytest.raises(inputs.InvalidInput):
        check(value)


def test_callbacks010_valid_inputs_come_back_typed():
    assert inputs.whole(3.0, 1, 30) == 3 and inputs.whole(None, 1, 30, default=1) == 1
    assert inputs.texts(None) == [] and inputs.selection({"ids": [5, 6]}, WIDE) == [5, 6]
    known = {"a.b": {"callback": print, "output": Output("a", "b"),
                     "inputs": [{"id": "x", "property": "p"}], "state": []}}  # fmt: skip
    assert inputs.callback_request_problem([], known) == "the request is not a JSON object"
    body = {"output": "a.b", "outputs": {"id": "a", "property": "b"},
            "inputs": [{"id": "x", "property": "p"}]}
    assert inputs.callback_request_problem(body, known) is None
    assert inputs.callback_request_problem({**body, "output": "c.d"}, known) == "no such callback"
    assert inputs.callback_request_problem({**body, "inputs": []}, known) == (
        "the callback takes 1 inputs"
    )


def test_callbacks011_a_panels_job_store_is_checked_before_the_job_runs(snapshot, tmp_path):
    from explore_dash.callbacks import panel_job

    _, _, job = draw(snapshot, tmp_path / "cache", TSNE, every_n=2, artists=["Alpha"])
    bounds = inputs.page_bounds(snapshot)
    assert panel_job(bounds, job) == job  # what the page sends comes through unchanged
    fresh = panels.map_job(TSNE, [], ["rock"], 1, 4, panels.MapLook("artist", True, True), True)
    assert panel_job(bounds, {**fresh, "attempt": 3}) == fresh
    assert panel_job(bounds, None) is None and panel_job(bounds, {}) is None
    for broken in ({"settings": "x"}, {**job, "settings": [1, 2, 3, 4]}, {**job, "look": None},
                   {**job, "settings": ["musicnn", "msd", "embedding", "mds"]},
                   {**job, "every_n": -1}, {**job, "window": 3}, {**job, "artists": "Alpha"},
                   {**job, "fresh": "yes"}, [job], "job"):  # fmt: skip
        with pytest.raises(inputs.InvalidInput):
            panel_job(bounds, broken)
