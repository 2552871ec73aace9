"""The server callbacks called directly, as plain functions of (snapshot, inputs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash import Output, Patch, State, no_update

from explore_dash import ids
from explore_dash.callbacks import inputs, library, map_jobs, panels, playlist, request_guard
from explore_dash.callbacks.playlist_edits import Edits, PlaylistState, edit_playlist, keep
from explore_dash.data import colouring
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps.settings import MapLook, PanelSettings
from extraction.contract import ExtractionStatus, segment_id
from tests.support.fake_collection import FakeCollection, write_fake_collection
from tests.support.maps import NONE, TSNE

PCA = PanelSettings("musicnn", "msd", "embedding", "pca")
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
                   "look": [colouring.NONE, False, False]}  # fmt: skip
    # New tables while the extraction runs: the old map stays, no job is started.
    figure, count, job = draw(snapshot, tmp_path / "cache", TSNE, new_tables=True, running=True)
    assert figure is no_update and job is no_update and "redrawn when extraction ends" in count


def test_callbacks003_the_job_computes_stores_and_draws_and_then_the_map_is_cached(
    snapshot, tmp_path
):
    cache = tmp_path / "cache"
    _, _, job = draw(snapshot, cache, TSNE)
    progress = []
    figure, count, _ = map_jobs.compute_panel_map(snapshot, cache, job, NONE, progress.append)
    assert count == "20 segments" and progress[-1][0] == 100
    assert progress[0] == (0, "", "t-SNE for 20 segments · finding neighbours")
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
    tracks, fresh = snapshot.tracks, PlaylistState([])
    chosen = [segment_id(2, 0.0), segment_id(2, 2.992), segment_id(0, 0.0)]
    done = edit_playlist(tracks, ids.SELECTION, False, chosen, fresh, Edits())
    assert done.state == PlaylistState([2, 0]) and not done.edits.edited
    order = done.state

    def press(kind, track, clicked=True):
        trigger = {"type": kind, "track": track}
        return edit_playlist(tracks, trigger, clicked, chosen, order, done.edits)

    assert press(ids.PLAYLIST_UP, 0).state.tracks == [0, 2]
    assert press(ids.PLAYLIST_DOWN, 2).state.tracks == [0, 2]
    assert press(ids.PLAYLIST_UP, 0).state.edited  # moved: the user's now
    assert press(ids.PLAYLIST_UP, 2) is None and press(ids.PLAYLIST_DOWN, 0) is None  # the ends
    removed = press(ids.PLAYLIST_REMOVE, 2)
    assert removed.state.tracks == [0] and removed.edits.past == [order]  # kept for Undo
    assert press(ids.PLAYLIST_UP, 0, clicked=False) is None  # created, not clicked


def store(tracks, state: PlaylistState, edits: Edits, selection=None,
          trigger=None, clicked=True, chain=None):  # fmt: skip
    """The edit callback's outputs for the page's stores, as Dash would call it."""
    return playlist.edit(
        tracks, WIDE, trigger or ids.SELECTION, clicked, selection, state.tracks,
        state.starts, edits.as_store(), chain,
    )  # fmt: skip


def test_callbacks013_a_playlist_the_user_edited_is_never_replaced_without_an_undo(snapshot):
    tracks = snapshot.tracks
    first = [segment_id(2, 0.0), segment_id(0, 0.0)]
    second = [segment_id(7, 0.0), segment_id(0, 2.992)]
    run = edit_playlist(tracks, ids.SELECTION, False, first, PlaylistState([]),
                        Edits())  # fmt: skip
    # The user moves a row: the playlist is theirs.
    run = edit_playlist(tracks, {"type": ids.PLAYLIST_DOWN, "track": 2}, True, first,
                        run.state, run.edits)  # fmt: skip
    mine = run.state
    assert mine.tracks == [0, 2] and mine.edited
    # Clearing the selection leaves it; a new selection only offers to add or replace.
    cleared = edit_playlist(tracks, ids.SELECTION, False, [], mine, run.edits)
    assert cleared.state == mine and cleared.offer == ""
    offered = edit_playlist(tracks, ids.SELECTION, False, second, mine, run.edits)
    assert offered.state == mine
    assert offered.offer == "Selection: 2 tracks (1 not in the playlist)."
    added = edit_playlist(tracks, ids.PLAYLIST_ADD, True, second, mine, run.edits)
    assert added.state.tracks == [0, 2, 7] and added.offer == ""
    replaced = edit_playlist(tracks, ids.PLAYLIST_REPLACE, True, second, mine, run.edits)
    assert replaced.state.tracks == [7, 0] and replaced.edits.past == [mine]
    assert "Undo brings back the 2 tracks" in replaced.message
    undone = edit_playlist(tracks, ids.PLAYLIST_UNDO, True, second, replaced.state,
                           replaced.edits)  # fmt: skip
    assert undone.state == mine and undone.edits.edited and undone.edits.future
    redone = edit_playlist(tracks, ids.PLAYLIST_REDO, True, second, undone.state,
                           undone.edits)  # fmt: skip
    assert redone.state == replaced.state


def test_callbacks014_undo_brings_back_each_of_the_last_five_states(snapshot):
    tracks = snapshot.tracks
    states, state, edits = [], PlaylistState([0, 2, 5, 7, 8], edited=True), None
    edits = Edits(True)
    for track in (0, 2, 5, 7, 8, 0):  # six removals (the last of an emptied list: nothing)
        if track not in state.tracks:
            break
        states.append(state)
        done = edit_playlist(tracks, {"type": ids.PLAYLIST_REMOVE, "track": track},
                             True, [], state, edits)  # fmt: skip
        state, edits = done.state, done.edits
    assert state.tracks == [] and len(states) == 5 and edits.past == states
    for expected in reversed(states):
        done = edit_playlist(tracks, ids.PLAYLIST_UNDO, True, [], state, edits)
        state, edits = done.state, done.edits
        assert state == expected
    assert edit_playlist(tracks, ids.PLAYLIST_UNDO, True, [], state, edits) is None
    # The menu goes back several steps at once, and never further than five.
    past = Edits(True, states[:-1])
    for steps, expected in ((3, states[1]), (4, states[0])):
        jump = {"type": ids.PLAYLIST_RESTORE, "index": steps}
        assert edit_playlist(tracks, jump, True, [], states[-1], past).state == expected
    kept = keep(states, PlaylistState([9], edited=True))
    assert len(kept) == 5 and kept[0] == states[1]
    # A run of lassos keeps its last, not five: the user's playlist stays within reach.
    lassos = keep(keep([states[0]], PlaylistState([1])), PlaylistState([3]))
    assert lassos == [states[0], PlaylistState([3])]


def test_callbacks015_the_edit_callback_checks_the_stores_and_says_what_changed(snapshot):
    mine = PlaylistState([2, 0], {"2": 8.976}, True)
    edits = Edits(True)
    chain = {
        "id": "c",
        "kind": "path",
        "panel": 0,
        "model": "m",
        "layer": "l",
        "ended": False,
        "items": [{"segment": segment_id(5, 0.0), "track": 5, "offset": 1.0, "title": ""}],
    }
    outputs = store(snapshot.tracks, mine, edits, trigger=ids.CHAIN_TO_PLAYLIST, chain=chain)
    order, starts, kept, offer, hidden, message = outputs
    assert order == [5] and starts == {"5": 1.0} and offer == "" and hidden is True
    assert kept["past"] == [mine.as_store()] and kept["edited"]
    assert message == "The chain is the playlist now: Undo brings back the 2 tracks before."
    # → Playlist with no chain yet leaves the playlist alone (it emptied it before).
    for nothing in (None, {**chain, "items": []}):
        outputs = store(snapshot.tracks, mine, edits, trigger=ids.CHAIN_TO_PLAYLIST, chain=nothing)
        assert outputs == (no_update,) * 6
    # A selection on an edited playlist: offered, nothing replaced, the export message stays.
    selection = {"ids": [segment_id(0, 0.0)], "source": 0}
    offered = store(snapshot.tracks, mine, edits, selection=selection)
    assert offered[:2] == (no_update, no_update) and offered[4] is False
    assert offered[3].startswith("Selection: 1 track ") and offered[5] is no_update
    # Stores the page never sends are no update, as every other input.
    for forged in ({"past": "x"}, {"past": [{"tracks": [1, 1]}]}, {"past": [{}] * 6},
                   {"edited": 1}, {"future": [{"tracks": [], "starts": {"a": 1}}]}):  # fmt: skip
        with pytest.raises(inputs.InvalidInput):
            playlist.edit(None, WIDE, ids.SELECTION, False, None, [], {}, forged, None)
    with pytest.raises(inputs.InvalidInput):
        store(snapshot.tracks, mine, edits, trigger={"type": ids.PLAYLIST_RESTORE, "index": "1"})


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
    import explore_dash.listening.playlist as saving

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
    assert request_guard.callback_request_problem([], known) == "the request is not a JSON object"
    body = {"output": "a.b", "outputs": {"id": "a", "property": "b"},
            "inputs": [{"id": "x", "property": "p"}]}
    assert request_guard.callback_request_problem(body, known) is None
    problem = request_guard.callback_request_problem
    assert problem({**body, "output": "c.d"}, known) == "no such callback"
    assert request_guard.callback_request_problem({**body, "inputs": []}, known) == (
        "the callback takes 1 inputs"
    )


def test_callbacks011_a_panels_job_store_is_checked_before_the_job_runs(snapshot, tmp_path):
    panel_job = inputs.panel_job
    _, _, job = draw(snapshot, tmp_path / "cache", TSNE, every_n=2, artists=["Alpha"])
    bounds = inputs.page_bounds(snapshot)
    assert panel_job(bounds, job) == job  # what the page sends comes through unchanged
    fresh = panels.map_job(TSNE, [], ["rock"], 1, 4, MapLook("artist", True, True), True)
    assert panel_job(bounds, {**fresh, "attempt": 3}) == fresh
    assert panel_job(bounds, None) is None and panel_job(bounds, {}) is None
    for broken in ({"settings": "x"}, {**job, "settings": [1, 2, 3, 4]}, {**job, "look": None},
                   {**job, "settings": ["musicnn", "msd", "embedding", "mds"]},
                   {**job, "every_n": -1}, {**job, "window": 3}, {**job, "artists": "Alpha"},
                   {**job, "fresh": "yes"}, [job], "job"):  # fmt: skip
        with pytest.raises(inputs.InvalidInput):
            panel_job(bounds, broken)


def test_callbacks016_undo_then_a_selection_keeps_the_users_playlist_within_reach(snapshot):
    tracks = snapshot.tracks
    first = [segment_id(2, 0.0), segment_id(0, 0.0), segment_id(5, 0.0)]
    run = edit_playlist(tracks, ids.SELECTION, False, first, PlaylistState([]),
                        Edits())  # fmt: skip
    made = run.state
    run = edit_playlist(tracks, {"type": ids.PLAYLIST_REMOVE, "track": 0}, True, first,
                        run.state, run.edits)  # fmt: skip
    assert run.offer == ""  # an offer's count was about the playlist before the edit
    mine = run.state
    undone = edit_playlist(tracks, ids.PLAYLIST_UNDO, True, first, mine, run.edits)
    assert undone.state == made and not undone.state.edited and undone.edits.future == [mine]
    # A new selection now meets a playlist a selection made, but Redo holds the user's own:
    # it offers instead of replacing (it replaced, and emptied Redo, before).
    second = [segment_id(7, 0.0)]
    offered = edit_playlist(tracks, ids.SELECTION, False, second, undone.state,
                            undone.edits)  # fmt: skip
    assert offered.state == made and offered.edits.future == [mine]
    assert offered.offer.startswith("Selection: 1 track")
    redone = edit_playlist(tracks, ids.PLAYLIST_REDO, True, second, offered.state,
                           offered.edits)  # fmt: skip
    assert redone.state == mine


def test_callbacks017_adding_nothing_new_changes_nothing(snapshot):
    tracks = snapshot.tracks
    mine = PlaylistState([0, 2], edited=True)
    edits = Edits(True, [], [PlaylistState([0], edited=True)])
    same = [segment_id(2, 0.0)]
    done = edit_playlist(tracks, ids.PLAYLIST_ADD, True, same, mine, edits)
    assert done.state == mine and done.edits == edits and done.offer == ""


def test_callbacks018_the_music_card_comes_back_as_one_checked_selection(snapshot):
    bounds = inputs.page_bounds(snapshot)
    chosen = inputs.music(bounds, ["Alpha"], None, 4, "4")
    assert chosen == inputs.MusicSelection(["Alpha"], [], 4, 4)
    assert inputs.music(bounds, None, None, None, None) == inputs.MusicSelection([], [], 1, 1)
    for forged in (("Alpha", None, 1, "1"), (None, None, 0, "1"), (None, None, 1, "3"),
                   (None, None, True, "1")):  # fmt: skip
        with pytest.raises(inputs.InvalidInput):
            inputs.music(bounds, *forged)
    # The ids and counts the page sends: at most 2**53, what its numbers hold exactly.
    assert inputs.whole(2**53, 0, inputs.MAX_ID) == 2**53
    with pytest.raises(inputs.InvalidInput):
        inputs.wholes([2**53 + 2])


def test_callbacks019_each_group_of_controls_names_the_keywords_of_its_check():
    import inspect

    from explore_dash.callbacks import flow, groups

    def keywords(check, *leading):
        return [name for name in inspect.signature(check).parameters if name not in leading]

    # A callback passes a group to its check as **group: a name the check lacks would fail
    # every call of it.
    assert list(groups.MUSIC) == keywords(inputs.music, "bounds")
    assert list(groups.LOOK) == keywords(inputs.map_look)
    assert list(groups.HIGHLIGHT) == keywords(inputs.highlight, "bounds")
    assert list(groups.PANEL_MENUS) == keywords(inputs.panel_settings)
    assert list(groups.PANEL_MENUS) == keywords(inputs.every_panel_settings)
    assert list(groups.DIVERSITY) == keywords(flow.diversity_values, "bounds")
    assert list(groups.SPACE_MENUS) == keywords(flow.panel_spaces)
    menus = groups.panel_menus(1, State, groups.SPACE_MENUS)
    assert [dependency.component_id for dependency in menus.values()] == [
        ids.panel(ids.PANEL_ARCHITECTURE, 1), ids.panel(ids.PANEL_DATASET, 1),
        ids.panel(ids.PANEL_LAYER, 1),
    ]  # fmt: skip
