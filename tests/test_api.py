"""The public contract: Network's layout and views, predict, Trainer's checks, History."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from fastbp import History, Network, Trainer, reference

XOR = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)


def test_params_is_one_aligned_vector_and_views_write_through():
    net = Network([3, 4, 2], bias=[True, False], seed=0)
    assert net.params.shape == (3 * 4 + 4 + 4 * 2,)
    assert net.params.flags.c_contiguous and net.params.ctypes.data % 64 == 0
    assert net.weights[0].shape == (3, 4) and net.weights[1].shape == (4, 2)
    assert net.biases[0].shape == (4,) and net.biases[1] is None
    for view in (*net.weights, net.biases[0]):
        assert np.shares_memory(view, net.params)
    net.weights[1][2, 1] = 7.5
    net.biases[0][3] = -2.0
    assert 7.5 in net.params and -2.0 in net.params
    np.testing.assert_array_equal(net.biases[0], 0.0 * net.biases[0] + [0, 0, 0, -2.0])


@pytest.mark.parametrize("init", ["uniform", "normal"])
def test_init_draws_the_tutorials_random_sequence(init):
    net = Network([3, 4, 1], init=init, seed=1, bias=False)
    tutorial = np.random.RandomState(1)
    if init == "uniform":
        expected = [2 * tutorial.random_sample((3, 4)) - 1, 2 * tutorial.random_sample((4, 1)) - 1]
    else:
        expected = [tutorial.randn(3, 4), tutorial.randn(4, 1)]
    for weights, wanted in zip(net.weights, expected, strict=True):
        np.testing.assert_array_equal(weights, wanted)


@pytest.mark.parametrize(
    ("init", "scale"), [("glorot", np.sqrt(6 / 600)), ("he", np.sqrt(2 / 300))]
)
def test_glorot_and_he_scales(init, scale):
    weights = Network([300, 300], init=init, seed=0).weights[0]
    if init == "glorot":
        assert np.abs(weights).max() <= scale
        assert np.abs(weights).max() > 0.99 * scale
    else:
        assert weights.std() == pytest.approx(scale, rel=0.02)


def test_defaults_follow_modern_practice():
    net = Network([2, 8, 8, 1])
    assert net.activations == ("relu", "relu", "identity")
    assert net.bias == (True, True, True) and net.dtype == np.float64
    assert all(np.all(b == 0) for b in net.biases)
    trainer = Trainer(net)
    assert (trainer.batch_size, trainer.reduction, trainer.shuffle) == (32, "mean", True)


def test_linear_is_an_alias_of_identity():
    assert Network([2, 2], activations="linear").activations == ("identity",)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_matches_reference_and_keeps_dtype(dtype):
    net = Network([3, 6, 5, 4], activations=["tanh", "relu", "softmax"], seed=3, dtype=dtype)
    for bias in net.biases:
        bias[:] = np.linspace(-0.3, 0.3, bias.size)
    X = np.random.default_rng(0).uniform(-1, 1, (7, 3))
    out = net.predict(X)
    assert out.dtype == dtype and out.shape == (7, 4)
    expected = reference.predict(
        list(net.weights), list(net.biases), list(net.activations), X.astype(dtype)
    )
    np.testing.assert_allclose(out, expected, rtol=1e-12 if dtype == np.float64 else 1e-5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(net.predict(X[0]), out[:1])


def test_float32_network_trains_in_float32():
    net = Network([3, 4, 1], activations="sigmoid", dtype=np.float32, seed=1)
    Trainer(net, learning_rate=1.0, batch_size=None, reduction="sum", shuffle=False).fit(
        XOR, [0, 1, 1, 0], epochs=3000
    )
    assert net.params.dtype == np.float32
    np.testing.assert_array_equal(net.predict(XOR).round(), [[0], [1], [1], [0]])


def test_history_records_loss_and_requested_metrics_per_epoch():
    net = Network([3, 4, 1], activations="sigmoid", seed=1)
    history = Trainer(net, learning_rate=0.5, batch_size=2, shuffle=False).fit(
        XOR, [0, 1, 1, 0], epochs=7, metrics=["mae", "accuracy"]
    )
    assert isinstance(history, History)
    assert list(history) == ["loss", "mae", "accuracy"] and history.epochs == 7
    assert all(history[name].shape == (7,) for name in history)
    with pytest.raises(KeyError, match="'sse' was not recorded"):
        history["sse"]
    assert Trainer(net).fit(XOR, [0, 1, 1, 0], epochs=0)["loss"].shape == (0,)


def test_metrics_are_those_of_the_forward_pass_before_each_update():
    net = Network([3, 2], activations="identity", bias=False, seed=2)
    X, Y = XOR, np.array([[0, 1], [1, 0], [1, 1], [0, 0]], dtype=float)
    O = net.predict(X)
    history = Trainer(net, learning_rate=0.1, batch_size=None, shuffle=False).fit(
        X, Y, epochs=1, metrics=["sse", "mse", "mae", "accuracy"]
    )
    E = O - Y
    assert history["loss"][0] == pytest.approx(np.mean(0.5 * np.sum(E**2, axis=1)))
    assert history["sse"][0] == pytest.approx(np.sum(E**2))
    assert history["mse"][0] == pytest.approx(np.mean(E**2))
    assert history["mae"][0] == pytest.approx(np.mean(np.abs(E)))
    assert history["accuracy"][0] == np.mean(O.argmax(1) == Y.argmax(1))


def net_and_data():
    return Network([3, 4, 1], seed=0), XOR.copy(), np.array([0.0, 1, 1, 0])


BAD_NETWORKS = [
    (dict(sizes=[3]), ValueError, "at least an input and an output"),
    (dict(sizes=[3, 0, 1]), ValueError, "at least 1"),
    (dict(sizes=[3, 2.5, 1]), TypeError, "integers"),
    (dict(sizes="341"), TypeError, "sequence of layer sizes"),
    (dict(sizes=[3, 1], activations="swish"), ValueError, "activations must be one of"),
    (dict(sizes=[3, 4, 1], activations=["relu"]), ValueError, "one activation per weight layer"),
    (
        dict(sizes=[3, 4, 2], activations=["softmax", "relu"]),
        ValueError,
        "supported only on the output",
    ),
    (dict(sizes=[3, 1], activations="softmax"), ValueError, "at least 2 output"),
    (dict(sizes=[3, 4, 1], bias=[True]), ValueError, "one bool per weight layer"),
    (dict(sizes=[3, 1], bias=1), TypeError, "bias must be a bool"),
    (dict(sizes=[3, 1], init="zeros"), ValueError, "init must be one of"),
    (dict(sizes=[3, 1], seed=-1), ValueError, "seed must be in"),
    (
        dict(sizes=[3, 1], dtype=np.int32),
        ValueError,
        "dtype must be numpy.float64 or numpy.float32",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_NETWORKS)
def test_bad_network_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        Network(**kwargs)


BAD_TRAINERS = [
    (dict(learning_rate=-0.1), ValueError, "learning_rate must be a finite number greater than 0"),
    (dict(learning_rate=float("nan")), ValueError, "learning_rate"),
    (dict(learning_rate="fast"), TypeError, "learning_rate must be a real number"),
    (dict(batch_size=0), ValueError, "batch_size must be at least 1"),
    (dict(batch_size=2.0), TypeError, "batch_size must be an integer"),
    (dict(reduction="max"), ValueError, "reduction must be one of 'sum', 'mean'"),
    (dict(loss="hinge"), ValueError, "loss must be one of"),
    (dict(loss="cross_entropy"), ValueError, "needs a 'softmax' or 'sigmoid' output"),
    (dict(shuffle="yes"), TypeError, "shuffle must be True or False"),
]


@pytest.mark.parametrize(("kwargs", "error", "message"), BAD_TRAINERS)
def test_bad_trainer_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        Trainer(Network([3, 4, 1]), **kwargs)


BAD_FITS = [
    (lambda X, y: (X[:, :2], y), {}, ValueError, "X has 2 columns, but the network expects 3"),
    (lambda X, y: (X, y[:3]), {}, ValueError, "same number of samples"),
    (lambda X, y: (X[:0], y[:0]), {}, ValueError, "X has no samples"),
    (lambda X, y: (X[None], y), {}, ValueError, "X must be 2-D"),
    (lambda X, y: (X, np.c_[y, y]), {}, ValueError, "y has 2 columns"),
    (lambda X, y: (np.where(X == 1, np.nan, X), y), {}, ValueError, "X must be finite; found nan"),
    (lambda X, y: (X, y + np.inf), {}, ValueError, "y must be finite"),
    (lambda X, y: (X.astype(complex), y), {}, TypeError, "X must be real"),
    (lambda X, y: (X.astype(object), y), {}, TypeError, "X must be a numeric array"),
    (lambda X, y: (X, y.astype(str)), {}, TypeError, "y must be a numeric array"),
    (lambda X, y: (X, y), {"epochs": -1}, ValueError, "epochs must be at least 0"),
    (lambda X, y: (X, y), {"epochs": 2.5}, TypeError, "epochs must be an integer"),
    (lambda X, y: (X, y), {"metrics": ["r2"]}, ValueError, "metrics must be one of"),
]


@pytest.mark.parametrize(("mangle", "kwargs", "error", "message"), BAD_FITS)
def test_bad_fit_input_is_named_and_leaves_the_network_untouched(mangle, kwargs, error, message):
    net, X, y = net_and_data()
    before = net.params.copy()
    X, y = mangle(X, y)
    with pytest.raises(error, match=message):
        Trainer(net).fit(X, y, **kwargs)
    np.testing.assert_array_equal(net.params, before)


def test_cross_entropy_targets_must_be_probabilities():
    net = Network([3, 2], activations="softmax")
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):
        Trainer(net, loss="cross_entropy").fit(XOR, [[2, 0]] * 4)


def test_y_one_dimensional_only_for_one_output():
    with pytest.raises(ValueError, match="y is 1-D, but the network has 2 outputs"):
        Trainer(Network([3, 2])).fit(XOR, [0, 1, 1, 0])


def test_practical_inputs_are_accepted_and_never_written():
    net, X, y = net_and_data()
    X_int = X.astype(int)
    X_fortran = np.asfortranarray(X)
    X_readonly = X.copy()
    X_readonly.flags.writeable = False
    X_strided = np.repeat(X, 2, axis=0)[::2]
    trainer = Trainer(net, shuffle=False)
    for data in (X.tolist(), X_int, X_fortran, X_readonly, X_strided, X.astype(bool)):
        trainer.fit(data, y.tolist(), epochs=2)
    np.testing.assert_array_equal(X_readonly, X)


def test_kernels_refuse_to_be_imported_under_another_name():
    init = Path(__file__).resolve().parents[1] / "kernels" / "__init__.py"
    spec = importlib.util.spec_from_file_location("kernels", init)
    with pytest.raises(ImportError, match=r"must be imported as 'fastbp\.kernels'"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_fastbp_train_prints_the_tutorials_error_trace(capsys):
    from fastbp.cli import main

    assert main(["train", "--epochs", "20001", "--report-every", "10000"]) == 0
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith("epoch")]
    expected = ["0.496410031903", "0.00858452565325", "0.00578945986251"]
    for line, error in zip(lines, expected, strict=True):
        assert line.endswith(f"mae {error}")


def test_settings_changed_after_construction_are_checked_before_the_kernel():
    net, X, y = net_and_data()
    trainer = Trainer(net)
    trainer.learning_rate = -1.0
    before = net.params.copy()
    with pytest.raises(ValueError, match="learning_rate must be a finite number greater than 0"):
        trainer.fit(X, y)
    np.testing.assert_array_equal(net.params, before)
