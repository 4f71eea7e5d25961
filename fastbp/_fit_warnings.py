"""Signs that a finished, finite fit went wrong, each a sentence of ``FitWarning``: its loss
ended above its first epoch's, or its network gives one output for every example.

Both are what a fit on targets far from unit scale ends with (a regression on targets of
74-392 trained at its defaults rose to a loss of 2e12 and then predicted 209.15 for every
row): a dead or saturated network stays finite, so nothing else would say so.
"""

import itertools

import scipy.sparse

from fastbp import reference

# The examples whose outputs are compared: enough to tell a network that gives one output
# for every example from a live one; and the least work (example visits times weights) a fit
# must have done for them to be compared. The comparison costs 40-60 us (NumPy's calls, on a
# 3-4-1 net) and more with the network: 10% of a 200-epoch streetlight fit (800 visits of 16
# weights) and, on 1,000 examples, 20% of a one-epoch W3 fit (200 visits of 9,472 weights).
# Above 2 million, under about 2%; the 74-392 regression of 100 epochs did 3.6 million.
CHECKED_EXAMPLES = 64
CHECKED_WORK = 2_000_000


def fit_warnings(network, X, losses, restored_best, visits):
    """The sentences of the ``FitWarning`` a fit of ``network`` gives.

    Parameters
    ----------
    network : Network
        After the fit.
    X : ndarray or CSR matrix
        The inputs it trained on, as the kernels took them (checked, converted and scaled).
    losses : ndarray
        The loss of each epoch.
    restored_best : bool
        Whether early stopping restored an earlier epoch's weights: the losses after it may
        rise (that is why the fit stopped), and the network is not the last epoch's.
    visits : int
        The example visits the fit trained (examples times epochs): a fit of less work than
        ``CHECKED_WORK`` skips the comparison of outputs, which would cost it several percent.
    """
    found = []
    if losses.size >= 2 and losses[-1] > losses[0] and not restored_best:
        found.append(
            f"the loss rose over the fit, from {losses[0]:.6g} in its first epoch to "
            f"{losses[-1]:.6g} in its last: try a smaller learning_rate, and standardize "
            "inputs and targets far from unit scale"
        )
    weights = sum(n_in * n_out for n_in, n_out in itertools.pairwise(network.sizes))
    if visits * weights < CHECKED_WORK:
        return found
    examples = X[:CHECKED_EXAMPLES]
    if scipy.sparse.issparse(examples):
        examples = examples.toarray()  # 64 rows, for NumPy's forward pass
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
