"""A drawn map's region captions: regions found in the panel's space, each named by the
auto-tags its segments share most (:mod:`explore_dash.maps.captions`), cached with the map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explore_dash.data.snapshot import Snapshot
from explore_dash.data.tags import AUTO_TAG_SPACES
from explore_dash.maps.captions import (
    cached_captions,
    caption_annotations,
    captions,
    find_regions,
    region_count,
    store_captions,
)
from explore_dash.maps.figures import PanelPoints
from explore_dash.maps.points import points_key
from explore_dash.maps.settings import PanelSettings


def caption_inputs(snapshot: Snapshot, segment_ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(the auto-tag taggrams of ``segment_ids`` side by side, their labels) for captions.

    Returns
    -------
    activations : np.ndarray, shape (n, t), float32
        Zero where a segment is missing from a taggram.
    """
    blocks, labels = [], []
    for model, layer in AUTO_TAG_SPACES.values():
        names = list(snapshot.labels_by_model.get(model, ()))
        space = snapshot.collection.space(model, layer)
        if not names or not len(space):
            continue
        rows = space.rows_of(segment_ids)
        block = np.zeros((len(segment_ids), len(names)), np.float32)
        block[rows >= 0] = space.vector[rows[rows >= 0]][:, : len(names)]
        blocks.append(block)
        labels += names
    if not blocks:
        return np.zeros((len(segment_ids), 0), np.float32), []
    return np.concatenate(blocks, axis=1), labels


def map_captions(snapshot: Snapshot, cache_dir: Path, settings: PanelSettings,
                 points: PanelPoints) -> list[dict]:  # fmt: skip
    """The region captions of a drawn map as annotations, cached with the map."""
    if not points.ready or not len(points.rows):
        return []
    key = points_key(snapshot, settings, points)
    found = cached_captions(cache_dir, key)
    if found is None:
        found = region_captions(snapshot, points)[1]
        store_captions(cache_dir, key, found)
    return caption_annotations(found)


def region_captions(snapshot: Snapshot, points: PanelPoints) -> tuple[np.ndarray, list]:
    """(the region of each point, found in the space; the regions' captions on the map)."""
    activations, labels = caption_inputs(snapshot, points.segment_ids)
    k = region_count(len(points.rows))
    if k == 0:
        return np.zeros(len(points.rows), np.int64), []
    regions = find_regions(points.space_features(), k)
    return regions, captions(points.xy, activations, labels, regions)
