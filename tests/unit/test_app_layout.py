"""The app factory and page layout: empty state, anonymized labels, no Essentia in the web side."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dash import html

from explore_dash import ids
from explore_dash.config import AppConfig
from explore_dash.server.app import create_app
from tests.support.fake_collection import write_fake_collection


def components(node):
    """Every component of a layout tree, depth first."""
    yield node
    children = getattr(node, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from components(child)


def find(layout, component_id):
    """Components with this id in a layout (or a layout function, called as Dash would)."""
    layout = layout() if callable(layout) else layout
    return [c for c in components(layout) if getattr(c, "id", None) == component_id]


def test_layout001_empty_data_folder_shows_how_to_extract(tmp_path: Path):
    (tmp_path / "lib").mkdir()
    app = create_app(AppConfig(tmp_path / "lib", tmp_path / "data", extract=False))
    (empty,) = find(app.layout, ids.EMPTY_STATE)
    text = str(empty.to_plotly_json())
    assert "No extracted tracks yet" in text and "python -m extraction" in text
    assert empty.style is None  # shown
    # The panels are there, empty, ready for the first tracks.
    assert find(app.layout, ids.panel(ids.PANEL_GRAPH, 0))


def test_layout001b_empty_while_extracting_says_the_map_is_coming(tmp_path: Path):
    (tmp_path / "lib").mkdir()
    app = create_app(AppConfig(tmp_path / "lib", tmp_path / "data", extract=True))
    (empty,) = find(app.layout, ids.EMPTY_STATE)
    text = str(empty.to_plotly_json())
    assert "Building your map" in text and "first tracks" in text


def test_layout001c_empty_state_hidden_once_there_are_tracks(tmp_path: Path):
    fake = write_fake_collection(tmp_path)
    app = create_app(AppConfig(fake.library, fake.data_dir))
    (empty,) = find(app.layout, ids.EMPTY_STATE)
    assert empty.style == {"display": "none"}


def test_layout002_two_panels_with_real_labels_or_neutral_codes(tmp_path: Path):
    fake = write_fake_collection(tmp_path)
    app = create_app(AppConfig(fake.library, fake.data_dir))
    for panel in ids.PANELS:
        assert find(app.layout, ids.panel(ids.PANEL_GRAPH, panel))
    (architecture,) = find(app.layout, ids.panel(ids.PANEL_ARCHITECTURE, 0))
    assert [o["label"] for o in architecture.options] == ["MusiCNN", "VGG"]
    anonymous = create_app(AppConfig(fake.library, fake.data_dir, anonymize=True))
    (architecture,) = find(anonymous.layout, ids.panel(ids.PANEL_ARCHITECTURE, 0))
    assert [o["label"] for o in architecture.options] == ["A1", "A2"]
    (projection,) = find(anonymous.layout, ids.panel(ids.PANEL_PROJECTION, 1))
    assert [o["label"] for o in projection.options] == ["P1", "P2", "P3", "P4"]


def test_layout003_web_side_never_imports_essentia_or_tensorflow(tmp_path: Path):
    fake = write_fake_collection(tmp_path)
    code = (
        "import sys; from pathlib import Path;"
        "from explore_dash.server.app import create_app; from explore_dash.config import AppConfig;"
        f"create_app(AppConfig(Path({str(fake.library)!r}), Path({str(fake.data_dir)!r})));"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('essentia', 'tensorflow', 'av')];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_layout004_slots_only_for_controls_with_a_reserved_height():
    from explore_dash.layouts.slots import slot

    assert slot(html.Span("x"), "dropdown").className == "slot-dropdown"
    with pytest.raises(ValueError, match="unknown slot kind 'chart'"):
        slot(html.Span("x"), "chart")


def test_layout005_a_running_extraction_is_in_the_page_from_its_first_draw(tmp_path: Path):
    """The Library box comes with the page, not with the first poll (which moved the controls
    under it down after the page had drawn)."""
    from extraction.contract import ExtractionStatus
    from extraction.status import StatusFile

    fake = write_fake_collection(tmp_path)
    status = StatusFile(fake.data_dir)  # written by this (alive) process
    status.status = ExtractionStatus(
        phase="extracting",
        tracks_total=10,
        tracks_done=4,
        audio_total_seconds=3600,
        audio_done_seconds=900,
        failures=[["bad.mp3", "not audio"]],
    )
    status.write()
    app = create_app(AppConfig(fake.library, fake.data_dir))
    (box,) = find(app.layout, ids.EXTRACTION_BOX)
    assert box.style == {"display": "block"}
    (bar,) = find(app.layout, ids.EXTRACTION_BAR)
    assert bar.value == 25.0 and bar.animated
    (text,) = find(app.layout, ids.EXTRACTION_TEXT)
    assert text.children.startswith("Extracting: 4 of 10 tracks")
    (failures,) = find(app.layout, ids.EXTRACTION_FAILURES)
    assert "1 file could not be analysed" in str(failures.children[0].to_plotly_json())

    status.path.unlink()  # nothing ran: no box
    (box,) = find(create_app(AppConfig(fake.library, fake.data_dir)).layout, ids.EXTRACTION_BOX)
    assert box.style == {"display": "none"}


@pytest.mark.parametrize("segments, every_n", [(0, 1), (200_000, 1), (200_001, 2),
                                               (1_000_000, 5), (100_000_000, 30)])  # fmt: skip
def test_layout008_the_slider_starts_so_a_map_has_at_most_200k_points(segments, every_n):
    from explore_dash.layouts.sidebar import default_every_n, thinning_note

    assert default_every_n(segments) == every_n
    assert (thinning_note(segments, every_n) != "") == (every_n > 1)


def test_layout009_a_large_collection_starts_thinned_and_says_so(tmp_path: Path, monkeypatch):
    from explore_dash.layouts import sidebar

    monkeypatch.setattr(sidebar, "POINTS_PER_PANEL", 8)  # the fake collection has 20 segments
    fake = write_fake_collection(tmp_path)
    app = create_app(AppConfig(fake.library, fake.data_dir))
    layout = app.layout() if callable(app.layout) else app.layout
    (slider,) = find(layout, ids.REDUCTION)
    assert slider.value == 3
    notes = [c.children for c in components(layout)
             if isinstance(getattr(c, "children", None), str) and "1 in 3" in c.children]
    assert notes and notes[0].startswith("20 segments: 1 in 3 shown")


def test_layout010_the_listening_cards_sit_under_the_maps_not_in_the_sidebar(tmp_path: Path):
    """Issue 32, item 11: the player, radio, paths and playlist were ~2,000 px down the sidebar.
    They share the maps' column now, in one row under the two panels."""
    fake = write_fake_collection(tmp_path)
    layout = create_app(AppConfig(fake.library, fake.data_dir)).layout
    layout = layout() if callable(layout) else layout

    def classed(name: str) -> list:
        return [c for c in components(layout) if name in (getattr(c, "className", None) or "")]

    (row,) = classed("listening-row")
    inside_row = {getattr(c, "id", None) for c in components(row)}
    listening = {ids.PLAYER, ids.RADIO_START, ids.PATH_BUTTON, ids.PLAYLIST_LIST,
                 ids.PLAYLIST_EXPORT}  # fmt: skip
    assert listening <= inside_row
    # The page's two columns: the sidebar (lg=3) and the maps' (lg=9).
    (sidebar,) = [c for c in components(layout) if getattr(c, "lg", None) == 3]
    (maps,) = [c for c in components(layout) if getattr(c, "lg", None) == 9]
    assert not listening & {getattr(c, "id", None) for c in components(sidebar)}
    in_maps = [getattr(c, "id", None) for c in components(maps)]
    assert ids.panel(ids.PANEL_GRAPH, 1) in in_maps and ids.PLAYER in in_maps
    assert in_maps.index(ids.PLAYER) > in_maps.index(ids.panel(ids.PANEL_GRAPH, 1))
    # The newcomer's hint is drawn over the maps (assets/explore-hint.js hides it once used).
    (hint,) = classed("explore-hint")
    assert hint in list(components(maps)) and "Point at a dot" in str(hint.to_plotly_json())


@pytest.mark.parametrize("artists, colour", [([], "autotag"), (["Solo"], "autotag"),
                                             (["A", "B"], "artist")])  # fmt: skip
def test_layout011_colour_by_starts_at_artist_from_two_artists_else_at_the_auto_tag(
    artists, colour, tmp_path: Path
):
    """Issue 32, item 12b: the maps started grey ("nothing")."""
    from explore_dash.layouts.sidebar import starting_colour

    assert starting_colour(artists) == colour
    fake = write_fake_collection(tmp_path)  # four artists
    (menu,) = find(create_app(AppConfig(fake.library, fake.data_dir)).layout, ids.COLOUR_BY)
    assert menu.value == "artist"


def test_layout012_a_built_app_hands_its_parts_to_the_entry_points_not_through_flask(tmp_path):
    from explore_dash.maps.yielding import MapsYield
    from explore_dash.server.app import build_app

    fake = write_fake_collection(tmp_path)
    config = AppConfig(fake.library, fake.data_dir, extract=False)
    built = build_app(config)
    assert built.config is config and built.state.config is config
    assert built.jobs is built.dash._background_manager  # the manager its map jobs run on
    assert isinstance(built.maps_yield, MapsYield)
    # Nothing for the entry points to look up by name in Flask's settings (they read the parts).
    assert not [key for key in built.dash.server.config if key.startswith("EXPLORE_DASH")]
