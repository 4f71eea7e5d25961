"""``loss="poisson"`` on an ``"exp"`` output (scikit-learn's MLPRegressor(loss="poisson")):
the Trainer against ``fastbp.reference``, and its errors. tests/test_sklearn.py holds the
estimator to scikit-learn itself."""

import numpy as np
import pytest

from fastbp import Network, Trainer, reference
from fastbp.optimizers import SGD, Adam


def counts(n_samples=31, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3))
    Y = rng.poisson(np.exp(np.column_stack([0.5 * X[:, 0], -0.4 * X[:, 1]]))).astype(float)
    return X, Y


@pytest.mark.parametrize(
    ("optimizer", "settings"),
    [
        (Adam(), {"reduction": "mean", "batch_size": 8}),
        (SGD(0.9, nesterov=True), {"reduction": "weighted_mean", "batch_size": 5, "l2": 0.01}),
        (SGD(), {"reduction": "sum", "batch_size": None, "shuffle": True}),
    ],
)
@pytest.mark.parametrize("kernel", ["generic", "matrix"])
def test_poisson_on_an_exp_output_matches_the_reference(optimizer, settings, kernel):
    X, Y = counts()
    net = Network([3, 5, 2], activations=["tanh", "exp"], init="glorot", seed=2)
    start = ([w.copy() for w in net.weights], [b.copy() for b in net.biases])
    training = {"learning_rate": 0.01, "loss": "poisson", "seed": 5, "shuffle": False, **settings}
    weights = np.random.default_rng(1).uniform(0.5, 1.5, len(X))
    trainer = Trainer(net, **training, optimizer=optimizer, kernel=kernel)
    history = trainer.fit(X, Y, epochs=12, metrics=["mae"], sample_weight=weights)
    got_weights, got_biases, expected = reference.fit(
        *start,
        list(net.activations),
        X,
        Y,
        epochs=12,
        **training,
        optimizer=optimizer,
        sample_weight=weights,
    )
    for actual, wanted in zip(net.weights + net.biases, got_weights + got_biases, strict=True):
        np.testing.assert_allclose(actual, wanted, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-9)
    np.testing.assert_allclose(history["mae"], expected["mae"], rtol=1e-9)
    expected_outputs = reference.predict(got_weights, got_biases, list(net.activations), X)
    np.testing.assert_allclose(net.predict(X), expected_outputs, rtol=1e-9)


def test_half_the_poisson_deviance_by_hand():
    # One weight, no bias, exp output: o = exp(w x). From w = 0, o = 1 for every example;
    # the losses are t log t - t + 1 (0 log 0 = 0) and the gradient sum (o - t) x.
    net = Network([1, 1], activations="exp", bias=False, init="uniform", seed=0)
    net.weights[0][:] = 0.0
    X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [3.0]])
    trainer = Trainer(
        net, learning_rate=0.1, batch_size=None, reduction="sum", loss="poisson", shuffle=False
    )
    history = trainer.fit(X, Y)
    expected = ((0 - 0 + 1) + (3 * np.log(3) - 3 + 1)) / 2
    assert history["loss"][0] == pytest.approx(expected, rel=1e-15)
    assert net.weights[0][0, 0] == pytest.approx(-0.1 * ((1 - 0) * 1 + (1 - 3) * 2), rel=1e-15)


@pytest.mark.parametrize(
    ("activations", "y", "message"),
    [
        (["tanh", "identity"], [[1.0, 2.0]] * 4, "loss 'poisson' needs an 'exp' output layer"),
        (["tanh", "exp"], [[1.0, -2.0]] * 4, "y must be non-negative for loss 'poisson'"),
    ],
)
def test_bad_poisson_fits_are_named(activations, y, message):
    net = Network([3, 4, 2], activations=activations, seed=0)
    with pytest.raises(ValueError, match=message):
        Trainer(net, loss="poisson").fit(np.ones((4, 3)), np.array(y))


def test_the_unrolled_kernel_does_not_run_poisson_and_exp():
    net = Network([3, 4, 2], activations=["tanh", "exp"], seed=0)
    with pytest.raises(ValueError, match=r"does not run this fit's features \(poisson, exp\)"):
        Trainer(net, loss="poisson", kernel="unrolled").fit(*counts())
