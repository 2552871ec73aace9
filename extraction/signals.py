"""Stop requests (SIGINT, SIGTERM) held back while heavy modules import; a child process that
dies with its parent.

A Ctrl-C that lands inside an import surfaces as a traceback from deep in it, or, inside numpy's
or TensorFlow's C code, as an unrelated ImportError. Importing takes a second or two; holding the
stop until then and acting on it right after costs nothing and keeps the exit clean. Standard
library only: the app's entry point uses it too (and the maps-ahead process dies with the app).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@contextmanager
def stops_held() -> Iterator[None]:
    """Run the block with SIGINT and SIGTERM deferred; raise KeyboardInterrupt after it if one came.

    Only the main thread may set signal handlers; elsewhere the block runs unprotected.
    """
    arrived: list[int] = []
    try:
        previous = {
            sig: signal.signal(sig, lambda signum, _frame: arrived.append(signum))
            for sig in STOP_SIGNALS
        }
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        raise KeyboardInterrupt(f"signal {arrived[0]}")


@contextmanager
def stops_blocked() -> Iterator[None]:
    """SIGINT and SIGTERM blocked in this thread for the block: a child process started in it
    inherits the block (the signal mask survives exec), so a stop sent to it before its own code
    runs stays pending instead of ending the interpreter's start-up with a traceback; the child
    lets it in with :func:`let_stops_in` once :func:`stops_held` is there to take it.

    Where the platform has no signal masks (Windows), the block runs as it is.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def let_stops_in() -> None:
    """Unblock SIGINT and SIGTERM (blocked by a parent's :func:`stops_blocked`): one that came
    meanwhile is delivered now."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def missing_module(error: BaseException) -> str | None:
    """The name of the module whose absence caused ``error`` (searching its causes), if any."""
    seen = error
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            return seen.name
        seen = seen.__cause__ or seen.__context__
    return None


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent exits (Linux; elsewhere a no-op).

    Immediate, even while this process holds the GIL in C code or is stopped (SIGSTOP). The
    kernel watches the parent *thread* that started this process: start it from a thread that
    lives as long as the parent (its main thread).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
