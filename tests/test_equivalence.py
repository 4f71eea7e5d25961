"""fastbp against ``fastbp.reference`` on randomly drawn networks and settings.

Hypothesis draws the architecture and the training settings; the data come from a seeded
generator, so a failing example is reproduced exactly from its printed draw.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastbp import Network, Trainer, reference

HIDDEN = ("sigmoid", "tanh", "relu", "identity")


@st.composite
def configurations(draw):
    """Networks and settings whose training stays well-conditioned.

    Equivalence to 1e-9 is a property of the implementation only while training does not
    amplify rounding: a diverging fit (saturated units, weights growing without bound)
    turns last-bit differences into different results in any two implementations, as the
    lecture-notes test shows for the tutorial's own code. So the step size is drawn per
    example, input and output: the learning rate is divided by the batch size under "sum"
    (the gradient grows with it), by the input count (the curvature grows with the squared
    input norm) and by the output count (so do the summed losses).
    """
    depth = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 32), min_size=depth + 1, max_size=depth + 1))
    loss = draw(st.sampled_from(["squared_error", "cross_entropy"]))
    outputs = ["sigmoid"] + (["softmax"] if sizes[-1] >= 2 else [])
    if loss == "squared_error":
        outputs += ["tanh", "relu", "identity"]
    activations = [draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1)]
    activations.append(draw(st.sampled_from(outputs)))
    return {
        "sizes": sizes,
        "activations": activations,
        "bias": draw(st.lists(st.booleans(), min_size=depth, max_size=depth)),
        "loss": loss,
        "batch_size": draw(st.sampled_from([1, None, *range(2, 10)])),
        "reduction": draw(st.sampled_from(["sum", "mean"])),
        "step": draw(st.sampled_from([0.01, 0.05, 0.1, 0.3])),
        "epochs": draw(st.integers(1, 20)),
        "shuffle": draw(st.booleans()),
        "n_samples": draw(st.integers(1, 24)),
        "seed": draw(st.integers(0, 2**32 - 1)),
        # Each unrolled kernel compiles for its own shape (seconds); tests/test_kernels.py
        # holds it to the generic kernel bit for bit, so the draws here use the other two.
        "kernel": draw(st.sampled_from(["generic", "matrix"])),
    }


def learning_rate(config):
    n_samples = config["n_samples"]
    batch = n_samples if config["batch_size"] is None else min(config["batch_size"], n_samples)
    summed = batch if config["reduction"] == "sum" else 1
    return config["step"] / (summed * config["sizes"][0] * config["sizes"][-1])


def make_data(config, dtype):
    rng = np.random.default_rng(config["seed"])
    n, n_in, n_out = config["n_samples"], config["sizes"][0], config["sizes"][-1]
    X = rng.uniform(-1, 1, (n, n_in))
    if config["activations"][-1] == "softmax":
        Y = np.eye(n_out)[rng.integers(0, n_out, n)]
    elif config["loss"] == "cross_entropy":
        Y = rng.integers(0, 2, (n, n_out)).astype(float)
    else:
        Y = rng.uniform(0, 1, (n, n_out))
    return X.astype(dtype), Y.astype(dtype)


def train_both(config, dtype, reference_dtype):
    """Fit fastbp in ``dtype`` and the reference in ``reference_dtype`` from the same start."""
    net = Network(
        config["sizes"],
        activations=config["activations"],
        bias=config["bias"],
        init="glorot",
        seed=config["seed"] % 2**32,
        dtype=dtype,
    )
    # Non-zero biases, so that the bias paths are exercised from the first step.
    for bias in net.biases:
        if bias is not None:
            bias[:] = np.random.default_rng(config["seed"]).uniform(-0.5, 0.5, bias.shape)
    start_weights = [w.astype(reference_dtype) for w in net.weights]
    start_biases = [None if b is None else b.astype(reference_dtype) for b in net.biases]

    X, Y = make_data(config, dtype)
    training = {
        "learning_rate": learning_rate(config),
        "batch_size": config["batch_size"],
        "reduction": config["reduction"],
        "loss": config["loss"],
        "shuffle": config["shuffle"],
        "seed": config["seed"],
    }
    n_samples = config["n_samples"]
    batched = config["batch_size"] != 1 and n_samples > 1
    kernel = config["kernel"] if batched else "generic"
    history = Trainer(net, **training, kernel=kernel).fit(
        X, Y, epochs=config["epochs"], metrics=["sse", "mse", "mae", "accuracy"]
    )
    weights, biases, expected = reference.fit(
        start_weights,
        start_biases,
        list(net.activations),
        X.astype(reference_dtype),
        Y.astype(reference_dtype),
        epochs=config["epochs"],
        **training,
    )
    return net, history, weights, biases, expected


def flat(weights, biases):
    parts = [w.ravel() for w in weights] + [b for b in biases if b is not None]
    return np.concatenate(parts).astype(np.float64)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(config=configurations())
def test_float64_matches_reference(config):
    net, history, weights, biases, expected = train_both(config, np.float64, np.float64)
    # Relative 1e-9 on every weight and every history entry; an absolute floor of 1e-12 for
    # values that are zero up to rounding.
    for actual, wanted in zip(net.weights, weights, strict=True):
        np.testing.assert_allclose(actual, wanted, rtol=1e-9, atol=1e-12)
    for actual, wanted in zip(net.biases, biases, strict=True):
        if wanted is not None:
            np.testing.assert_allclose(actual, wanted, rtol=1e-9, atol=1e-12)
    for name in history:
        np.testing.assert_allclose(
            history[name], expected[name], rtol=1e-9, atol=1e-12, err_msg=name
        )


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(config=configurations())
def test_float32_is_as_accurate_as_numpy_float32(config):
    """float32 fastbp stays as close to exact (float64) training as float32 NumPy does.

    Two float32 implementations that sum in different orders cannot agree to a fixed number
    of digits: each rounding is up to 6e-8 relative, and training compounds them by an amount
    that depends on the network and the data. What can be required is that fastbp is no less
    accurate than the reference computing in float32: its distance from the float64 result
    is at most 10 times the reference's own (different summation orders have different but
    comparable error constants), with a floor of 64 ulps at the parameters' scale for runs
    where the reference happens to land on the float64 result.
    """
    net, _, weights32, biases32, _ = train_both(config, np.float32, np.float32)
    _, _, weights64, biases64, _ = train_both(config, np.float32, np.float64)
    exact = flat(weights64, biases64)
    fastbp_error = np.max(np.abs(flat(net.weights, net.biases) - exact))
    numpy_error = np.max(np.abs(flat(weights32, biases32) - exact))
    floor = 64 * np.finfo(np.float32).eps * max(1.0, np.max(np.abs(exact)))
    assert fastbp_error <= 10 * max(numpy_error, floor)


def regression_data(seed, n_samples, sizes, activations):
    config = {
        "seed": seed,
        "n_samples": n_samples,
        "sizes": sizes,
        "activations": activations,
        "loss": "squared_error",
    }
    return make_data(config, np.float64)


def test_split_fits_equal_one_fit():
    """Two fits of 5 epochs continue the shuffle stream: they equal one fit of 10."""
    X, Y = regression_data(3, 13, [4, 6, 2], ["tanh", "sigmoid"])
    nets = [Network([4, 6, 2], activations=["tanh", "sigmoid"], seed=5) for _ in range(2)]
    once = Trainer(nets[0], learning_rate=0.1, batch_size=4, shuffle=True, seed=9)
    twice = Trainer(nets[1], learning_rate=0.1, batch_size=4, shuffle=True, seed=9)
    history = once.fit(X, Y, epochs=10)
    first, second = twice.fit(X, Y, epochs=5), twice.fit(X, Y, epochs=5)
    np.testing.assert_array_equal(nets[0].params, nets[1].params)
    np.testing.assert_array_equal(history["loss"], np.concatenate([first["loss"], second["loss"]]))


def test_shuffled_fits_are_reproducible_from_the_seed_and_differ_across_seeds():
    X, Y = regression_data(4, 17, [3, 5, 1], ["relu", "identity"])
    results = []
    for seed in (1, 1, 2):
        net = Network([3, 5, 1], seed=0)
        Trainer(net, learning_rate=0.05, batch_size=1, shuffle=True, seed=seed).fit(X, Y, 3)
        results.append(net.params.copy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])
