"""Finite-difference checks of the gradient the training kernel applies.

One full-batch step with reduction "sum" and learning rate 1 moves the parameters by exactly
minus the summed gradient (up to one rounding of the subtraction), so the kernel's own
gradient is ``params_before - params_after``. It is compared with central differences of
the summed loss, computed independently from ``predict``.
"""

import numpy as np
import pytest

from fastbp import Network, Trainer, reference

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


def feature_gradient(net, X, Y, **features):
    """The matrix kernel's gradient with ``features`` (Trainer or fit arguments), read from
    one full-batch step as above."""
    fit_names = ("sample_weight",)
    trainer_features = {k: v for k, v in features.items() if k not in fit_names}
    fit_features = {k: v for k, v in features.items() if k in fit_names}
    trained = net.copy()
    trainer = Trainer(
        trained,
        learning_rate=1.0,
        batch_size=None,
        reduction="sum",
        shuffle=False,
        seed=17,
        **trainer_features,
    )
    trainer.fit(X, Y, epochs=1, **fit_features)
    return net.params - trained.params


def central_differences(net, objective, h=1e-6):
    numeric = np.empty(net.params.size)
    for i in range(net.params.size):
        original = net.params[i]
        net.params[i] = original + h
        above = objective()
        net.params[i] = original - h
        below = objective()
        net.params[i] = original
        numeric[i] = (above - below) / (2 * h)
    return numeric


def test_l2_adds_the_gradient_of_half_l2_times_the_squared_weights():
    net, X, Y = problem("tanh", "sigmoid", "squared_error", seed=1)
    l2 = 0.3
    for l2_biases in (False, True):
        gradient = feature_gradient(net, X, Y, l2=l2, l2_biases=l2_biases)
        penalized = [w for w in net.weights] + (list(net.biases) if l2_biases else [])

        def objective(penalized=penalized):
            penalty = sum(np.sum(p**2) for p in penalized)
            return summed_loss(net, X, Y, "squared_error") + 0.5 * l2 * penalty

        numeric = central_differences(net, objective)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-7)


def test_sample_weights_weight_each_example_loss():
    net, X, Y = problem("relu", "softmax", "cross_entropy", seed=2)
    weights = np.random.default_rng(3).uniform(0, 2, X.shape[0])
    gradient = feature_gradient(net, X, Y, sample_weight=weights, loss="cross_entropy")

    def objective():
        return -np.sum(weights[:, None] * Y * np.log(net.predict(X)))

    np.testing.assert_allclose(gradient, central_differences(net, objective), rtol=1e-6, atol=1e-7)


def test_dropout_gradient_is_the_masked_networks_gradient():
    """With dropout the step follows the gradient of the network the kernel drew: every
    hidden unit multiplied by its mask. The masks are the first draws of the seed's SplitMix64
    stream (no shuffling), layer by layer, row by row, unit by unit."""
    net, X, Y = problem("sigmoid", "identity", "squared_error", seed=4)
    rate = 0.4
    gradient = feature_gradient(net, X, Y, dropout=rate)
    generator = reference.SplitMix64(17)
    masks = []
    for size in net.sizes[1:-1]:
        draws = np.array([generator.uniform() for _ in range(X.shape[0] * size)])
        masks.append(np.where(draws >= rate, 1 / (1 - rate), 0.0).reshape(X.shape[0], size))
    assert 0 < np.count_nonzero(masks[0]) < masks[0].size  # some units dropped, some kept

    def objective():
        a = X
        for layer, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = a @ W + b
            if layer < len(masks):
                a = 1 / (1 + np.exp(-z)) * masks[layer]
            else:
                a = z
        return 0.5 * np.sum((a - Y) ** 2)

    np.testing.assert_allclose(gradient, central_differences(net, objective), rtol=1e-6, atol=1e-7)


def test_norm_clipping_scales_the_gradient_to_the_norm():
    net, X, Y = problem("tanh", "tanh", "squared_error", seed=5)
    full = feature_gradient(net, X, Y)
    clipped = feature_gradient(net, X, Y, clip_norm=0.1)
    assert np.linalg.norm(full) > 0.1
    np.testing.assert_allclose(clipped, full * (0.1 / np.linalg.norm(full)), rtol=1e-9)


def test_batch_normalization_gradient_goes_through_the_batch_statistics():
    """Every example's output depends on the whole batch through its mean and variance; the
    step follows the gradient of that coupled loss, for the weights, biases, scales and
    shifts alike."""
    rng = np.random.default_rng(7)
    net = Network([3, 5, 4, 2], activations=["tanh", "relu", "sigmoid"], batch_norm=True)
    for scale, shift, bias in zip(net.norm_scales, net.norm_shifts, net.biases, strict=True):
        bias[:] = rng.uniform(-0.5, 0.5, bias.shape)
        if scale is not None:  # the hidden layers
            scale[:] = rng.uniform(0.5, 1.5, scale.shape)
            shift[:] = rng.uniform(-0.5, 0.5, shift.shape)
    X = rng.uniform(-1, 1, (6, 3))
    Y = rng.uniform(0, 1, (6, 2))
    gradient = feature_gradient(net, X, Y)

    def objective():
        a = X
        for layer, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = a @ W + b
            if net.norm_scales[layer] is not None:
                normed = (z - z.mean(axis=0)) / np.sqrt(z.var(axis=0) + net.norm_epsilon)
                z = normed * net.norm_scales[layer] + net.norm_shifts[layer]
            a = [np.tanh(z), np.maximum(z, 0), 1 / (1 + np.exp(-z))][layer]
        return 0.5 * np.sum((a - Y) ** 2)

    np.testing.assert_allclose(gradient, central_differences(net, objective), rtol=1e-6, atol=1e-7)
