"""One line on standard error when fastbp's kernels compile for more than a second.

A first fit of a new kind compiles its kernels (seconds), later ones load them from Numba's
disk cache (milliseconds): a wait the user should not have to guess at. Numba reports each
compilation as a ``numba:compile`` event, and a cache load as none, so a listener on those
events times exactly the compiling. The line is written once per process, by a timer, so a
compile shorter than ``DELAY_S`` says nothing.
"""

import sys
import threading

from numba.core import event

DELAY_S = 1.0


class _Notice(event.Listener):
    """Starts a timer when one of fastbp's functions starts compiling (outside any other
    compilation), cancels it when that compilation ends."""

    def __init__(self):
        self.depth = 0
        self.timer = None
        self.enabled = True
        self.shown = False

    def on_start(self, event_):
        # Numba compiles under one lock, so events of nested compilations arrive in order.
        if self.depth == 0 and self.enabled and not self.shown and _is_fastbps(event_):
            self.timer = threading.Timer(DELAY_S, self._show)
            self.timer.daemon = True
            self.timer.start()
        self.depth += 1

    def on_end(self, event_):
        self.depth -= 1
        if self.depth == 0 and self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _show(self):
        self.shown = True
        sys.stderr.write(message() + "\n")
        sys.stderr.flush()


def _is_fastbps(event_):
    dispatcher = event_.data.get("dispatcher")
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module.startswith("fastbp")


def message():
    """What the notice says: what is happening, and where the result is kept."""
    return (
        "fastbp: compiling the kernels for this kind of fit for the first time (seconds; once "
        f"per kind of fit and release). They are cached in {cache_location()}, so later "
        "fits of this kind start at once; `fastbp compile` compiles the common kinds ahead."
    )


def cache_location():
    """Where fastbp's compiled kernels are kept (``fastbp.kernels.cache``)."""
    from fastbp.kernels import cache

    return cache.directory()


_NOTICE = _Notice()
event.register("numba:compile", _NOTICE)


def enabled():
    """Whether the notice is on in this process."""
    return _NOTICE.enabled


def enable(enabled):
    """Turn the notice on or off for this process (``fastbp train --quiet`` turns it off)."""
    _NOTICE.enabled = bool(enabled)
