"""The page's stores that callbacks pass each other, as typed values.

The browser keeps them as JSON (``dcc.Store``) and its code reads them (assets/explore-*.js), so
their shapes are fixed: each value here turns into its store's JSON with ``as_store`` where the
server writes it, and comes from it through :mod:`.inputs`, which checks every field, where the
page sends it back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainItem:
    """One moment of a radio or a path: where it plays from, and what the page says of it.

    Attributes
    ----------
    segment, track : int
        The moment's segment id and its track.
    offset : float
        Seconds into the track where it starts.
    title : str
        "Artist – Title @ m:ss", as the chain's list and status line show it.
    note : str
        The variety rules relaxed to reach it ("" when none was). Sent to the page, never read
        back: a chain that comes back from the page has none.
    """

    segment: int
    track: int
    offset: float
    title: str
    note: str = ""

    def as_store(self) -> dict:
        item = {"segment": self.segment, "track": self.track, "offset": self.offset,
                "title": self.title}  # fmt: skip
        if self.note:
            item["note"] = self.note
        return item


@dataclass(frozen=True)
class Chain:
    """A radio or a path: the ``CHAIN`` store, played by ``assets/explore-flow.js``::

        {"id": str, "kind": "radio" | "path", "panel": int, "model": str, "layer": str,
         "items": [ChainItem's JSON, ...], "ended": bool, "note": str}

    Attributes
    ----------
    id : str
        New for each chain: the page starts playing a new one, and goes on with the same one.
    kind : str
        ``"radio"`` or ``"path"`` (:data:`.flow.RADIO`, :data:`.flow.PATH`).
    panel : int
        The panel whose space it runs in, with that space's ``model`` and ``layer``.
    ended : bool
        A radio that has played every track it may (a path always has).
    note : str
        What the chain did that was not asked (a path with fewer steps); sent, never read back.
    """

    id: str
    kind: str
    panel: int
    model: str
    layer: str
    items: tuple[ChainItem, ...]
    ended: bool
    note: str = ""

    def as_store(self) -> dict:
        return {"id": self.id, "kind": self.kind, "panel": self.panel, "model": self.model,
                "layer": self.layer, "items": [item.as_store() for item in self.items],
                "ended": self.ended, "note": self.note}  # fmt: skip


@dataclass(frozen=True)
class LastSegment:
    """The segment last hovered or clicked on a map (``LAST_SEGMENT``: ``{"segment", "panel"}``,
    written by assets/explore-listening.js): a radio's seed, or a path's end."""

    segment: int
    panel: int


@dataclass(frozen=True)
class Selection:
    """The box or lasso selection (``SELECTION``: ``{"ids": [...], "source": panel}``, written by
    assets/explore-selection.js): the selected segment ids and the panel they were chosen on."""

    segment_ids: list[int]
    source: int = 0
