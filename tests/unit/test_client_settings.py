"""What the browser code reads from Python (layouts/client.py: client_settings), and no copies.

tests/browser/test_browser.py's test_panel007 checks that the page carries client_settings();
these check that each value is the one Python uses, and that assets/*.js holds no copy of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import flask
import numpy as np
import pytest

from explore_dash import ids
from explore_dash.callbacks import flow
from explore_dash.data.collection import Space
from explore_dash.data.tags import segment_tag_indices
from explore_dash.layouts.client import client_settings
from explore_dash.layouts.listening import flow_card, listen_card
from explore_dash.listening.audio import register_audio_route
from explore_dash.maps.figures import PanelPoints, panel_figure
from explore_dash.maps.yielding import is_interaction
from tests.support.paths import REPO

SETTINGS = client_settings()

#: Copies the browser code once held of Python's values: each now comes from the settings.
COPIES = {
    "the audio's address": r'"/?audio/"',
    "a kind of chain": r'"(radio|path)"',
    "the default item length": r'"15"',
    "a Listen choice": r'[!=]==\s*"(hover|click|off)"',  # ("click" is a DOM event too)
    "a trace's place": r"_fullData\[\d",
    "the no-tag index": r"[!=]==\s*255\b",
    "the top-tag count": r"\bi \* 3\b",
}


def component(tree, component_id: str):
    """The component of ``tree`` with the id ``component_id``."""
    found = []

    def walk(node) -> None:
        if getattr(node, "id", None) == component_id:
            found.append(node)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                walk(child)

    walk(tree)
    (only,) = found
    return only


def code_of(script: Path) -> str:
    """A script without its comments (a comment may name a value in words)."""
    return re.sub(r"//[^\n]*", "", script.read_text(encoding="utf-8"))


@pytest.mark.parametrize("script", sorted((REPO / "assets").glob("*.js")), ids=lambda p: p.name)
def test_client001_the_browser_code_holds_no_copy_of_a_python_value(script: Path):
    code = code_of(script)
    copies = {fact: re.findall(pattern, code) for fact, pattern in COPIES.items()}
    assert {fact: found for fact, found in copies.items() if found} == {}


def test_client002_the_traces_are_named_in_the_order_the_figures_draw_them():
    points = PanelPoints(Space.empty("vgg-msd", "embedding"), np.zeros(0, np.int64),
                         np.zeros(0, np.int64), np.zeros((0, 2), np.float32))  # fmt: skip
    figure = panel_figure(points, np.zeros(0, np.int64), title="", uirevision="")
    places = {trace["name"]: place for place, trace in enumerate(figure["data"])}
    assert SETTINGS["traces"] == places
    assert {"segments", "highlight"} <= set(places)  # what the labels and selection look up


def test_client003_the_listen_choices_are_the_cards_own():
    listen = component(listen_card(), ids.LISTEN_MODE)
    assert [option["value"] for option in listen.options] == list(SETTINGS["listenModes"].values())
    assert listen.value == SETTINGS["listenModes"]["hover"]
    lengths = component(flow_card([], [], []), ids.ITEM_LENGTH)
    assert lengths.value == SETTINGS["defaultItemLength"]
    assert [option["value"] for option in lengths.options] == list(SETTINGS["itemSeconds"])


def test_client004_the_kinds_of_chain_are_the_servers():
    assert SETTINGS["chainKinds"] == {"radio": flow.RADIO, "path": flow.PATH}
    assert flow.RADIO != flow.PATH


def test_client005_a_points_top_tags_are_as_many_as_the_server_sends():
    space = Space.empty("vgg-msd", "embedding")
    space = Space("vgg-msd", "embedding", np.array([0, 1], np.int64), np.zeros(2, np.int32),
                  np.zeros(2, np.float32), space.pca, space.std_pca)  # fmt: skip
    indices = segment_tag_indices(space, Space.empty("vgg-msd", "taggram"))
    assert indices.shape == (2, SETTINGS["segmentTags"]["count"])
    assert (indices == SETTINGS["segmentTags"]["none"]).all()  # no taggram: no tag
    assert SETTINGS["segmentTags"]["none"] == np.iinfo(indices.dtype).max  # never a label's


def test_client006_the_audio_address_is_the_routes_and_counts_as_someone_listening(tmp_path):
    server = flask.Flask(__name__)
    register_audio_route(server, lambda: None, tmp_path)
    address = "/" + SETTINGS["audioPath"] + "7"
    endpoint, arguments = server.url_map.bind("localhost").match(address)
    assert (endpoint, arguments) == ("explore_dash_audio", {"track_id": "7"})
    assert is_interaction(address, {}, b"")
