"""The exceptions and warnings fastbp raises beyond Python's own TypeError and ValueError."""


class DivergenceError(FloatingPointError):
    """A fit stopped because its loss or a parameter stopped being finite.

    The network keeps the parameters of the last epoch that ended finite, and ``history``
    holds the epochs before ``epoch``.

    Attributes
    ----------
    epoch : int
        The (0-based) epoch of the fit in which the loss or a parameter became non-finite.
    metric : {"loss", "params"}
        What was found non-finite: the epoch's loss, or a parameter after its updates.
    value : float
        The non-finite value found (the loss, or the first non-finite parameter).
    history : History
        The fit's history up to, not including, ``epoch``.
    """

    def __init__(self, epoch, metric, value, history):
        self.epoch = epoch
        self.metric = metric
        self.value = value
        self.history = history
        what = "the loss" if metric == "loss" else "a parameter"
        super().__init__(
            f"training diverged: {what} became {value} in epoch {epoch}; the network holds the "
            f"parameters from the end of epoch {epoch - 1} and the history its {epoch} finite "
            "epochs (try a smaller learning_rate)"
            if epoch
            else f"training diverged: {what} became {value} in the first epoch; the network is "
            "unchanged (try a smaller learning_rate)"
        )


class MemberDivergenceWarning(RuntimeWarning):
    """Members of an ``Ensemble`` diverged; each keeps the parameters of its last finite
    epoch, the others trained on, and ``History.diverged`` lists (member, epoch)."""


class FitWarning(UserWarning):
    """A fit ended finite but looking wrong: its loss ended above its first epoch's, or the
    network gives one output for every example it trained on. The fit kept its result;
    ``History.warnings`` holds the same sentences."""


class FitInterruptedWarning(UserWarning):
    """Ctrl-C stopped a fit between two chunks of epochs; the fit kept what it had trained."""


class ModelFileError(ValueError):
    """A model file is not one fastbp wrote, or it is damaged: nothing was loaded from it."""
