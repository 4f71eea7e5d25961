"""The three kernel paths: which one a fit runs, how their kernels are written out, and
that they agree.

The generic and matrix paths are held to the reference in tests/test_equivalence.py and
tests/test_features.py. The unrolled kernel is written out per shape from the same skeleton
and update lines as the generic one, so it is held to that kernel bit for bit here (apart from
the sign of an exact zero, which ``==`` ignores). So are the two compilations of ``predict``.
"""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastbp import Network, Trainer, _kernels
from fastbp._memory import aligned_zeros
from fastbp.kernels import loops, predict, skeleton, unrolled
from fastbp.network import activation_width
from fastbp.optimizers import SGD

UNROLLED_CASES = [
    # sizes, activations, bias, loss, batch_size, reduction, shuffle
    ([3, 4, 1], ["relu", "identity"], False, "squared_error", 1, "sum", False),
    ([3, 4, 1], ["sigmoid", "sigmoid"], False, "squared_error", None, "sum", False),
    (
        [2, 3, 3, 2],
        ["tanh", "relu", "sigmoid"],
        [True, False, True],
        "cross_entropy",
        3,
        "mean",
        True,
    ),
    ([4, 5, 3], ["identity", "tanh"], True, "squared_error", 1, "sum", True),
    ([1, 8, 1], ["relu", "relu"], True, "squared_error", 2, "mean", False),
]


def fit(case, kernel, dtype=np.float64, epochs=40, learning_rate=0.3, **features):
    features = dict(features)
    learning_rate = features.pop("learning_rate", learning_rate)
    sizes, activations, bias, loss, batch_size, reduction, shuffle = case
    net = Network(sizes, activations=activations, bias=bias, init="uniform", seed=3, dtype=dtype)
    for b in net.biases:
        if b is not None:
            b[:] = np.linspace(-0.3, 0.3, b.size)
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (7, sizes[0]))
    Y = rng.integers(0, 2, (7, sizes[-1])).astype(float)
    trainer = Trainer(
        net,
        learning_rate=learning_rate,
        batch_size=batch_size,
        reduction=reduction,
        loss=loss,
        shuffle=shuffle,
        seed=11,
        kernel=kernel,
        **features,
    )
    history = trainer.fit(X, Y, epochs=epochs, metrics=["sse", "mae", "accuracy"])
    return net, history


UNROLLED_FEATURES = {
    "plain": {},
    "momentum-l2": {"optimizer": SGD(momentum=0.9), "l2": 0.01, "learning_rate": 0.03},
    "nesterov-schedule": {"optimizer": SGD(momentum=0.5, nesterov=True), "schedule": "invscaling"},
    "adam-clip": {"optimizer": "adam", "learning_rate": 0.01, "clip_value": 0.2},
    "l2-biases": {"l2": 0.1, "l2_biases": True, "l2_divided": True},
}


def unrolled_draws():
    """Every case with every feature set in float64, and in float32 each case once and each
    feature set once (case i with set i): an unrolled kernel compiles for its shape, fit and
    dtype (seconds each), and float32 changes the scalars' types, not the lines written out,
    so one diagonal holds every line to float32 at a fifth of the compiles."""
    features = list(UNROLLED_FEATURES.items())
    for index, case in enumerate(UNROLLED_CASES):
        case_id = "-".join(map(str, case[0]))
        for name, setting in features:
            yield pytest.param(case, np.float64, setting, id=f"{name}-float64-{case_id}")
        name, setting = features[index % len(features)]
        yield pytest.param(case, np.float32, setting, id=f"{name}-float32-{case_id}")


@pytest.mark.parametrize("case, dtype, features", list(unrolled_draws()))
def test_unrolled_kernel_equals_generic_kernel_exactly(case, dtype, features):
    """Both are written out from one skeleton with one update per parameter, so they agree
    bit for bit with every feature the unrolled kernel runs."""
    unrolled_net, unrolled_history = fit(case, "unrolled", dtype, **features)
    generic_net, generic_history = fit(case, "generic", dtype, **features)
    assert np.array_equal(unrolled_net.params, generic_net.params)
    for name in generic_history:
        assert np.array_equal(unrolled_history[name], generic_history[name]), name


@pytest.mark.parametrize("case", UNROLLED_CASES, ids=lambda case: "-".join(map(str, case[0])))
@pytest.mark.parametrize(
    "features",
    [
        {"optimizer": SGD(momentum=0.9), "l2": 0.01},
        {"optimizer": SGD(momentum=0.5, nesterov=True)},
        {"l2": 0.1, "l2_biases": True},
    ],
    ids=["momentum-l2", "nesterov", "l2-biases"],
)
def test_unrolled_kernel_with_momentum_and_l2_equals_the_matrix_kernel(case, features):
    """The matrix kernel runs every feature and is held to the reference; the unrolled kernel's
    momentum and L2 are held to it (to rounding: BLAS sums in its own order). Momentum 0.9
    multiplies the step tenfold, so the rate is a tenth of the plain test's: a chaotic fit
    would amplify the rounding (see tests/test_equivalence.py)."""
    unrolled_net, unrolled_history = fit(case, "unrolled", learning_rate=0.03, **features)
    matrix_net, matrix_history = fit(case, "matrix", learning_rate=0.03, **features)
    np.testing.assert_allclose(unrolled_net.params, matrix_net.params, rtol=1e-9, atol=1e-12)
    for name in unrolled_history:
        np.testing.assert_allclose(
            unrolled_history[name], matrix_history[name], rtol=1e-9, atol=1e-12
        )


def test_auto_picks_the_kernel_for_the_shape_and_batch():
    tiny = Network([3, 4, 1])
    medium = Network([64, 128, 10])
    long_fit = _kernels.UNROLL_MIN_EXAMPLES
    assert _kernels.choose(tiny, 1, long_fit) == "unrolled"
    assert _kernels.choose(tiny, 32, long_fit) == "unrolled"
    assert _kernels.choose(tiny, 1, long_fit - 1) == "generic"
    assert _kernels.choose(medium, 1, long_fit) == "generic"
    assert _kernels.choose(medium, 4, long_fit) == "generic"
    assert _kernels.choose(medium, 64, 10) == "matrix"
    softmax = Network([3, 4, 4], activations=["relu", "softmax"])
    assert _kernels.choose(softmax, 1, long_fit) == "generic"
    features = ["momentum", "l2"]
    assert _kernels.choose(tiny, 1, long_fit, features) == "unrolled"
    assert _kernels.choose(tiny, 1, long_fit - 1, features) == "generic"
    assert _kernels.choose(tiny, 1, long_fit, ["momentum", "dropout"]) == "generic"
    assert _kernels.choose(tiny, 2, long_fit, ["dropout", "dropout_in_batches"]) == "matrix"
    assert _kernels.choose(medium, 1, long_fit, ["adam", "clip_norm"]) == "generic"
    assert _kernels.choose(tiny, 1, long_fit, ["batch_norm"]) == "matrix"


def test_a_kernel_is_built_once_per_fit_and_its_source_kept_on_disk():
    layout = Network([2, 2, 1]).layout
    plain = skeleton.Fit.of(*_encoded(batch_size=1), features=())
    batches = skeleton.Fit.of(*_encoded(batch_size=2), features=())
    routines = unrolled.Unrolled(layout, 0)
    kernel = skeleton.kernel(routines, plain)
    assert kernel is skeleton.kernel(unrolled.Unrolled(layout, 0), plain)
    assert kernel is not skeleton.kernel(routines, batches)
    assert kernel is not skeleton.kernel(loops.LOOPS, plain)
    with open(kernel.py_func.__code__.co_filename) as file:
        assert file.read() == skeleton.kernel_source(routines, plain)
    assert kernel.py_func.__module__.startswith("fastbp_kernel_")


def test_a_kernel_holds_only_the_code_of_its_fit():
    plain = skeleton.Fit.of(*_encoded(batch_size=1), features=())
    source = skeleton.kernel_source(loops.LOOPS, plain)
    assert "velocity" not in source and "drop_out(acts" not in source
    assert "apply_update(" not in source and "end_epoch(" not in source
    momentum = skeleton.Fit.of(*_encoded(batch_size=1, optimizer=SGD(momentum=0.9)), ())
    assert "velocity = momentum" in skeleton.kernel_source(loops.LOOPS, momentum)


def _encoded(**settings):
    from fastbp import _settings

    trainer = Trainer(Network([2, 2, 1]), **settings)
    return _settings.encode(trainer, 8, settings.get("batch_size") or 8)


def test_kernel_choices_are_checked():
    with pytest.raises(ValueError, match="kernel must be one of 'auto', 'unrolled'"):
        Trainer(Network([2, 1]), kernel="fast")
    with pytest.raises(ValueError, match="kernel 'unrolled' is for networks of at most 64"):
        Trainer(Network([10, 10, 1]), kernel="unrolled")
    net = Network([2, 3, 1])
    before = net.params.copy()
    with pytest.raises(ValueError, match="kernel 'generic' does not run this fit's features"):
        Trainer(net, optimizer="rprop", kernel="generic").fit(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"kernel .unrolled. does not run .*\(dropout"):
        Trainer(net, dropout=0.5, kernel="unrolled").fit(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"kernel 'generic' does not run .*dropout_in_batches"):
        Trainer(net, dropout=0.5, batch_size=2, kernel="generic").fit(np.ones((4, 2)), np.ones(4))
    assert np.array_equal(net.params, before)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_the_generic_kernel_scores_validation_data_as_the_matrix_kernel_does(batch_size):
    rng = np.random.default_rng(8)
    X, X_val = rng.uniform(-1, 1, (20, 5)), rng.uniform(-1, 1, (9, 5))
    labels, labels_val = rng.integers(0, 3, 20), rng.integers(0, 3, 9)
    results = []
    for kernel in ("generic", "matrix"):
        net = Network([5, 6, 3], activations=["tanh", "softmax"], seed=2)
        trainer = Trainer(
            net,
            learning_rate=0.2,
            batch_size=batch_size,
            loss="cross_entropy",
            seed=4,
            kernel=kernel,
        )
        history = trainer.fit(
            X, labels, epochs=6, metrics=["accuracy", "mse"], validation_data=(X_val, labels_val)
        )
        results.append((net.params, history))
    (generic_params, generic), (matrix_params, matrix) = results
    np.testing.assert_allclose(generic_params, matrix_params, rtol=1e-12, atol=1e-15)
    assert set(generic) == set(matrix) >= {"val_loss", "val_accuracy", "val_mse"}
    for name in generic:
        np.testing.assert_allclose(generic[name], matrix[name], rtol=1e-12, atol=1e-15)
    assert _kernels.choose(Network([64, 128, 10]), 1, 10, ["validation"]) == "generic"


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 40), min_size=2, max_size=4),
    hidden=st.sampled_from(["sigmoid", "tanh", "relu", "identity"]),
    output=st.sampled_from(["sigmoid", "tanh", "relu", "identity", "softmax", "exp"]),
    batch_norm=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_both_predict_kernels_round_alike(sizes, hidden, output, batch_norm, dtype, seed):
    """``predict`` (the forward pass inlined) and ``predict_called`` (compiled apart, which
    larger networks take) give the same bits, so a network's size changes only the speed."""
    if output == "softmax" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    rng = np.random.default_rng(seed)
    activations = [hidden] * (len(sizes) - 2) + [output]
    normalized = batch_norm and len(sizes) > 2
    net = Network(sizes, activations=activations, seed=seed, dtype=dtype, batch_norm=normalized)
    net.params[:] = rng.uniform(-1, 1, net.params.size)
    net.statistics[:] = rng.uniform(0.5, 1.5, net.statistics.size)
    X = rng.normal(size=(20, sizes[0])).astype(dtype)
    outputs = []
    for kernel in (predict.predict, predict.predict_called):
        out = np.empty((20, sizes[-1]), dtype=dtype)
        acts = aligned_zeros(activation_width(net.layout), dtype)
        epsilon = net.dtype.type(net.norm_epsilon)
        kernel(net.params, net.layout, X, acts, out, net.statistics, epsilon)
        outputs.append(out)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    chosen = predict.for_sizes(tuple(sizes))
    weights = sum(a * b for a, b in itertools.pairwise(sizes))
    assert (chosen is predict.predict) == (weights <= predict.INLINED_MAX_WEIGHTS)
