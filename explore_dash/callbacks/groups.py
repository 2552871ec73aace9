"""The page's controls in named groups, for Dash's flexible callback signatures.

A callback declared with ``inputs=dict(music=controls(MUSIC, Input))`` is called with
``music={"artists": ..., "tags": ..., "every_n": ..., "window": ...}``, each control's value
under the keyword that its check in :mod:`.inputs` takes (``inputs.music(bounds, **music)``).
The groups keep the order of their controls, so the requests the page sends do not change.
"""

from __future__ import annotations

from dash import Input, State

from explore_dash import ids

#: A panel's four menus.
PANEL_MENUS = {
    "architecture": ids.PANEL_ARCHITECTURE,
    "dataset": ids.PANEL_DATASET,
    "layer": ids.PANEL_LAYER,
    "projection": ids.PANEL_PROJECTION,
}
#: The menus that name a panel's space (model and layer), without its projection.
SPACE_MENUS = ("architecture", "dataset", "layer")
#: The Music card: which segments the maps show (:func:`.inputs.music`).
MUSIC = {
    "artists": ids.ARTISTS,
    "tags": ids.TAGS,
    "every_n": ids.REDUCTION,
    "window": ids.SEGMENT_LENGTH,
}
#: How a map is drawn (:func:`.inputs.map_look`).
LOOK = {"colour_by": ids.COLOUR_BY, "trajectories": ids.TRAJECTORIES, "captions": ids.CAPTIONS}
#: The Highlight card (:func:`.inputs.highlight`).
HIGHLIGHT = {
    "artists": ids.HIGHLIGHT_ARTISTS,
    "albums": ids.HIGHLIGHT_ALBUMS,
    "tracks": ids.HIGHLIGHT_TRACKS,
    "tags": ids.HIGHLIGHT_TAGS,
}
#: The radio's and the paths' variety rules (:func:`.flow.diversity_values`).
DIVERSITY = {
    "artist_gap": ids.ARTIST_GAP,
    "albums": ids.DISTINCT_ALBUMS,
    "artists": ids.EXCLUDE_ARTISTS,
    "tags": ids.EXCLUDE_TAGS,
}


def controls(components: dict[str, str], kind: type[Input] | type[State]) -> dict:
    """``{name: kind(component, "value")}`` for each control of ``components``."""
    return {name: kind(component, "value") for name, component in components.items()}


def panel_menus(panel, kind: type[Input] | type[State], names=tuple(PANEL_MENUS)) -> dict:
    """The menus ``names`` of ``panel`` (a number, or MATCH or ALL), as :func:`controls` gives."""
    return {name: kind(ids.panel(PANEL_MENUS[name], panel), "value") for name in names}
