"""Plotly's typed arrays as the app sends them to the browser (``{"dtype", "bdata"}``, the
bytes in base64), read back into numpy for the tests to compare."""

from __future__ import annotations

import base64

import numpy as np

#: Plotly's dtype codes that the app's figures use.
DTYPES = {"u1": np.uint8, "f4": np.float32, "f8": np.float64}


def decoded(typed: dict) -> np.ndarray:
    """The values of one typed array, shape (n,), of its own dtype."""
    return np.frombuffer(base64.b64decode(typed["bdata"]), DTYPES[typed["dtype"]])
