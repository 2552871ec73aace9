"""Region captions: regions of the map named by the tags over-represented there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from explore_dash.callbacks import panel_captions, panels
from explore_dash.data.snapshot import Snapshot
from explore_dash.maps import captions as captions_module
from explore_dash.maps.captions import (
    MAX_REGIONS,
    MIN_REGIONS,
    SEPARATOR,
    captions,
    region_count,
    region_tags,
)
from explore_dash.maps.points import visible_points
from explore_dash.maps.settings import PanelSettings
from tests.support.fake_collection import write_fake_collection
from tests.support.paths import REPO, SMALL_LIBRARY_SCRIPT

LABELS = ["strings", "synth", "drums", "quiet"]


def two_styles(n: int = 600, seed: int = 0):
    """Orchestral points around (-5, 0) and electronic ones around (5, 0), with their taggrams."""
    rng = np.random.default_rng(seed)
    left = rng.normal((-5, 0), 1, (n, 2))
    right = rng.normal((5, 0), 1, (n, 2))
    act = rng.uniform(0, 0.1, (2 * n, len(LABELS)))
    act[:n, 0] += 0.8  # strings on the left
    act[n:, 1] += 0.8  # synth on the right
    act[:, 3] += 0.5  # "quiet" is strong everywhere: telling nowhere
    return np.vstack([left, right]), act


def test_captions001_each_style_gets_its_own_tag_at_its_place():
    xy, act = two_styles()
    found = captions(xy, act, LABELS)
    assert MIN_REGIONS <= len(found) <= MAX_REGIONS
    for caption in found:
        first = caption.text.split(SEPARATOR)[0]
        assert first == ("strings" if caption.x < 0 else "synth")
        assert "quiet" not in caption.text
    assert {c.text.split(SEPARATOR)[0] for c in found} == {"strings", "synth"}


def test_captions002_a_tag_rare_everywhere_and_weak_in_a_region_does_not_name_it():
    names = [f"common{i}" for i in range(10)] + ["a", "rare"]
    act = np.full((10, len(names)), 0.5)
    act[:, -1] = 1e-4
    act[:5, -1] = 3e-4  # three times as common in region 0 (lift 1.5), yet far weaker there
    act[:5, -2] = 0.9  # "a": lift 0.9 / 0.7, and among region 0's strongest tags
    tags = region_tags(act, np.array([0] * 5 + [1] * 5), 2, names)
    assert [name for name, _ in tags[0]] == ["a"]
    assert tags[1] == []  # nothing stands out in region 1


@pytest.mark.parametrize("n, k", [(5, 0), (47, 0), (48, 2), (100, 4), (200, MIN_REGIONS),
                                  (10_000, 5), (18_000, 9),
                                  (1_000_000, MAX_REGIONS)])  # fmt: skip
def test_captions003_about_one_region_per_two_thousand_points_within_bounds(n, k):
    assert region_count(n) == k


def test_captions006_a_small_map_gets_few_captions_and_none_on_a_stray_point():
    rng = np.random.default_rng(1)
    xy = rng.normal(0, 1, (48, 2))
    act = rng.uniform(0, 0.1, (48, len(LABELS)))
    act[:24, 0] += 0.8
    xy[:24] += 4
    found = captions(xy, act, LABELS)
    assert 1 <= len(found) <= 2  # 48 points: five captions before
    assert found[0].text.startswith("strings") and found[0].x > 2
    regions = np.repeat([0, 1, 2], [100, 99, 1])  # region 2: a single point
    xy, act = rng.normal(0, 1, (200, 2)), rng.uniform(0, 0.1, (200, len(LABELS)))
    xy[regions == 1] += 6
    act[regions == 0, 0] += 0.8
    act[regions == 1, 1] += 0.8
    act[regions == 2, 2] += 5.0  # which stands out on its own
    found = captions(xy, act, LABELS, regions)
    assert sorted(c.region for c in found) == [0, 1]


def test_captions007_no_two_captions_overlap_on_the_map():
    rng = np.random.default_rng(2)
    names = [f"electronica{i}" for i in range(12)]
    k = 12
    # Twelve regions packed side by side along a line, each with its own telling tag.
    regions = np.repeat(np.arange(k), 100)
    xy = np.column_stack([regions * 0.3 + rng.normal(0, 0.05, len(regions)),
                          rng.normal(0, 0.05, len(regions))])  # fmt: skip
    act = rng.uniform(0, 0.1, (len(regions), len(names)))
    act[np.arange(len(regions)), regions] += 0.9
    found = captions(xy, act, names, regions)
    scale = captions_module.units_per_pixel(xy)
    boxes = [captions_module.caption_box(c.x, c.y, c.text, scale) for c in found]
    assert 1 < len(found) < k  # some moved or left out: twelve would overlap
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not captions_module.boxes_overlap(a, b)


def test_captions008_captions_write_tags_as_the_tag_lists_do():
    xy, act = two_styles()
    found = captions(xy, act, ["Strings", "Synth", "Drums", "Quiet"])
    assert found and all(c.text == c.text.lower() for c in found)
    assert {c.text.split(SEPARATOR)[0] for c in found} == {"strings", "synth"}


def test_captions004_captions_are_cached_with_the_map(tmp_path: Path, monkeypatch):
    snapshot = Snapshot.load(write_fake_collection(tmp_path).data_dir)
    settings = PanelSettings("musicnn", "msd", "embedding", "pca")
    points = visible_points(snapshot, tmp_path, settings, [], [], 1)
    monkeypatch.setattr(captions_module, "region_count", lambda n: 2)
    # 20 points: too few for captions
    monkeypatch.setattr(panel_captions, "region_count", lambda n: 2)
    monkeypatch.setattr(captions_module, "MIN_REGION_SHARE", 0)  # the fake map's regions: 19 + 1
    first = panel_captions.map_captions(snapshot, tmp_path / "cache", settings, points)
    assert first and all(a["text"] for a in first)

    def fail(*_args, **_kwargs):
        raise AssertionError("computed again instead of read from the cache")

    monkeypatch.setattr(panel_captions, "captions", fail)
    assert panel_captions.map_captions(snapshot, tmp_path / "cache", settings, points) == first


def test_captions005_the_toggle_patches_only_the_annotations(tmp_path: Path, monkeypatch):
    snapshot = Snapshot.load(write_fake_collection(tmp_path).data_dir)
    settings = PanelSettings("vgg", "mtt", "taggram", "pca")
    monkeypatch.setattr(captions_module, "region_count", lambda n: 2)
    # 20 points: too few for captions
    monkeypatch.setattr(panel_captions, "region_count", lambda n: 2)
    monkeypatch.setattr(captions_module, "MIN_REGION_SHARE", 0)  # the fake map's regions: 19 + 1
    on = panels.caption_panels(snapshot, tmp_path, True, [settings], [], [], 1)[0]
    operations = on.to_plotly_json()["operations"]
    assert [op["location"] for op in operations] == [["layout", "annotations"]]
    assert len(operations[0]["params"]["value"]) >= 1
    off = panels.caption_panels(snapshot, tmp_path, False, [settings], [], [], 1)[0]
    assert off.to_plotly_json()["operations"][0]["params"]["value"] == []


ORCHESTRAL = {"classical", "classic", "strings", "violin", "cello", "harp", "orchestra", "choir",
              "choral", "opera", "piano", "flute", "harpsichord"}  # fmt: skip
ELECTRONIC = {"electronic", "electronica", "electro", "techno", "synth", "beat", "beats", "dance",
              "house"}  # fmt: skip


@pytest.mark.slow
def test_slow002_captions_name_the_orchestral_and_the_electronic_soundtracks(tmp_path: Path):
    import subprocess
    import sys

    if not SMALL_LIBRARY_SCRIPT.exists():
        pytest.skip(f"{SMALL_LIBRARY_SCRIPT} not available")
    made = subprocess.run(["bash", str(SMALL_LIBRARY_SCRIPT), "--small"], capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert made.returncode == 0, made.stderr
    library = Path(made.stdout.strip().splitlines()[-1])
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "extraction", "--library", str(library), "--data", str(data),
         "--models", "musicnn-msd,musicnn-mtt", "--quiet"],
        capture_output=True, text=True, cwd=REPO, timeout=3000,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    snapshot = Snapshot.load(data)
    style = snapshot.tracks["path"].astype(str).str.split("/").str[0]
    for dataset in ("msd", "mtt"):
        settings = PanelSettings("musicnn", dataset, "embedding", "pca")
        points = visible_points(snapshot, tmp_path, settings, [], [], 1)
        regions, found = panel_captions.region_captions(snapshot, points)
        assert MIN_REGIONS <= len(found) <= MAX_REGIONS
        text_of = {c.region: set(c.text.split(SEPARATOR)) for c in found}
        styles = style.reindex(points.space.track[points.rows]).to_numpy()
        for soundtrack, wanted in (("Wesnoth", ORCHESTRAL), ("Warzone 2100", ELECTRONIC),
                                   ("Maxstack", ELECTRONIC)):  # fmt: skip
            home = int(np.bincount(regions[styles == soundtrack]).argmax())
            assert text_of.get(home, set()) & wanted, (soundtrack, text_of.get(home))
