"""A model's outputs against the checkpoint reference (tests/data/model_reference.npz, written by
``python -m tests.support.make_model_reference``), for every runner of the frozen graphs.

Tolerances: the checkpoint references and Essentia's libtensorflow 2.5 differ only by float32
rounding in differently ordered convolution sums; measured at most 2.4e-7 on the taggram
(values in [0, 1]) and 7.6e-6 on embeddings (values up to about 20, relative 8e-4 on the smallest
ones). The bounds below leave a 40x margin on the taggram and about 10x on embeddings, while a
real conversion fault (a wrong or missing weight, batch norm left in training mode) moves
outputs by 1e-2 or more.
"""

from __future__ import annotations

import numpy as np

from tests.support.make_model_reference import REFERENCE_PATH, reference_key, reference_patches

TAGGRAM_ATOL = 1e-5
EMBEDDING_ATOL = 1e-4
EMBEDDING_RTOL = 1e-4


def assert_layers_close(actual: dict, expected: dict) -> None:
    """Both layers' outputs, ``{"taggram": (n, labels), "embedding": (n, dims)}``, agree."""
    np.testing.assert_allclose(actual["taggram"], expected["taggram"], rtol=0, atol=TAGGRAM_ATOL)
    np.testing.assert_allclose(
        actual["embedding"], expected["embedding"], rtol=EMBEDDING_RTOL, atol=EMBEDDING_ATOL
    )


def assert_matches_checkpoint_reference(runner) -> None:
    """``runner``'s outputs on the reference patches equal the stored checkpoint outputs."""
    spec = runner.spec
    outputs = runner.predict(reference_patches())
    reference = np.load(REFERENCE_PATH)
    expected = {layer: reference[reference_key(spec.name, layer)] for layer in outputs}
    for layer, values in outputs.items():
        assert values.dtype == np.float32
        assert values.shape == (3, spec.layers[layer].dims)
    assert_layers_close(outputs, expected)
