"""Sparse input: a SciPy sparse matrix trains and predicts as its dense copy does, from its
stored values alone (``fastbp._sparse``, ``kernels.csr``), and bad sparse input is refused by
name before any kernel runs."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastbp import Ensemble, Network, Trainer, _sparse
from fastbp.optimizers import SGD, Adam
from fastbp.scaling import Standardization

# The equivalence contract, as tests/test_features.py holds fits to the reference; and how
# far a fit started 1e-13 away may end for the draw to be one rounding cannot decide.
CONTRACT = {"rtol": 1e-9, "atol": 1e-12}
NUDGE = 1e-13
ROUNDING_MARGIN = {"rtol": 1e-10, "atol": 1e-13}


def sparse_data(n_samples, n_inputs, n_outputs, density, seed):
    """A CSR matrix of about ``density`` stored values, its first row all zeros, and
    targets."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_samples, n_inputs))
    values[rng.random(values.shape) >= density] = 0.0
    values[0] = 0.0
    return scipy.sparse.csr_matrix(values), rng.normal(size=(n_samples, n_outputs))


OPTIMIZERS = {
    "sgd": SGD(),
    "momentum": SGD(momentum=0.9),
    "nesterov": SGD(momentum=0.9, nesterov=True),
    "adam": Adam(),
}


@st.composite
def fits(draw):
    hidden = draw(st.lists(st.integers(1, 12), min_size=1, max_size=2))
    return {
        "sizes": [draw(st.integers(2, 30)), *hidden, 2],
        "activation": draw(st.sampled_from(["sigmoid", "tanh", "relu"])),
        "batch_size": draw(st.sampled_from([1, 3, 16, None])),
        "optimizer": draw(st.sampled_from(sorted(OPTIMIZERS))),
        "l2": draw(st.sampled_from([0.0, 0.01])),
        "weighted": draw(st.booleans()),
        "shuffle": draw(st.booleans()),
        "validation": draw(st.sampled_from([None, "fraction", "data"])),
        "density": draw(st.sampled_from([0.05, 0.3, 1.0])),
        "n_samples": draw(st.integers(5, 40)),
        "epochs": draw(st.integers(1, 3)),
        "seed": draw(st.integers(0, 2**16)),
    }


def fit(config, X, Y, nudge=0.0):
    sizes = config["sizes"]
    activations = [config["activation"]] * (len(sizes) - 2) + ["identity"]
    net = Network(sizes, activations=activations, seed=config["seed"])
    if nudge:
        rng = np.random.default_rng(0)
        net.params[:] *= 1 + nudge * rng.uniform(-1, 1, net.params.shape)
    trainer = Trainer(
        net,
        learning_rate=0.05,
        batch_size=config["batch_size"],
        optimizer=OPTIMIZERS[config["optimizer"]],
        l2=config["l2"],
        shuffle=config["shuffle"],
        seed=config["seed"],
        kernel="matrix",
    )
    options = {}
    if config["weighted"]:
        options["sample_weight"] = np.linspace(0.5, 1.5, X.shape[0])
    if config["validation"] == "fraction":
        options["validation_fraction"] = 0.25
    elif config["validation"] == "data":
        options["validation_data"] = (X[: max(2, X.shape[0] // 3)], Y[: max(2, X.shape[0] // 3)])
    history = trainer.fit(X, Y, epochs=config["epochs"], **options)
    return net, history


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fits())
def test_a_sparse_matrix_trains_as_its_dense_copy(config):
    """On every batch size (1, mini-batches, the full batch), optimizer, L2, weights, shuffle
    and validation, held out or given sparse; rows of zeros included."""
    X, Y = sparse_data(
        config["n_samples"], config["sizes"][0], 2, config["density"], config["seed"]
    )
    dense, dense_history = fit(config, X.toarray(), Y)
    nudged, _ = fit(config, X.toarray(), Y, nudge=NUDGE)
    assume(np.allclose(nudged.params, dense.params, **ROUNDING_MARGIN))
    sparse, sparse_history = fit(config, X, Y)
    np.testing.assert_allclose(sparse.params, dense.params, **CONTRACT)
    for name in dense_history.keys():
        np.testing.assert_allclose(sparse_history[name], dense_history[name], **CONTRACT)
    np.testing.assert_allclose(sparse.predict(X), sparse.predict(X.toarray()), **CONTRACT)


def test_every_sparse_format_and_index_type_gives_the_csr_result():
    X, Y = sparse_data(30, 12, 2, 0.3, 1)
    config = {
        "sizes": [12, 6, 2], "activation": "tanh", "batch_size": 8, "optimizer": "adam",
        "l2": 0.01, "weighted": False, "shuffle": True, "validation": None, "epochs": 2, "seed": 3,
    }  # fmt: skip
    expected, _ = fit(config, X, Y)
    wide = scipy.sparse.csr_matrix(
        (X.data, X.indices.astype(np.int64), X.indptr.astype(np.int64)), shape=X.shape
    )
    for given_X in (X.tocsc(), X.tocoo(), scipy.sparse.csr_array(X), wide):
        got, _ = fit(config, given_X, Y)
        np.testing.assert_allclose(got.params, expected.params, **CONTRACT)


def test_unsorted_and_duplicate_indices_are_summed_as_the_dense_matrix_is():
    # Row 0 stores column 2 twice (1.5 and 0.5) and its columns out of order.
    X = scipy.sparse.csr_matrix(
        (np.array([1.5, -1.0, 0.5, 2.0]), np.array([2, 0, 2, 1]), np.array([0, 3, 4])),
        shape=(2, 3),
    )
    assert not X.has_canonical_format
    net = Network([3, 4, 1], seed=0)
    np.testing.assert_allclose(net.predict(X), net.predict(X.toarray()), **CONTRACT)
    np.testing.assert_array_equal(X.toarray(), [[-1.0, 0.0, 2.0], [0.0, 2.0, 0.0]])


def test_a_canonical_csr_matrix_of_the_networks_dtype_is_not_copied():
    X, _ = sparse_data(20, 5, 1, 0.3, 0)
    checked = _sparse.as_csr(X, "X", np.float64, 5)
    assert checked.data is X.data and checked.indices is X.indices
    assert _sparse.as_csr(X, "X", np.float32, 5).data.dtype == np.float32


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (scipy.sparse.csr_matrix(([np.nan], [1], [0, 0, 1]), shape=(2, 3)), ValueError,
         r"X must be finite; found nan at row 1, column 1"),
        (scipy.sparse.csr_matrix(([np.inf], [2], [0, 1, 1]), shape=(2, 3)), ValueError,
         r"X must be finite; found inf at row 0, column 2"),
        (scipy.sparse.csr_matrix((0, 3)), ValueError, "X has no samples"),
        (scipy.sparse.csr_matrix((2, 4)), ValueError, "X has 4 columns, but the network expects 3"),
        (scipy.sparse.csr_matrix(np.ones((2, 3)) * 1j), TypeError, "X must be real"),
    ],
)  # fmt: skip
def test_bad_sparse_input_is_refused_by_name(bad, error, message):
    net = Network([3, 4, 1], seed=0)
    before = net.params.copy()
    with pytest.raises(error, match=message):
        Trainer(net, batch_size=2).fit(bad, np.zeros((bad.shape[0], 1)), epochs=1)
    np.testing.assert_array_equal(net.params, before)


def test_paths_without_sparse_rows_say_so_before_any_kernel_runs():
    X, Y = sparse_data(10, 3, 1, 0.5, 0)
    net = Network([3, 4, 1], seed=0)
    with pytest.raises(ValueError, match=r"kernel 'generic' does not run this fit's features \("):
        Trainer(net, batch_size=2, kernel="generic").fit(X, Y, epochs=1)
    with pytest.raises(ValueError, match="an Ensemble's fit does not run sparse"):
        Trainer(Ensemble.from_seeds([3, 4, 1], [0, 1]), batch_size=2).fit(X, Y, epochs=1)
    scaled = Network([3, 4, 1], seed=0)
    scaled.scaling = Standardization(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="X is sparse, but the network standardizes its inputs"):
        scaled.predict(X)
    with pytest.raises(TypeError, match=r"X is a sparse matrix, which this takes only dense"):
        net.inputs(X)
