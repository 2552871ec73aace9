"""Small stand-ins the tests share: a clock they move by hand, a free port to serve on."""

from __future__ import annotations

import socket
import time


class FakeClock:
    """A monotonic clock that moves only when a test sets ``now``."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process, timeout: float = 60) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``; fail if ``process`` ends."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the server stopped before it listened"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listened on port {port}"
            time.sleep(0.1)
