"""One immutable view of what the app has loaded from one version of the tables.

Every callback takes the current snapshot once and reads only it, so a refresh landing in the
middle of a callback (a running extraction merged new tracks) can never mix new tag arrays with
old rows: the new version arrives as a new snapshot, swapped in whole (see :mod:`state`).
What a snapshot derives lazily (a space read on first use, its hover tags) belongs to its own
version and is cached in it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explore_dash.data.collection import Collection
from explore_dash.data.colouring import Palette, point_labels, rank_categories
from explore_dash.data.neighbours import SpaceIndex
from explore_dash.data.space_files import kept
from explore_dash.data.tags import all_tags, load_model_labels, segment_tag_indices, track_tags
from extraction.contract import LAYER_TAGGRAM


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The loaded collection and what is derived from it (tags, hover tags), for one version.

    Attributes
    ----------
    collection : Collection
    tags_by_track : mapping
        Track id → its tags (genres and auto-tags, lowercase).
    labels_by_model : mapping
        Model name → its taggram labels.
    """

    collection: Collection
    tags_by_track: Mapping[int, frozenset[str]]
    labels_by_model: Mapping[str, Sequence[str]]
    _segment_tags: dict[tuple[str, str], np.ndarray | None] = field(
        default_factory=dict, repr=False
    )
    _indexes: dict[tuple[str, str], SpaceIndex] = field(default_factory=dict, repr=False)
    _palettes: dict[str, Palette] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(
        cls, data_dir: Path, labels_by_model: Mapping[str, Sequence[str]] | None = None
    ) -> Snapshot:
        """Read a data folder's current version (tracks, then tags from the taggrams)."""
        return cls.of(Collection.load(Path(data_dir)), labels_by_model)

    @classmethod
    def of(
        cls, collection: Collection, labels_by_model: Mapping[str, Sequence[str]] | None = None
    ) -> Snapshot:
        labels = dict(labels_by_model) if labels_by_model is not None else load_model_labels()
        tags = {track: frozenset(own) for track, own in track_tags(collection, labels).items()}
        return cls(collection, tags, labels)

    @property
    def version(self) -> int:
        return self.collection.version

    @property
    def tracks(self):
        """:attr:`Collection.tracks`: the playable tracks, indexed by id."""
        return self.collection.tracks

    def segment_tags(self, model: str, layer: str) -> np.ndarray | None:
        """Each row's top-3 taggram label indices, shape (n, 3) uint8; None without a taggram.

        Computed once per space of this snapshot.
        """
        key = (model, layer)
        with self._lock:
            if key not in self._segment_tags:
                taggram = self.collection.space(model, LAYER_TAGGRAM)
                if model not in self.labels_by_model or len(taggram) == 0:
                    self._segment_tags[key] = None
                else:
                    space = self.collection.space(model, layer)
                    # Kept beside the space: a later start reads no taggram for the hovers.
                    self._segment_tags[key] = kept(
                        space.files, "top3-tags",
                        lambda: segment_tag_indices(space, taggram),
                    )  # fmt: skip
            return self._segment_tags[key]

    def index(self, model: str, layer: str) -> SpaceIndex:
        """The nearest-neighbour index of one space of this version, built on first use.

        Its vectors are the space's, memory-mapped from its files (:mod:`space_files`).
        """
        key = (model, layer)
        with self._lock:
            found = self._indexes.get(key)
        if found is not None:
            return found
        space = self.collection.space(model, layer)
        built = SpaceIndex.build(space, space.vector)
        with self._lock:
            return self._indexes.setdefault(key, built)

    def palette(self, by: str) -> Palette:
        """The colours of the collection's top categories for "Colour by" ``by``, made once.

        Ranked over every segment of the collection (for auto-tags, of every model's taggram),
        so both panels and every redraw of this version agree.
        """
        with self._lock:
            found = self._palettes.get(by)
        if found is not None:
            return found
        spaces = self.collection.available_spaces()
        if by == "autotag":
            labels = [
                point_labels(by, space.track, self.tracks, tags, self.labels_by_model[model])
                for model, layer in spaces
                if layer == LAYER_TAGGRAM and model in self.labels_by_model
                for space, tags in [(self.collection.space(model, layer),
                                     self.segment_tags(model, layer))]
            ]  # fmt: skip
        else:
            reference = self.collection.space(*spaces[0]) if spaces else None
            labels = [] if reference is None else [point_labels(by, reference.track, self.tracks)]
        every = np.concatenate(labels) if labels else np.zeros(0, dtype=object)
        made = rank_categories(every, by)
        with self._lock:
            return self._palettes.setdefault(by, made)

    @property
    def tags(self) -> list[str]:
        """Every tag some track has, sorted."""
        return all_tags(self.tags_by_track)

    @property
    def empty(self) -> bool:
        """No segment table, or no playable track: nothing to draw yet."""
        return not self.collection.available_spaces() or self.collection.tracks.empty


def _track_label(artist: str, title: str) -> str:
    return " – ".join(part for part in (artist, title) if part)


def track_names(tracks) -> dict[int, str]:
    """Track id -> "artist – title" for every playable track."""
    return {
        int(t): _track_label(a, n)
        for t, a, n in zip(tracks.index, tracks["artist"], tracks["title"], strict=True)
    }


def library_choices(snapshot: Snapshot) -> dict:
    """Options of every control that lists the library's artists, albums, tracks and tags."""
    tracks = snapshot.tracks
    labels = track_names(tracks)
    return {
        "artists": sorted(a for a in tracks["artist"].unique() if a),
        "albums": sorted(a for a in tracks["album"].unique() if a),
        "tracks": [{"label": labels[t], "value": t} for t in sorted(labels, key=labels.get)],
        "tags": snapshot.tags,
        "track_names": {str(t): name for t, name in labels.items()},
    }
