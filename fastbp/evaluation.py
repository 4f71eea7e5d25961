"""Loss and metrics of a network on a data set, without training it."""

import numpy as np

from fastbp import _checks, reference
from fastbp._names import LOSSES, choose


def evaluate(network, X, y, loss="squared_error"):
    """The loss and metrics of ``network`` on ``(X, y)``, as a fit's history defines them.

    Parameters
    ----------
    network : Network
    X : array_like of shape (n_samples, n_inputs)
        Raw inputs (the network's ``scaling`` is applied).
    y : array_like of shape (n_samples, n_outputs), or (n_samples,)
        Targets, or integer class labels for a network of several outputs.
    loss : {"squared_error", "cross_entropy"}, default "squared_error"

    Returns
    -------
    dict
        ``"loss"`` (mean per example), ``"sse"``, ``"mse"``, ``"mae"`` and ``"accuracy"``.
    """
    choose(loss, LOSSES, "loss")
    outputs = network.predict(X)
    targets = _checks.as_targets(y, "y", network.dtype, network.n_outputs, labels=True)
    if targets.shape[0] != outputs.shape[0]:
        raise ValueError(
            f"X and y must hold the same number of samples; got {outputs.shape[0]} and "
            f"{targets.shape[0]}"
        )
    errors = (outputs - targets).astype(np.float64)
    losses = reference.example_losses(outputs, targets, network.activations[-1], loss)
    return {
        "loss": float(losses.mean()),
        "sse": float(np.sum(errors**2)),
        "mse": float(np.mean(errors**2)),
        "mae": float(np.mean(np.abs(errors))),
        "accuracy": float(np.mean(reference.correct(outputs, targets))),
    }
