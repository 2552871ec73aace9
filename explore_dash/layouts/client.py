"""What the browser code (``assets/explore-*.js``) needs to know from Python, in one place.

The component ids, the segment-id scheme and length, marker colours and sizes, the audio's
address, the Listen choices, the item lengths, the kinds of chain, a hover label's tags and the
order of a figure's traces are defined in Python; the page carries them to the browser as
``window.exploreDashSettings``, set before the assets run, so the JavaScript holds no copies that
could drift (tests/unit/test_client_settings.py looks for them).
"""

from __future__ import annotations

import json

from dash import Dash

from explore_dash import ids
from explore_dash.data.tags import NO_TAG, SEGMENT_TOP_TAGS
from explore_dash.layouts.listening import (
    DEFAULT_ITEM_LENGTH,
    ITEM_SECONDS,
    LISTEN_CLICK,
    LISTEN_HOVER,
    LISTEN_OFF,
    PAUSE_LABEL,
    PIN_HINT_TEXT,
    RESUME_LABEL,
)
from explore_dash.listening.radio import PATH, RADIO
from explore_dash.maps.figures import (
    BASE_COLOR,
    BASE_SIZE,
    CHAIN_COLOR,
    HIGHLIGHT_COLOR,
    HIGHLIGHT_RIM,
    HIGHLIGHT_SIZE,
    PLOT_BACKGROUND,
    SELECTED_OPACITY,
    TRACES,
    UNSELECTED_OPACITY,
)
from explore_dash.maps.yielding import PRESENCE_EVERY_SECONDS, PRESENCE_PATH
from explore_dash.routes import AUDIO_PREFIX
from extraction.contract import SEGMENT_ID_STRIDE, SEGMENT_SECONDS

#: The namespace of the clientside functions (``ClientsideFunction(NAMESPACE, name)``).
NAMESPACE = "explore"


def client_settings() -> dict:
    """Everything the browser code reads from ``window.exploreDashSettings``."""
    return {
        "segmentIdStride": SEGMENT_ID_STRIDE,
        "segmentSeconds": SEGMENT_SECONDS,
        "ids": {
            "player": ids.PLAYER,
            "graphType": ids.PANEL_GRAPH,
            "segmentLength": ids.SEGMENT_LENGTH,
            "playPosition": ids.PLAY_POSITION,
            "nowPlaying": ids.NOW_PLAYING,
            "flowStatus": ids.FLOW_STATUS,
            "chainMore": ids.CHAIN_MORE,
            "playMoment": ids.PLAY_MOMENT,
            "playTrack": ids.PLAY_TRACK,
            "playlistPlay": ids.PLAYLIST_PLAY,
            "pinMoment": ids.PIN_MOMENT,
            "pinStart": ids.PIN_START,
            "flowSkip": ids.FLOW_SKIP,
            "flowPause": ids.FLOW_PAUSE,
            "flowStop": ids.FLOW_STOP,
            "pinHint": ids.PIN_HINT,
            "listenMode": ids.LISTEN_MODE,
        },
        # The Listen choices (Off stops whatever plays), and words the browser code shows.
        "listenModes": {"hover": LISTEN_HOVER, "click": LISTEN_CLICK, "off": LISTEN_OFF},
        "texts": {"pause": PAUSE_LABEL, "resume": RESUME_LABEL, "pinHint": PIN_HINT_TEXT},
        "itemSeconds": {key: seconds for key, seconds in ITEM_SECONDS.items()},
        "defaultItemLength": DEFAULT_ITEM_LENGTH,
        "chainKinds": {"radio": RADIO, "path": PATH},
        # A point's top-tag indices in its trace's meta: so many per point, NO_TAG for none.
        "segmentTags": {"count": SEGMENT_TOP_TAGS, "none": NO_TAG},
        # Each trace's place in a panel's figure, by its name.
        "traces": {name: place for place, name in enumerate(TRACES)},
        "colours": {
            "chain": CHAIN_COLOR,
            "base": BASE_COLOR,
            "highlight": HIGHLIGHT_COLOR,
            "highlightRim": HIGHLIGHT_RIM,
            "background": PLOT_BACKGROUND,
        },
        "opacity": {"selected": SELECTED_OPACITY, "unselected": UNSELECTED_OPACITY},
        "markerSize": {"base": BASE_SIZE, "highlight": HIGHLIGHT_SIZE},
        # Addresses relative to the page: the app may live under a prefix.
        "audioPath": AUDIO_PREFIX.lstrip("/"),
        "presence": {"path": PRESENCE_PATH.lstrip("/"), "everyMs": PRESENCE_EVERY_SECONDS * 1000},
    }


def settings_script(settings: dict) -> str:
    """A ``<script>`` that sets ``window.exploreDashSettings`` (safe inside HTML)."""
    text = json.dumps(settings, sort_keys=True).replace("<", "\\u003c")
    return f"<script>window.exploreDashSettings = {text};</script>"


def install_settings(app: Dash) -> None:
    """Put the settings in the page, before Dash's scripts and the assets run."""
    marker = "{%scripts%}"
    if marker not in app.index_string:
        raise RuntimeError("Dash's index page has no {%scripts%} slot for the settings")
    app.index_string = app.index_string.replace(
        marker, settings_script(client_settings()) + "\n" + marker, 1
    )
