"""Signs that a finished, finite fit went wrong, each a sentence of ``FitWarning``: its loss
ended above its first epoch's, or its network gives one output for every example.

Both are what a fit on targets far from unit scale ends with (a regression on targets of
74-392 trained at its defaults rose to a loss of 2e12 and then predicted 209.15 for every
row): a dead or saturated network stays finite, so nothing else would say so.
"""

from fastbp import reference

# The examples whose outputs are compared: enough to tell a constant network from a live one,
# few enough to cost a small part of one epoch.
CHECKED_EXAMPLES = 1000


def fit_warnings(network, X, losses, restored_best):
    """The sentences of the ``FitWarning`` a fit of ``network`` gives.

    Parameters
    ----------
    network : Network
        After the fit.
    X : ndarray
        The inputs it trained on, as the kernels took them (checked, converted and scaled).
    losses : ndarray
        The loss of each epoch.
    restored_best : bool
        Whether early stopping restored an earlier epoch's weights: the losses after it may
        rise (that is why the fit stopped), and the network is not the last epoch's.
    """
    found = []
    if losses.size >= 2 and losses[-1] > losses[0] and not restored_best:
        found.append(
            f"the loss rose over the fit, from {losses[0]:.6g} in its first epoch to "
            f"{losses[-1]:.6g} in its last: try a smaller learning_rate, and standardize "
            "inputs and targets far from unit scale"
        )
    examples = X[:CHECKED_EXAMPLES]
    if examples.shape[0] >= 2 and (examples != examples[0]).any():
        outputs = _outputs(network, examples)
        if (outputs == outputs[0]).all():
            shown = ", ".join(f"{value:.6g}" for value in outputs[0])
            found.append(
                f"the network gives the same output ({shown}) for each of the first "
                f"{examples.shape[0]} examples it trained on: its units died or saturated; "
                "try a smaller learning_rate, and standardize inputs and targets far from "
                "unit scale"
            )
    return found


def _outputs(network, X):
    """``network``'s outputs for the inputs ``X`` (as the kernels took them), in NumPy: the
    compiled ``predict`` would add seconds of compiling to a fit's first run, which is what
    this check runs after. A dead network's outputs are its output biases either way, bit
    for bit."""
    norms = None
    if any(network.batch_norm):
        epsilon = network.norm_epsilon
        norms = [
            None if scale is None else reference.BatchNorm(scale, shift, mean, variance, epsilon)
            for scale, shift, mean, variance in zip(
                network.norm_scales,
                network.norm_shifts,
                network.running_means,
                network.running_variances,
                strict=True,
            )
        ]
    weights, biases = network.weights, network.biases
    return reference.predict(weights, biases, network.activations, X, norms)
