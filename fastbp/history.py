"""``History``: what a fit recorded, one entry per epoch."""

from collections.abc import Mapping

import numpy as np


class History(Mapping):
    """Per-epoch metrics of one fit, as a read-only mapping of name to NumPy array.

    ``history["loss"]`` is the epoch's mean per-example loss; the other entries are the metrics
    the fit was asked for (``"sse"``, ``"mse"``, ``"mae"``, ``"accuracy"``). Each is measured
    in the forward pass that trained on each example, before that example's (or its batch's)
    update, which is what the tutorials print. A fit with validation data adds ``"val_loss"``
    and ``"val_<metric>"``, measured after each epoch as ``predict`` sees the data.

    ``interrupted`` is True when Ctrl-C stopped the fit before its last epoch, ``stopped``
    when early stopping or a callback did; ``best_epoch`` is the epoch (from 0) with the best
    monitored loss when early stopping ran, else None.

    A fit of an ``Ensemble`` records each entry as ``(epochs, n_members)``, one column per
    member; ``diverged`` lists ``(member, epoch)`` for each member that diverged (its column
    holds NaN from that epoch on). A fit of one network has ``diverged`` empty.

    ``warnings`` holds the sentences of the ``FitWarning`` the fit gave, if any: its loss
    ended above its first epoch's, or the network gives one output for every example.

    Examples
    --------
    >>> history = History({"loss": [0.5, 0.25]})
    >>> history.epochs, history["loss"][-1]
    (2, 0.25)
    """

    def __init__(
        self, metrics, interrupted=False, stopped=False, best_epoch=None, diverged=(), warnings=()
    ):
        self.diverged = [tuple(pair) for pair in diverged]
        self.warnings = tuple(warnings)
        self.interrupted = bool(interrupted)
        self.stopped = bool(stopped)
        self.best_epoch = best_epoch
        self._metrics = {}
        for name, values in metrics.items():
            array = np.array(values, dtype=np.float64)
            array.flags.writeable = False
            self._metrics[name] = array

    @classmethod
    def _adopting(cls, metrics, **flags):
        """A History holding the float64 arrays ``metrics`` themselves, made for it or views
        of a table nothing writes any more (an ensemble's entries are megabytes, which the
        constructor would copy)."""
        history = cls({}, **flags)
        for name, array in metrics.items():
            array.flags.writeable = False
            history._metrics[name] = array
        return history

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

    def plot(self, path=None):
        """Draw the loss (and any validation loss) per epoch, and the other metrics beside it.

        Needs matplotlib (``pip install ".[plot]"`` in a clone of fastbp).

        Parameters
        ----------
        path : str or os.PathLike, optional
            Where to write the figure; the format follows the extension (``.png``, ``.svg``,
            ``.pdf``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(
                "History.plot needs matplotlib, which is not installed: "
                'pip install ".[plot]" in a clone of fastbp'
            ) from None
        losses = [name for name in self._metrics if name.endswith("loss")]
        others = [name for name in self._metrics if name not in losses]
        figure = Figure(figsize=(6.4 * (1 + bool(others)), 4.0), layout="constrained")
        FigureCanvasAgg(figure)  # renders without a display, whatever pyplot's backend
        panels = figure.subplots(1, 1 + bool(others), squeeze=False)[0]
        epochs = np.arange(1, self.epochs + 1)
        for panel, names in zip(panels, (losses, others), strict=False):
            for name in names:
                panel.plot(epochs, self._metrics[name], label=name)
            panel.set_xlabel("epoch")
            panel.legend()
        panels[0].set_ylabel("loss")
        if losses and self.epochs > 1 and all(np.all(self._metrics[n] > 0) for n in losses):
            panels[0].set_yscale("log")
        if path is not None:
            figure.savefig(path)
        return figure

    def __repr__(self):
        # An ensemble's entries show the members' mean.
        last = ", ".join(f"{k}={np.nanmean(v[-1]):.6g}" for k, v in self._metrics.items() if len(v))
        return f"History(epochs={self.epochs}{', last: ' + last if last else ''})"
