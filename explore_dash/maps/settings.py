"""What a panel shows and how the maps look: the panels' dropdowns and the Map card's choices.

Apart from building figures (:mod:`explore_dash.maps.figures`): the layouts, the callbacks, the
maps computed ahead and the jobs' payloads read these without drawing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from explore_dash.data.colouring import NONE
from explore_dash.data.options import model_name


@dataclass(frozen=True)
class PanelSettings:
    """The four dropdowns of one panel."""

    architecture: str
    dataset: str
    layer: str
    projection: str

    @property
    def model(self) -> str:
        return model_name(self.architecture, self.dataset)


#: What the two panels show when the page opens (and the maps computed ahead compute first).
DEFAULT_PANELS = (
    PanelSettings("musicnn", "msd", "embedding", "pca"),
    PanelSettings("musicnn", "msd", "taggram", "pca"),
)


@dataclass(frozen=True)
class MapLook:
    """How both maps are drawn, from the Map card: colours, trajectories, region captions."""

    colour_by: str = NONE
    trajectories: bool = False
    captions: bool = False

    def as_job(self) -> list:
        return [self.colour_by, self.trajectories, self.captions]


#: Grey points, nothing drawn over them.
PLAIN_LOOK = MapLook()
