"""The panels' choices (architecture, dataset, layer, projection) and what the page calls them."""

from __future__ import annotations

ARCHITECTURES = {"musicnn": "MusiCNN", "vgg": "VGG"}
DATASETS = {"msd": "MSD", "mtt": "MTT"}
LAYER_LABELS = {"taggram": "Taggram", "embedding": "Embedding"}
#: In a fixed order so each projection keeps its anonymous code as more are implemented.
PROJECTION_LABELS = {"pca": "PCA", "std_pca": "STD-PCA", "tsne": "t-SNE", "umap": "UMAP"}
_CODE_PREFIXES = {"architecture": "A", "dataset": "D", "layer": "L", "projection": "P"}


def model_name(architecture: str, dataset: str) -> str:
    """The model of an (architecture, dataset) choice, e.g. ``musicnn-msd``."""
    return f"{architecture}-{dataset}"


def option_labels(anonymize: bool = False) -> dict[str, list[dict[str, str]]]:
    """Dropdown/radio options (``{"label", "value"}``) for architecture, dataset, layer, projection.

    With ``anonymize`` the labels are neutral codes (A1/A2, D1/D2, L1/L2, P1...) so a listener
    compares maps without knowing which network made them; values never change. PCA and
    STD-PCA come from the stored columns; t-SNE and UMAP are computed on demand.
    """
    groups = {
        "architecture": ARCHITECTURES,
        "dataset": DATASETS,
        "layer": LAYER_LABELS,
        "projection": PROJECTION_LABELS,
    }
    options: dict[str, list[dict[str, str]]] = {}
    for group, labels in groups.items():
        entries = []
        for number, (value, label) in enumerate(labels.items(), start=1):
            shown = f"{_CODE_PREFIXES[group]}{number}" if anonymize else label
            entries.append({"label": shown, "value": value})
        options[group] = entries
    return options
