"""Region captions: the map's points grouped into regions, each named by its most telling tags.

A region's caption is the auto-tags most over-represented there against the whole collection
(the mean taggram activation inside the region over the mean everywhere), chosen among the tags
that are also strong inside it, so that a region is named by what it sounds like rather than by
a tag that is rare everywhere. Tags come from the taggrams that give tracks their auto-tags
(:data:`explore_dash.data.tags.AUTO_TAG_SPACES`: MusiCNN on MSD and on MTT), whatever space the
panel shows, so the same music is named alike in both panels.

Regions are found by k-means in the space (its 32 stored principal components), and each
caption is drawn at its region's point nearest the region's median on the map. Measured on the
shared library (benchmarks/captions.py, all 86 tracks, the 4 embedding spaces under PCA and
UMAP): the caption of the region holding most of a soundtrack named its style (an orchestral
tag for Wesnoth, an electronic one for the two electronic soundtracks) 24 times of 24 with
regions of the space, 20 of 24 with k-means on the 2-D map; regions of a UMAP map follow the
soundtracks more closely (purity 0.94 against 0.84-0.90), regions of a PCA map less (0.75-0.82).
Regions of the space also name the same music whichever projection draws it.

A small map gets fewer regions (one per :data:`MIN_POINTS_PER_REGION` points at most), a region
holding a small share of the map gets none, and a caption whose box would overlap one already
placed moves to another of its region's central points or is left out: 48 points used to get
five captions, two overlapping and one on a single point; it now gets two at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import diskcache
import numpy as np

#: Captions per map: about one per 2,000 points, within these bounds.
MIN_REGIONS = 5
MAX_REGIONS = 12
POINTS_PER_REGION = 2000
#: A small map gets at most one caption per this many points (48 points: two captions, where
#: five used to crowd it).
MIN_POINTS_PER_REGION = 24
#: A region is captioned only if it holds at least this share of an equal split of the map.
MIN_REGION_SHARE = 0.25
#: Where a caption may stand: its region's points nearest the region's median, this many.
PLACES_TRIED = 12
#: A caption's box in screen pixels, measured on the page's 12-px captions, over a nominal plot
#: of this many pixels: enough to keep boxes apart on the maps as drawn (520-800 px a side).
CHARACTER_PX = 7.0
CAPTION_HEIGHT_PX = 18.0
NOMINAL_PLOT_PX = (560.0, 460.0)
#: k-means is fitted on at most this many of a map's points.
FIT_SAMPLE = 10_000
#: Tags per caption, and how many of a region's strongest tags may give one.
TAGS_PER_CAPTION = 2
STRONGEST_CANDIDATES = 8
#: A region's tag is "over-represented" from this ratio of its mean to the collection's.
MIN_LIFT = 1.1
#: Captions are cached under the data folder's cache/, by the map they caption.
CAPTION_CACHE_DIR = "captions"
#: Bumped when the way captions are chosen changes, so old cached ones are not shown.
CAPTIONS_VERSION = 2
SEPARATOR = " · "


@dataclass(frozen=True)
class Caption:
    """A region's caption and where to draw it (its points' median)."""

    x: float
    y: float
    text: str
    points: int
    region: int = -1


def region_count(n_points: int) -> int:
    """How many regions a map of ``n_points`` is split into: about one per
    :data:`POINTS_PER_REGION` points within :data:`MIN_REGIONS`..:data:`MAX_REGIONS`, and at
    most one per :data:`MIN_POINTS_PER_REGION` points. Never one: a region is named by what
    stands out in it against the rest of the map, and a single region has no rest."""
    usual = int(np.clip(round(n_points / POINTS_PER_REGION), MIN_REGIONS, MAX_REGIONS))
    k = min(usual, n_points // MIN_POINTS_PER_REGION)
    return k if k >= 2 else 0


def caption_box(x: float, y: float, text: str, units_per_px: tuple[float, float]
                ) -> tuple[float, float, float, float]:  # fmt: skip
    """The box (x0, y0, x1, y1) in map units that ``text`` centred on (x, y) covers."""
    half_width = (len(text) * CHARACTER_PX + 8) / 2 * units_per_px[0]
    half_height = CAPTION_HEIGHT_PX / 2 * units_per_px[1]
    return x - half_width, y - half_height, x + half_width, y + half_height


def boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def units_per_pixel(coordinates: np.ndarray) -> tuple[float, float]:
    """Map units per screen pixel on each axis of a nominal plot of the map.

    Parameters
    ----------
    coordinates : np.ndarray, shape (n, 2), float
    """
    span = np.ptp(coordinates, axis=0) * 1.1 + 1e-9  # Plotly pads the range a little
    return float(span[0] / NOMINAL_PLOT_PX[0]), float(span[1] / NOMINAL_PLOT_PX[1])


def find_regions(coordinates: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """A region number for each point: k-means on ``coordinates``.

    Fitted on at most :data:`FIT_SAMPLE` points drawn with a fixed seed, then every point goes to
    its nearest centre: 0.15 s at 100,000 points against 1.5 s for a fit on all of them, and
    the regions of a map do not depend on more than a few thousand of its points.

    Parameters
    ----------
    coordinates : np.ndarray, shape (n, d), float
        The 2-D map (or, for comparison, the space's PCA columns).

    Returns
    -------
    np.ndarray, shape (n,), int64, in [0, k)
    """
    from sklearn.cluster import KMeans

    # Scaled alike on every axis, so a map's wider axis does not decide the regions alone.
    scaled = ((coordinates - coordinates.mean(axis=0)) / (coordinates.std() or 1.0)).astype(
        np.float32
    )
    rng = np.random.default_rng(seed)
    sample = scaled[rng.choice(len(scaled), FIT_SAMPLE, replace=False)] if len(
        scaled) > FIT_SAMPLE else scaled  # fmt: skip
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(sample)
    return model.predict(scaled).astype(np.int64)


def region_tags(
    activations: np.ndarray, regions: np.ndarray, k: int, labels: Sequence[str]
) -> list[list[tuple[str, float]]]:
    """Each region's over-represented tags, most telling first, as (tag, lift).

    Parameters
    ----------
    activations : np.ndarray, shape (n, t), float
        Each point's taggram (the columns of several taggrams side by side are fine).
    regions : np.ndarray, shape (n,), int
    labels : sequence of str, length t
    """
    overall = activations.mean(axis=0) + 1e-9
    found = []
    for region in range(k):
        inside = activations[regions == region]
        if not len(inside):
            found.append([])
            continue
        mean = inside.mean(axis=0)
        lift = mean / overall
        strongest = np.argsort(-mean, kind="stable")[:STRONGEST_CANDIDATES]
        ranked = sorted(strongest, key=lambda column: -lift[column])
        chosen: list[tuple[str, float]] = []
        for column in ranked:
            name = labels[column]
            if lift[column] >= MIN_LIFT and name.lower() not in {n.lower() for n, _ in chosen}:
                chosen.append((name, float(lift[column])))
        found.append(chosen)
    return found


def captions(coordinates: np.ndarray, activations: np.ndarray, labels: Sequence[str],
             regions: np.ndarray | None = None) -> list[Caption]:  # fmt: skip
    """The captions of a map.

    Parameters
    ----------
    coordinates : np.ndarray, shape (n, 2), float
    activations : np.ndarray, shape (n, t), float
        The points' taggrams, with ``labels`` naming the columns.
    regions : np.ndarray, shape (n,), int, optional
        Region of each point (the app passes regions of the space); found on ``coordinates``
        when not given.
    """
    k = region_count(len(coordinates))
    if k == 0 or activations.shape[1] == 0:
        return []
    if regions is None:
        regions = find_regions(coordinates, k)
    k = int(regions.max()) + 1
    smallest = MIN_REGION_SHARE * len(coordinates) / k
    scale = units_per_pixel(coordinates)
    named = [
        (region, tags)
        for region, tags in enumerate(region_tags(activations, regions, k, labels))
        if tags and np.count_nonzero(regions == region) >= smallest
    ]
    # The largest regions choose their place first: the music most of the map holds is named.
    named.sort(key=lambda item: -np.count_nonzero(regions == item[0]))
    out, boxes = [], []
    for region, tags in named:
        inside = coordinates[regions == region]
        # Lowercase, as the tag lists write the auto-tags ("House" in MSD's labels).
        text = SEPARATOR.join(name.lower() for name, _ in tags[:TAGS_PER_CAPTION])
        # On one of the region's points nearest its median: on the music it names, even where
        # a region is curved or split on the map; the nearest whose box is free.
        middle = np.median(inside, axis=0)
        nearest = np.argsort(((inside - middle) ** 2).sum(axis=1), kind="stable")[:PLACES_TRIED]
        for x, y in inside[nearest]:
            box = caption_box(float(x), float(y), text, scale)
            if not any(boxes_overlap(box, other) for other in boxes):
                boxes.append(box)
                out.append(Caption(float(x), float(y), text, int(len(inside)), region))
                break
    return out


def caption_annotations(found: Sequence[Caption]) -> list[dict]:
    """Plotly annotations of ``found``: text on a pale box, at each region."""
    return [
        {
            "x": caption.x,
            "y": caption.y,
            "text": caption.text,
            "showarrow": False,
            # A pale box and a white halo: the points under a caption still show through it.
            "font": {"size": 12, "color": "#1b1f24", "shadow": "1px 1px 2px white"},
            "bgcolor": "rgba(255, 255, 255, 0.5)",
            "borderpad": 2,
            "captureevents": False,
            "name": "caption",
        }
        for caption in found
    ]


def cached_captions(cache_dir: Path, key: str) -> list[Caption] | None:
    with diskcache.Cache(str(Path(cache_dir) / CAPTION_CACHE_DIR)) as cache:
        stored = cache.get(f"{CAPTIONS_VERSION}:{key}")
    return None if stored is None else [Caption(*item) for item in stored]


def store_captions(cache_dir: Path, key: str, found: Sequence[Caption]) -> None:
    with diskcache.Cache(str(Path(cache_dir) / CAPTION_CACHE_DIR)) as cache:
        cache.set(f"{CAPTIONS_VERSION}:{key}",
                  [(c.x, c.y, c.text, c.points, c.region) for c in found])  # fmt: skip
