"""``Trainer.fit(order=...)``: the examples of each epoch in a given order (the feature
"order", which every kernel path runs; fastbp.sklearn passes scikit-learn's shuffles so).

tests/test_features.py draws it with every other feature against ``fastbp.reference``;
these check what it means by hand, its chunking and its errors.
"""

import numpy as np
import pytest

from fastbp import Network, Trainer
from fastbp.optimizers import Adam


def problem(n_samples=23, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 4))
    Y = np.tanh(X @ rng.normal(size=(4, 2)))
    orders = np.array([rng.permutation(n_samples) for _ in range(5)])
    return X, Y, orders


def trainer(**settings):
    net = Network([4, 6, 2], activations=["tanh", "identity"], init="glorot", seed=3)
    defaults = {"learning_rate": 0.05, "batch_size": 5, "optimizer": Adam(), "seed": 7}
    return Trainer(net, **{**defaults, **settings})


@pytest.mark.parametrize("shuffle", [False, True])
def test_an_epoch_in_a_given_order_is_an_epoch_on_the_rows_in_that_order(shuffle):
    X, Y, orders = problem()
    given = trainer(shuffle=shuffle)
    history = given.fit(X, Y, epochs=5, order=orders, metrics=["mae"])
    copied = trainer(shuffle=False)
    losses = [copied.fit(X[rows], Y[rows], metrics=["mae"])["loss"][0] for rows in orders]
    np.testing.assert_allclose(given.network.params, copied.network.params, rtol=1e-12)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-12)
    # The given order replaces the shuffle, which draws nothing from the seed.
    assert given._rng_state[0] == 7


def test_a_fit_cut_into_chunks_takes_each_chunk_its_own_rows_of_the_order():
    X, Y, orders = problem()
    whole = trainer()
    whole.fit(X, Y, epochs=5, order=orders)
    chunked = trainer()
    chunked.fit(X, Y, epochs=5, order=orders, callbacks=lambda epoch, history: False)
    np.testing.assert_allclose(chunked.network.params, whole.network.params, rtol=1e-12)


def test_the_order_indexes_the_training_part_of_a_validation_split():
    X, Y, orders = problem()
    fitted = trainer()
    training = np.array([np.random.default_rng(e).permutation(18) for e in range(5)])
    history = fitted.fit(X, Y, epochs=5, order=training, validation_fraction=0.2)  # 5 held out
    assert len(history["val_loss"]) == 5
    with pytest.raises(ValueError, match=r"= \(5, 18\)"):
        trainer().fit(X, Y, epochs=5, order=orders, validation_fraction=0.2)


@pytest.mark.parametrize(
    ("order", "error", "message"),
    [
        (np.zeros((5, 23)), TypeError, "order must hold integer example indices"),
        (np.zeros((4, 23), int), ValueError, r"shape \(epochs, n_samples\) = \(5, 23\)"),
        (np.zeros((5, 23), int), ValueError, "permutation of 0..22"),
    ],
)
def test_a_bad_order_is_named(order, error, message):
    X, Y, _ = problem()
    fitted = trainer()
    before = fitted.network.params.copy()
    with pytest.raises(error, match=message):
        fitted.fit(X, Y, epochs=5, order=order)
    np.testing.assert_array_equal(fitted.network.params, before)


@pytest.mark.parametrize("kernel", ["generic", "unrolled"])
def test_every_path_runs_a_given_order_as_the_matrix_path_does(kernel):
    X, Y, orders = problem()
    matrix = trainer(kernel="matrix")
    matrix_history = matrix.fit(X, Y, epochs=5, order=orders)
    other = trainer(kernel=kernel)
    history = other.fit(X, Y, epochs=5, order=orders)
    np.testing.assert_allclose(other.network.params, matrix.network.params, rtol=1e-12)
    np.testing.assert_allclose(history["loss"], matrix_history["loss"], rtol=1e-12)
