"""Running part of a test as an ordinary user, so that a file's mode decides what it can read."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

#: The uid and gid of Debian's "nobody".
NOBODY = 65534


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    """Run as an ordinary user: root reads any file, whatever its mode, so nothing is unreadable."""
    if os.geteuid() != 0:
        yield
        return
    # Nobody cannot read root's Python (here under /root): import what the run imports lazily,
    # and load the mel weights (an .npz, read through zipfile's cp437 codec), while still root.
    import concurrent.futures.process  # noqa: F401

    import extraction.backends  # noqa: F401
    from extraction.mel import filterbank

    filterbank()
    try:
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
    except PermissionError:
        pytest.skip("running as root without the right to change the effective uid")
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
