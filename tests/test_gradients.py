"""Finite-difference checks of the gradient the training kernel applies.

One full-batch step with reduction "sum" and learning rate 1 moves the parameters by exactly
minus the summed gradient (up to one rounding of the subtraction), so the kernel's own
gradient is ``params_before - params_after``. It is compared with central differences of
the summed loss, computed independently from ``predict``.
"""

import numpy as np
import pytest

from fastbp import Network, Trainer

HIDDEN = ["sigmoid", "tanh", "relu", "identity"]
CASES = [
    (hidden, output, "squared_error")
    for hidden in HIDDEN
    for output in ["sigmoid", "tanh", "relu", "identity", "softmax"]
]
CASES += [
    (hidden, output, "cross_entropy") for hidden in HIDDEN for output in ["sigmoid", "softmax"]
]


def summed_loss(net, X, Y, loss):
    O = net.predict(X)
    if loss == "squared_error":
        return 0.5 * np.sum((O - Y) ** 2)
    if net.activations[-1] == "sigmoid":
        return -np.sum(Y * np.log(O) + (1 - Y) * np.log(1 - O))
    return -np.sum(Y * np.log(O))


def kernel_gradient(net, X, Y, loss):
    trained = net.copy()
    Trainer(
        trained, learning_rate=1.0, batch_size=None, reduction="sum", loss=loss, shuffle=False
    ).fit(X, Y, epochs=1)
    return net.params - trained.params


def problem(hidden, output, loss, seed=0):
    rng = np.random.default_rng(seed)
    net = Network([3, 5, 4, 3], activations=[hidden, hidden, output], seed=seed)
    for bias in net.biases:
        bias[:] = rng.uniform(-0.5, 0.5, bias.shape)
    X = rng.uniform(-1, 1, (6, 3))
    if output == "softmax":
        Y = np.eye(3)[rng.integers(0, 3, 6)]
    elif loss == "cross_entropy":
        Y = rng.integers(0, 2, (6, 3)).astype(float)
    else:
        Y = rng.uniform(0, 1, (6, 3))
    return net, X, Y


@pytest.mark.parametrize(("hidden", "output", "loss"), CASES)
def test_gradient_matches_central_differences(hidden, output, loss):
    net, X, Y = problem(hidden, output, loss)
    gradient = kernel_gradient(net, X, Y, loss)
    h = 1e-6
    numeric = np.empty_like(gradient)
    for i in range(net.params.size):
        original = net.params[i]
        net.params[i] = original + h
        above = summed_loss(net, X, Y, loss)
        net.params[i] = original - h
        below = summed_loss(net, X, Y, loss)
        net.params[i] = original
        numeric[i] = (above - below) / (2 * h)
    # Central differences err by O(h^2) (1e-12 here) plus rounding of about
    # eps * loss / h (1e-9): 1e-6 is well above both and far below any real mistake.
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-7)


def test_relu_gradient_at_its_kink_is_the_inactive_side():
    """At z = 0 exactly, relu's derivative through its output (a > 0) is 0.

    The gradient then equals the one-sided difference taken towards the inactive side
    (z < 0), and differs from the active side's: umap's kink checks, one-sided.
    """
    net = Network([2, 1, 1], activations=["relu", "identity"], bias=[True, True])
    net.weights[0][:] = [[1.0], [1.0]]
    net.biases[0][:] = -1.0  # x = (0.5, 0.5) puts the hidden unit exactly at z = 0
    net.weights[1][:] = 2.0
    net.biases[1][:] = 0.0
    X = np.array([[0.5, 0.5]])
    Y = np.array([[1.0]])
    gradient = kernel_gradient(net, X, Y, "squared_error")
    bias_index = net.weights[0].size  # the hidden bias follows the first weight matrix
    h = 1e-7
    base = summed_loss(net, X, Y, "squared_error")
    net.params[bias_index] -= h  # towards z < 0: the unit stays off
    inactive_side = (base - summed_loss(net, X, Y, "squared_error")) / h
    net.params[bias_index] += 2 * h  # towards z > 0: the unit switches on
    active_side = (summed_loss(net, X, Y, "squared_error") - base) / h
    assert gradient[bias_index] == 0.0
    assert inactive_side == pytest.approx(0.0, abs=1e-9)
    assert active_side == pytest.approx(-2.0, rel=1e-5)  # d/db of 0.5 (2 relu(z) - 1)^2
