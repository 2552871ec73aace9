"""Quiet, lazy import of Essentia (and the TensorFlow it carries).

TensorFlow prints CUDA/oneDNN chatter at import unless its log level is set first, and Essentia
logs every algorithm configuration; both would bury the progress bar.
"""

from __future__ import annotations

import os
from types import ModuleType

from extraction.signals import stops_held


def import_essentia_standard() -> ModuleType:
    """Import ``essentia.standard`` with TensorFlow and Essentia logging silenced.

    Returns
    -------
    module
        The ``essentia.standard`` module.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with stops_held():  # a Ctrl-C inside TensorFlow's loading would read as an ImportError
        import essentia

        essentia.log.infoActive = False
        essentia.log.warningActive = False
        import essentia.standard as essentia_standard

    return essentia_standard
