"""Waiting on an event instead of sleeping a fixed time: poll until a condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How often a condition is looked at: often enough not to slow a test, rarely enough not to
#: load a 2-core machine that runs the app under test too.
POLL_SECONDS = 0.1


def wait_until(predicate: Callable[[], T], timeout: float = 10, message: str = "condition") -> T:
    """``predicate()``'s first truthy value within ``timeout`` seconds.

    Raises
    ------
    AssertionError
        When it stays falsy that long; the message names what was awaited and its last value.
    """
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"timed out waiting for {message} (last: {value!r})")
