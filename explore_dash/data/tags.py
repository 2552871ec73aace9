"""Where tags come from: the files' genres, and each track's strongest auto-tags.

An untagged library can be browsed by tag too: every track gets its genres (split on , ; /)
plus its top MSD and MTT labels, the taggram activations averaged over its segments (the label
names come from the shipped model metadata). Segments get their own top labels for hover text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from explore_dash.data.collection import Collection, Space
from explore_dash.data.space_files import kept
from extraction.contract import (
    DEFAULT_MODELS_DIR,
    LAYER_TAGGRAM,
    ContractError,
    model_records,
    read_model_record,
    record_labels,
)

log = logging.getLogger(__name__)

#: (model, layer) whose taggram gives a track's auto-tags, per label set.
AUTO_TAG_SPACES = {
    "msd": ("musicnn-msd", LAYER_TAGGRAM),
    "mtt": ("musicnn-mtt", LAYER_TAGGRAM),
}


@lru_cache(maxsize=8)
def _labels_in(models_dir: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for path in model_records(models_dir):
        try:
            record = read_model_record(path)
            labels = record_labels(record, path)
        except ContractError as error:
            log.warning("skipping a model record: %s", error)
            continue
        found.append((str(record.get("name") or path.stem), labels))
    return tuple(found)


def load_model_labels(models_dir: Path | None = None) -> dict[str, list[str]]:
    """The taggram labels of every model described in ``models_dir``, by model name.

    Reads each record's labels as the extraction's registry does
    (:func:`extraction.contract.record_labels`); a record without them is skipped. The shipped
    models when ``models_dir`` is None.
    """
    directory = Path(models_dir) if models_dir is not None else DEFAULT_MODELS_DIR
    return {name: list(labels) for name, labels in _labels_in(directory.resolve())}


def top_tags(
    track: np.ndarray, taggram: np.ndarray, labels: Sequence[str], k: int = 3
) -> dict[int, list[str]]:
    """Each track's ``k`` labels with the highest mean activation over its segments.

    Parameters
    ----------
    track : np.ndarray, shape (n,), int
    taggram : np.ndarray, shape (n, n_labels), float
    labels : sequence of str, length n_labels

    Returns
    -------
    dict
        Track id → labels, strongest first.
    """
    taggram = np.asarray(taggram)
    if taggram.ndim != 2 or taggram.shape[1] != len(labels):
        raise ValueError(f"taggram of shape {taggram.shape} does not match {len(labels)} labels")
    table = track_top_indices(track, taggram, k)
    return {int(row[0]): [labels[j] for j in row[1:]] for row in table}


def track_top_indices(track: np.ndarray, taggram: np.ndarray, k: int = 3) -> np.ndarray:
    """Each track's id, then its ``k`` strongest labels' indices (by mean activation).

    Sums run by track in float64, a block of rows at a time: a million segments' taggram is
    never copied whole (it may be a memory-mapped file).

    Returns
    -------
    np.ndarray, shape (n_tracks, 1 + min(k, n_labels)), int64
        Sorted by track id.
    """
    track = np.asarray(track)
    if len(track) == 0:
        return np.zeros((0, 1 + max(0, min(k, taggram.shape[1]))), np.int64)
    unique, inverse = np.unique(track, return_inverse=True)
    sums = np.zeros((len(unique), taggram.shape[1]), np.float64)
    for start in range(0, len(track), BLOCK_ROWS):
        block = slice(start, start + BLOCK_ROWS)
        rows = np.asarray(taggram[block])
        for label in range(taggram.shape[1]):  # bincount sums in float64, faster than add.at
            sums[:, label] += np.bincount(inverse[block], rows[:, label], len(unique))
    means = sums / np.bincount(inverse, minlength=len(unique))[:, None]
    return np.column_stack([unique.astype(np.int64), _top_columns(means, k)])


def _space_top_indices(space: Space, k: int) -> np.ndarray:
    return track_top_indices(space.track, space.vector, k)


#: Rows of a taggram handled at once (a few MB), so large spaces need no large temporaries.
BLOCK_ROWS = 65_536


def _top_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, largest first, shape (n, min(k, d))."""
    k = max(0, min(k, scores.shape[1]))
    if k == 0:
        return np.zeros((len(scores), 0), np.int64)
    # A stable sort on the negated scores breaks ties by label order, so results are repeatable.
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


#: Tags a segment's hover label names (its strongest), and the index that stands for none.
SEGMENT_TOP_TAGS = 3
NO_TAG = 255


def segment_tag_indices(
    space: Space, taggram_space: Space, k: int = SEGMENT_TOP_TAGS
) -> np.ndarray:
    """Label indices of each row's ``k`` strongest tags, read from its model's taggram.

    For the browser, which holds the label list once and draws hover labels itself.

    Returns
    -------
    np.ndarray, shape (len(space), k), uint8
        :data:`NO_TAG` where the segment is missing from ``taggram_space``.
    """
    out = np.full((len(space), k), NO_TAG, np.uint8)
    rows = taggram_space.rows_of(space.segment_ids)
    found = np.flatnonzero(rows >= 0)
    vector = taggram_space.vector
    for start in range(0, len(found), BLOCK_ROWS):
        chosen = found[start : start + BLOCK_ROWS]
        top = _top_columns(np.asarray(vector[rows[chosen]]), k)
        out[chosen, : top.shape[1]] = top
    return out


_GENRE_SEPARATORS = re.compile(r"[,;/]")


def genre_list(genre: str) -> list[str]:
    """A genre tag split on ``,``, ``;`` and ``/`` into lowercase tags, in the tag's order."""
    return [part.strip().lower() for part in _GENRE_SEPARATORS.split(genre or "") if part.strip()]


def genre_tags(genre: str) -> set[str]:
    """A genre tag split on ``,``, ``;`` and ``/`` into lowercase tags."""
    return set(genre_list(genre))


def track_tags(
    collection: Collection,
    model_labels: Mapping[str, Sequence[str]] | None = None,
    k: int = 3,
) -> dict[int, set[str]]:
    """Every playable track's tags: its genres and its top ``k`` MSD and MTT auto-tags, lowercase.

    Parameters
    ----------
    model_labels : mapping, optional
        Labels by model name; the shipped model metadata when omitted.

    Returns
    -------
    dict
        Track id → tags; every track of ``collection.tracks`` is a key.
    """
    if model_labels is None:
        model_labels = load_model_labels()
    tracks = collection.tracks
    tags = {int(t): genre_tags(g) for t, g in zip(tracks.index, tracks["genre"], strict=True)}
    for model, layer in AUTO_TAG_SPACES.values():
        labels = model_labels.get(model)
        space = collection.space(model, layer)
        if labels is None or len(space) == 0:
            continue
        # Kept beside the space: a later start reads no taggram at all.
        table = kept(space.files, f"track-top{k}", partial(_space_top_indices, space, k))
        for row in table:
            own = tags.get(int(row[0]))
            if own is not None:
                own.update(labels[j].lower() for j in row[1:])
    return tags


def all_tags(tags_by_track: Mapping[int, set[str]]) -> list[str]:
    """Every tag used by some track, sorted (for a dropdown)."""
    return sorted(set().union(*tags_by_track.values())) if tags_by_track else []


