"""A one-line progress bar for long fits, written to a terminal with carriage returns."""

import sys
import time


class ProgressBar:
    """Epochs done, the last loss and epochs per second, redrawn after each chunk of epochs.

    Parameters
    ----------
    total : int
        Epochs in the fit.
    mode : {None, True, False}
        True always draws; False never; None (automatic) draws only when ``stream`` is a
        terminal and the fit has run for more than ``delay`` seconds.
    stream : file, default sys.stderr
    delay : float, default 1.0
    """

    WIDTH = 24

    def __init__(self, total, mode=None, stream=None, delay=1.0):
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        if mode is None:
            isatty = getattr(self.stream, "isatty", None)
            self.enabled = bool(isatty and isatty())
            self.delay = delay
        else:
            self.enabled = bool(mode)
            self.delay = 0.0
        self.started = time.perf_counter()
        self.drawn = False

    def update(self, done, loss):
        """Redraw after ``done`` epochs, the last of which had loss ``loss``."""
        elapsed = time.perf_counter() - self.started
        if not self.enabled or elapsed < self.delay:
            return
        filled = self.WIDTH * done // max(self.total, 1)
        rate = done / elapsed if elapsed > 0 else float("inf")
        self.stream.write(
            f"\r{done:>{len(str(self.total))}}/{self.total} epochs "
            f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] loss {loss:.6g}  "
            f"{rate:,.0f} epochs/s"
        )
        self.stream.flush()
        self.drawn = True

    def close(self):
        """End the line, if one was drawn."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
