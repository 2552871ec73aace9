"""Which regions give captions that match the music: k-means on the 2-D map, or in the space.

    python benchmarks/captions.py --data DATA [--projections pca,umap] [--json FILE]

DATA: a data folder extracted from ../shared/music (make-library.sh), whose top folders are
the styles: Wesnoth (orchestral), Endgame: Singularity by Maxstack (ambient / electronic),
Warzone 2100 (game electronica). For every model's embedding space and each projection, both
ways of finding regions are scored by

- purity: the share of each region's segments that come from its most common style (higher:
  regions follow the music), weighted by region size;
- adjusted Rand index between regions and styles;
- the captions of the region holding most of each style's segments, and the mean lift of the
  caption tags (how over-represented they are there);
- matches: how many of those captions name the style (an orchestral tag for Wesnoth, an
  electronic one for the other two; :data:`STYLE_TAGS`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explore_dash.callbacks.panel_captions import caption_inputs  # noqa: E402
from explore_dash.data.snapshot import Snapshot  # noqa: E402
from explore_dash.maps.captions import (  # noqa: E402
    SEPARATOR,
    TAGS_PER_CAPTION,
    find_regions,
    region_count,
    region_tags,
)
from explore_dash.maps.projections import compute_projection, project_stored, projection_input  # noqa: E402

#: Tags that name each style of the shared library (either of the MSD and MTT vocabularies).
ORCHESTRAL = {"classical", "classic", "strings", "violin", "cello", "harp", "orchestra", "choir",
              "choral", "opera", "piano", "flute", "harpsichord"}  # fmt: skip
ELECTRONIC = {"electronic", "electronica", "electro", "techno", "synth", "beat", "beats", "dance",
              "house"}  # fmt: skip
STYLE_TAGS = {"Wesnoth": ORCHESTRAL, "Maxstack": ELECTRONIC, "Warzone 2100": ELECTRONIC}


def styles_of(snapshot: Snapshot, track: np.ndarray) -> np.ndarray:
    top = snapshot.tracks["path"].astype(str).str.split("/").str[0]
    return top.reindex(track).to_numpy(dtype=object)


def score(regions: np.ndarray, styles: np.ndarray, activations, labels, k: int) -> dict:
    from sklearn.metrics import adjusted_rand_score

    majority = 0
    for region in range(k):
        inside = styles[regions == region]
        if len(inside):
            majority += max(np.unique(inside, return_counts=True)[1])
    tags = region_tags(activations, regions, k, labels)
    by_style = {}
    lifts = []
    matches = 0
    for style in np.unique(styles):
        counts = np.bincount(regions[styles == style], minlength=k)
        region = int(np.argmax(counts))
        chosen = tags[region][:TAGS_PER_CAPTION]
        by_style[str(style)] = SEPARATOR.join(name for name, _ in chosen)
        lifts += [lift for _, lift in chosen]
        matches += bool({name.lower() for name, _ in chosen} & STYLE_TAGS.get(str(style), set()))
    return {
        "purity": round(majority / len(regions), 3),
        "ari": round(float(adjusted_rand_score(styles, regions)), 3),
        "mean_lift": round(float(np.mean(lifts)) if lifts else 0.0, 2),
        "matches": matches,
        "captions_by_style": by_style,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--projections", default="pca,umap")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    snapshot = Snapshot.load(args.data)
    results = []
    for model, layer in snapshot.collection.available_spaces():
        if layer != "embedding":
            continue
        space = snapshot.collection.space(model, layer)
        rows = np.arange(len(space))
        styles = styles_of(snapshot, space.track.astype(np.int64))
        activations, labels = caption_inputs(snapshot, space.segment_ids)
        k = region_count(len(rows))
        in_space = find_regions(space.pca, k)
        for projection in args.projections.split(","):
            if projection in ("pca", "std_pca"):
                xy = project_stored(space, projection, rows)
            else:
                xy = compute_projection(projection, projection_input(space, rows, projection))
            on_map = find_regions(np.asarray(xy, np.float64), k)
            for method, regions in (("map", on_map), ("space", in_space)):
                row = {"model": model, "projection": projection, "regions": method, "k": k,
                       **score(regions, styles, activations, labels, k)}  # fmt: skip
                results.append(row)
                print(json.dumps(row))
    for method in ("map", "space"):
        mine = [r for r in results if r["regions"] == method]
        print(f"{method}: median purity {np.median([r['purity'] for r in mine]):.3f}, "
              f"median ARI {np.median([r['ari'] for r in mine]):.3f}, "
              f"median lift {np.median([r['mean_lift'] for r in mine]):.2f}, "
              f"captions naming the style {sum(r['matches'] for r in mine)} of "
              f"{3 * len(mine)}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
