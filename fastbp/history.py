"""``History``: what a fit recorded, one entry per epoch."""

from collections.abc import Mapping

import numpy as np


class History(Mapping):
    """Per-epoch metrics of one fit, as a read-only mapping of name to NumPy array.

    ``history["loss"]`` is the epoch's mean per-example loss; the other entries are the metrics
    the fit was asked for (``"sse"``, ``"mse"``, ``"mae"``, ``"accuracy"``). Each is measured
    in the forward pass that trained on each example, before that example's (or its batch's)
    update, which is what the tutorials print. ``interrupted`` is True when Ctrl-C stopped the
    fit before its last epoch.

    Examples
    --------
    >>> history = History({"loss": [0.5, 0.25]})
    >>> history.epochs, history["loss"][-1]
    (2, 0.25)
    """

    def __init__(self, metrics, interrupted=False):
        self.interrupted = bool(interrupted)
        self._metrics = {}
        for name, values in metrics.items():
            array = np.array(values, dtype=np.float64)
            array.flags.writeable = False
            self._metrics[name] = array

    @property
    def epochs(self):
        """Number of epochs recorded."""
        return len(next(iter(self._metrics.values()))) if self._metrics else 0

    def __getitem__(self, name):
        try:
            return self._metrics[name]
        except KeyError:
            raise KeyError(
                f"{name!r} was not recorded; this history holds {sorted(self._metrics)}"
            ) from None

    def __iter__(self):
        return iter(self._metrics)

    def __len__(self):
        return len(self._metrics)

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.6g}" for k, v in self._metrics.items() if len(v))
        return f"History(epochs={self.epochs}{', last: ' + last if last else ''})"
