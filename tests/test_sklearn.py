"""fastbp.sklearn's estimators against scikit-learn's own, fitted from the same random state.

Every comparison runs scikit-learn itself: the same data, parameters and ``random_state``
must give the same initial weights, the same epochs and so the same ``coefs_``,
``intercepts_``, ``loss_curve_``, ``n_iter_`` and validation scores, to a relative 1e-9
(float64; the two differ only in rounding: summation order inside BLAS and the loss).
"""

import pickle
import re
import signal
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rounding import TOLERANCE, assert_close, error_scales
from sklearn import neural_network
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastbp import (
    FitInterruptedWarning,
    Network,
    Trainer,
    _chunks,
    _full_batch,
    load,
    reference,
)
from fastbp._full_batch import FullBatch
from fastbp.sklearn import MLPClassifier, MLPRegressor

# Both libraries warn when max_iter ends a fit; the tests that count epochs compare n_iter_.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RTOL = 1e-9
ATOL = 1e-13  # for values that cancel to about 0 (an intercept, a rounding-sized loss change)
OURS = {"classifier": MLPClassifier, "regressor": MLPRegressor}
THEIRS = {"classifier": neural_network.MLPClassifier, "regressor": neural_network.MLPRegressor}


def data(kind, n_samples=53, seed=0):
    """Features and targets of ``kind``: multiclass, binary, multilabel, regression (one
    output) or regression2 (two)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 5))
    classes = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    targets = {
        "multiclass": classes,
        "binary": np.where(classes > 0, "yes", "no"),
        "multilabel": np.column_stack([classes == 0, classes == 1, X[:, 3] > 0]).astype(int),
        "regression": X @ rng.normal(size=5) + 0.1 * rng.normal(size=n_samples),
        "regression2": np.column_stack([X @ rng.normal(size=5), np.sin(X[:, 0])]),
        # Counts, zeros among them, for loss="poisson".
        "counts": rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])).astype(float),
        "counts2": rng.poisson(np.exp(np.column_stack([0.4 * X[:, 2], -0.5 * X[:, 3]]))),
    }
    return X, targets[kind]


def estimator_kind(kind):
    return "regressor" if kind.startswith(("regression", "counts")) else "classifier"


def fit_both(kind, params, sample_weight=None, n_samples=53):
    X, y = data(kind, n_samples)
    role = estimator_kind(kind)
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}
    fitted, warned = [], []
    for library in (OURS, THEIRS):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted.append(library[role](**params).fit(X, y, **weights))
        warned.append([(w.category, str(w.message)) for w in caught])
    assert warned[0] == warned[1]  # the same warnings: max_iter reached, a batch_size clipped
    return fitted


def assert_same_fit(ours, theirs):
    """Everything a fit reports, ours against scikit-learn's."""
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.n_layers_ == theirs.n_layers_ and ours.n_outputs_ == theirs.n_outputs_
    assert ours.out_activation_ == theirs.out_activation_
    assert len(ours.coefs_) == len(theirs.coefs_)
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True)
    for actual, expected in pairs:
        assert actual.dtype == expected.dtype
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=RTOL)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=RTOL)
    if theirs.best_loss_ is None:
        assert ours.best_loss_ is None
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=RTOL)
    if theirs.validation_scores_ is None:
        assert ours.validation_scores_ is None and ours.best_validation_score_ is None
    else:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=RTOL)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=RTOL)
    if hasattr(theirs, "classes_"):
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)


BASE = {"hidden_layer_sizes": (7, 4), "random_state": 3, "max_iter": 40, "shuffle": False}
CASES = [
    ("multiclass", {"solver": "sgd", "learning_rate_init": 0.05}),
    ("multiclass", {"solver": "sgd", "momentum": 0.0, "learning_rate_init": 0.1}),
    ("binary", {"solver": "sgd", "nesterovs_momentum": False, "learning_rate_init": 0.05}),
    ("multilabel", {"solver": "adam", "learning_rate_init": 0.01}),
    ("regression", {"solver": "adam", "learning_rate_init": 0.01}),
    ("regression2", {"solver": "sgd", "learning_rate_init": 0.005}),
    # Every activation, with alpha > 0 and a short last batch (53 = 5 * 10 + 3): scikit-learn
    # adds alpha * W to the summed gradient and divides by the batch's actual size.
    ("multiclass", {"activation": "logistic", "alpha": 0.1, "batch_size": 10}),
    ("regression2", {"activation": "tanh", "alpha": 1.0, "batch_size": 10, "solver": "sgd"}),
    ("binary", {"activation": "identity", "alpha": 0.5, "batch_size": 25}),
    ("regression", {"activation": "relu", "alpha": 0.3, "batch_size": 1, "max_iter": 5}),
    # Schedules: invscaling counts the samples seen, adaptive divides by 5 on a stall.
    ("multiclass", {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.5}),
    ("regression", {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.25}),
    (
        "binary",
        {"solver": "sgd", "learning_rate": "adaptive", "learning_rate_init": 0.2, "tol": 1e-2},
    ),
    # Stopping on tol after n_iter_no_change epochs, well before max_iter.
    ("regression", {"tol": 0.5, "n_iter_no_change": 2, "learning_rate_init": 0.01}),
    ("multiclass", {"tol": 1e-2, "n_iter_no_change": 3, "max_iter": 200}),
    # Early stopping: scikit-learn's held-out split (stratified for a binary classifier) and
    # its validation scores, accuracy or R2.
    ("binary", {"early_stopping": True, "validation_fraction": 0.2}),
    ("multiclass", {"early_stopping": True, "n_iter_no_change": 2}),
    ("multilabel", {"early_stopping": True}),
    ("regression2", {"early_stopping": True, "learning_rate_init": 0.01}),
    # Shuffled: the order is scikit-learn's, drawn from the same random state.
    ("multiclass", {"shuffle": True, "batch_size": 8}),
    ("regression", {"shuffle": True, "early_stopping": True, "solver": "sgd"}),
    # No hidden layer; several.
    ("multiclass", {"hidden_layer_sizes": ()}),
    ("regression", {"hidden_layer_sizes": [6, 5, 4], "learning_rate_init": 0.01}),
]


@pytest.mark.parametrize(("kind", "params"), CASES)
def test_the_same_training_as_scikit_learn(kind, params):
    ours, theirs = fit_both(kind, {**BASE, **params})
    assert_same_fit(ours, theirs)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("multiclass", {"batch_size": 10, "alpha": 0.2}),
        ("binary", {"solver": "sgd", "early_stopping": True, "shuffle": True}),
        ("regression2", {"batch_size": 7, "alpha": 0.5}),
    ],
)
def test_sample_weight_as_scikit_learn_weighs_the_batches(kind, params):
    """scikit-learn multiplies each example's delta by its weight and divides each batch's
    gradient (and alpha) by the batch's summed weight; its loss weighs each batch's weighted
    mean by the batch's size."""
    weights = np.random.default_rng(5).uniform(0.1, 3.0, 53)
    ours, theirs = fit_both(kind, {**BASE, **params}, sample_weight=weights)
    assert_same_fit(ours, theirs)


@st.composite
def estimator_settings(draw):
    kind = draw(
        st.sampled_from(["multiclass", "binary", "multilabel", "regression", "regression2"])
    )
    solver = draw(st.sampled_from(["sgd", "adam"]))
    params = {
        "hidden_layer_sizes": tuple(draw(st.lists(st.integers(1, 12), max_size=3))),
        "activation": draw(st.sampled_from(["identity", "logistic", "tanh", "relu"])),
        "solver": solver,
        "alpha": draw(st.sampled_from([0.0, 1e-4, 0.1, 1.0])),
        "batch_size": draw(st.sampled_from(["auto", 1, 4, 10, 29])),
        "learning_rate_init": draw(st.sampled_from([0.001, 0.01, 0.03])),
        "max_iter": draw(st.integers(1, 15)),
        "shuffle": draw(st.booleans()),
        "random_state": draw(st.integers(0, 2**31 - 1)),
        "tol": draw(st.sampled_from([0.0, 1e-4, 1e-2])),
        "n_iter_no_change": draw(st.integers(1, 4)),
        "early_stopping": draw(st.booleans()),
    }
    if solver == "sgd":
        params["learning_rate"] = draw(st.sampled_from(["constant", "invscaling", "adaptive"]))
        params["momentum"] = draw(st.sampled_from([0.0, 0.5, 0.9]))
        params["nesterovs_momentum"] = draw(st.booleans())
    else:
        params["beta_1"] = draw(st.sampled_from([0.0, 0.9]))
    weighted = draw(st.booleans())
    return kind, params, weighted, draw(st.integers(12, 40))


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=estimator_settings())
def test_drawn_settings_train_as_scikit_learn(drawn):
    kind, params, weighted, n_samples = drawn
    weights = np.random.default_rng(n_samples).uniform(0.2, 2.0, n_samples) if weighted else None
    ours, theirs = fit_both(kind, params, sample_weight=weights, n_samples=n_samples)
    assert_same_fit(ours, theirs)


def test_initial_weights_are_scikit_learns_glorot_draws():
    # One epoch of a learning rate so small the weights stay their draws to 1e-12.
    for activation in ("relu", "logistic"):
        params = {**BASE, "max_iter": 1, "learning_rate_init": 1e-12, "activation": activation}
        ours, theirs = fit_both("multiclass", params)
        assert_same_fit(ours, theirs)
        # Glorot uniform: the bound sqrt(factor / (fan_in + fan_out)), factor 2 for logistic.
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / (5 + 7))
        assert np.abs(ours.coefs_[0]).max() <= bound
        assert np.abs(ours.coefs_[0]).max() > 0.9 * bound


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_continues_as_scikit_learn(solver):
    X, y = data("multiclass")
    params = {**BASE, "solver": solver, "learning_rate": "invscaling"}
    ours, theirs = MLPClassifier(**params), neural_network.MLPClassifier(**params)
    for start in range(0, 50, 10):
        rows = slice(start, start + 10)
        for estimator in (ours, theirs):
            estimator.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        assert_same_fit(ours, theirs)
    X, y = data("regression2")
    ours, theirs = MLPRegressor(**params), neural_network.MLPRegressor(**params)
    for _ in range(3):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    assert_same_fit(ours, theirs)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_continues_as_scikit_learn(solver):
    params = {**BASE, "solver": solver, "warm_start": True, "max_iter": 10}
    params["learning_rate"] = "invscaling"
    for kind in ("multiclass", "regression"):
        X, y = data(kind)
        role = estimator_kind(kind)
        ours, theirs = OURS[role](**params), THEIRS[role](**params)
        for _ in range(3):
            ours.fit(X, y)
            theirs.fit(X, y)
            assert_same_fit(ours, theirs)


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_classifier_predictions_are_scikit_learns(kind):
    ours, theirs = fit_both(kind, BASE)
    X_new = np.random.default_rng(9).normal(size=(20, 5))
    np.testing.assert_array_equal(ours.predict(X_new), theirs.predict(X_new))
    np.testing.assert_allclose(ours.predict_proba(X_new), theirs.predict_proba(X_new), RTOL)
    np.testing.assert_allclose(ours.predict_log_proba(X_new), theirs.predict_log_proba(X_new), RTOL)
    X, y = data(kind)
    assert ours.score(X, y) == theirs.score(X, y)


@pytest.mark.parametrize("kind", ["regression", "regression2"])
def test_regressor_predictions_are_scikit_learns(kind):
    ours, theirs = fit_both(kind, BASE)
    X, y = data(kind)
    assert ours.predict(X).shape == theirs.predict(X).shape
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), RTOL)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=RTOL)


def test_float32_data_train_in_float32():
    # scikit-learn keeps float32 data in float32 but mixes in float64 where its targets are;
    # fastbp trains wholly in float32, so the two agree to float32's precision.
    X, y = data("multiclass")
    X = X.astype(np.float32)
    ours = MLPClassifier(**BASE).fit(X, y)
    theirs = neural_network.MLPClassifier(**BASE).fit(X, y)
    assert ours.network_.dtype == np.float32 and ours.coefs_[0].dtype == np.float32
    for actual, expected in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-5)


def test_fitted_attributes_and_the_network():
    X, y = data("multiclass")
    clf = MLPClassifier(**BASE).fit(X, y)
    for name in (
        "classes_",
        "n_features_in_",
        "coefs_",
        "intercepts_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
        "loss_",
        "best_loss_",
        "loss_curve_",
        "validation_scores_",
        "best_validation_score_",
        "n_iter_",
        "t_",
        "network_",
    ):
        assert hasattr(clf, name), name
    assert clf.n_features_in_ == 5 and clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert not hasattr(clf, "feature_names_in_")  # no names given
    # coefs_ and intercepts_ are views into the network's parameters.
    np.testing.assert_allclose(clf.network_.predict(X), clf.predict_proba(X), rtol=1e-12)
    clf.coefs_[0][:] = 0.0
    assert not clf.network_.weights[0].any()


def test_network_saves_and_loads_with_the_same_predictions(tmp_path):
    X, y = data("multiclass")
    clf = MLPClassifier(**BASE).fit(X, y)
    clf.network_.save(tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")
    # Its weights came from scikit-learn's draw, not from one of fastbp's initializations.
    assert "init='given', seed=None" in repr(loaded) == repr(clf.network_)
    np.testing.assert_array_equal(loaded.params, clf.network_.params)
    np.testing.assert_array_equal(loaded.predict(X), clf.network_.predict(X))
    # One record in the network's metadata for the whole fit.
    assert len(clf.network_.metadata["fits"]) == 1
    assert clf.network_.metadata["fits"][0]["epochs"] == clf.n_iter_


def test_feature_names_are_kept_and_checked():
    pandas = pytest.importorskip("pandas")
    X, y = data("regression")
    frame = pandas.DataFrame(X, columns=list("abcde"))
    reg = MLPRegressor(**BASE).fit(frame, y)
    np.testing.assert_array_equal(reg.feature_names_in_, list("abcde"))
    np.testing.assert_allclose(reg.predict(frame), reg.network_.predict(X)[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="The feature names should match"):
        reg.predict(frame[list("edcba")])


def test_convergence_warning_when_max_iter_ends_the_fit():
    X, y = data("regression")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
            MLPRegressor(**{**BASE, "max_iter": 3}).fit(X, y)


def bad_input_errors(make, action):
    """The exception type and message of ``action(estimator)`` for ours and theirs."""
    outcomes = []
    for library in (OURS, THEIRS):
        estimator = make(library)
        with pytest.raises(Exception) as raised:  # the type and message are compared below
            action(estimator)
        outcomes.append((type(raised.value), str(raised.value)))
    return outcomes


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": -1.0},
        {"hidden_layer_sizes": (3, 0)},
        {"activation": "softplus"},
        {"solver": "rmsprop"},
        {"batch_size": 0},
        {"learning_rate": "cosine"},
        {"learning_rate_init": 0.0},
        {"max_iter": 0},
        {"momentum": 1.5},
        {"validation_fraction": 1.0},
        {"beta_1": 1.0},
        {"epsilon": 0.0},
        {"n_iter_no_change": 0},
        {"shuffle": "yes"},
    ],
)
def test_bad_parameters_raise_scikit_learns_errors_at_fit(params):
    X, y = data("multiclass")
    ours = MLPClassifier(**params)  # nothing is checked before fit
    outcomes = bad_input_errors(
        lambda library: library["classifier"](**params), lambda estimator: estimator.fit(X, y)
    )
    assert outcomes[0] == outcomes[1]
    assert not hasattr(ours, "network_")


@pytest.mark.parametrize(
    "bad",
    [
        "nan",
        "inf",
        "complex",
        "strings",
        "one_dimensional",
        "lengths",
    ],
)
def test_bad_data_raise_scikit_learns_errors(bad):
    X, y = data("multiclass")
    if bad == "nan":
        X = X.copy()
        X[3, 2] = np.nan
    elif bad == "inf":
        X = X.copy()
        X[0, 0] = np.inf
    elif bad == "complex":
        X = X + 1j
    elif bad == "strings":
        X = np.full(X.shape, "a")
    elif bad == "one_dimensional":
        X = X[:, 0]
    else:
        y = y[:-1]
    outcomes = bad_input_errors(
        lambda library: library["classifier"](**BASE), lambda estimator: estimator.fit(X, y)
    )
    assert outcomes[0] == outcomes[1]


def test_predicting_with_the_wrong_features_or_unfitted_raises_as_scikit_learn():
    X, y = data("multiclass")

    def fitted(library):
        return library["classifier"](**BASE).fit(X, y)

    for action in (
        lambda estimator: estimator.predict(X[:, :4]),
        lambda estimator: estimator.predict_proba(np.full((2, 5), np.nan)),
    ):
        outcomes = bad_input_errors(fitted, action)
        assert outcomes[0] == outcomes[1]
    outcomes = bad_input_errors(
        lambda library: library["regressor"](), lambda estimator: estimator.predict(X)
    )
    assert outcomes[0][0] == outcomes[1][0]  # NotFittedError, naming its own class
    assert "MLPRegressor instance is not fitted yet" in outcomes[0][1]


def test_partial_fit_errors_are_scikit_learns():
    X, y = data("multiclass")

    def partial(library):
        return library["classifier"](**BASE).partial_fit(X, y, classes=[0, 1, 2])

    for make, action in (
        (lambda library: library["classifier"](**BASE), lambda e: e.partial_fit(X, y)),
        (partial, lambda e: e.partial_fit(X, y + 1)),  # a label it has never seen
        (partial, lambda e: e.partial_fit(X, y, classes=[0, 1])),
        (
            lambda library: library["classifier"](early_stopping=True),
            lambda e: e.partial_fit(X, y, classes=[0, 1, 2]),
        ),
    ):
        outcomes = bad_input_errors(make, action)
        assert outcomes[0] == outcomes[1]
    # lbfgs has no partial_fit: the attribute itself is refused.
    outcomes = bad_input_errors(
        lambda library: library["classifier"](solver="lbfgs"),
        lambda estimator: estimator.partial_fit,
    )
    assert outcomes[0] == outcomes[1] and outcomes[0][0] is AttributeError


def test_a_failed_fit_leaves_a_fitted_estimator_as_it_was():
    X, y = data("multiclass")
    clf = MLPClassifier(**{**BASE, "warm_start": True}).fit(X, y)
    before = {name: value for name, value in vars(clf).items() if name != "network_"}
    params = clf.network_.params.copy()
    proba = clf.predict_proba(X)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        clf.fit(X, y + 5)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.fit(np.full_like(X, np.nan), y)
    # A learning rate this large diverges: scikit-learn's error, and nothing changes.
    clf.set_params(learning_rate_init=1e12, solver="sgd")
    X_large = X * 1e100
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        clf.fit(X_large, y)
    assert {name: value for name, value in vars(clf).items() if name != "network_"}.keys() == (
        before.keys()
    )
    np.testing.assert_array_equal(clf.network_.params, params)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.loss_curve_ == before["loss_curve_"] and clf.n_iter_ == before["n_iter_"]


# loss="poisson": an exp output, half the Poisson deviance summed over the outputs, and the
# delta o - t, as scikit-learn's MLPRegressor; counts of one output and of two.
POISSON_CASES = [
    ("counts", {"solver": "adam", "learning_rate_init": 0.01}),
    ("counts", {"solver": "sgd", "learning_rate_init": 0.01, "shuffle": True, "alpha": 0.3}),
    ("counts2", {"solver": "sgd", "learning_rate": "adaptive", "learning_rate_init": 0.01}),
    ("counts2", {"solver": "adam", "early_stopping": True, "batch_size": 16, "max_iter": 25}),
    ("counts", {"solver": "adam", "activation": "tanh", "weighted": True}),
]


@pytest.mark.parametrize(("kind", "params"), POISSON_CASES)
def test_poisson_regression_as_scikit_learns(kind, params):
    params = {**BASE, "loss": "poisson", **params}
    weighted = params.pop("weighted", False)
    weights = np.random.default_rng(4).uniform(0.1, 2.0, 53) if weighted else None
    ours, theirs = fit_both(kind, params, sample_weight=weights)
    assert_same_fit(ours, theirs)
    assert ours.out_activation_ == "exp" and ours.network_.activations[-1] == "exp"
    X, _ = data(kind)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=RTOL)


# lbfgs: SciPy's L-BFGS-B on the same objective. Two implementations of one L-BFGS run part
# as their rounding differences grow (about tenfold every 20 iterations on these data, as
# for any non-convex problem), so the cases are runs that converge or stop early enough.
LBFGS_CASES = [
    ("multiclass", {}),  # converges in 29 iterations
    ("multiclass", {"alpha": 0.5}),
    ("binary", {"activation": "tanh"}),
    ("multilabel", {"activation": "tanh", "max_iter": 40}),
    ("regression", {"max_iter": 60}),
    ("regression2", {"alpha": 0.5, "max_iter": 40}),
    ("regression", {"activation": "logistic", "max_iter": 30, "weighted": True}),
    ("counts", {"loss": "poisson", "max_iter": 40}),
    ("counts2", {"loss": "poisson", "activation": "tanh", "alpha": 0.5, "max_iter": 30}),
]


@pytest.mark.parametrize(("kind", "params"), LBFGS_CASES)
def test_lbfgs_reaches_scikit_learns_loss(kind, params):
    params = {"solver": "lbfgs", "hidden_layer_sizes": (7,), "random_state": 0, **params}
    weighted = params.pop("weighted", False)
    weights = np.random.default_rng(2).uniform(0.1, 2.0, 53) if weighted else None
    ours, theirs = fit_both(kind, params, sample_weight=weights)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_ == 0
    assert abs(ours.loss_ - theirs.loss_) <= 1e-6 * theirs.loss_
    for actual, expected in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-8)
    # Like scikit-learn's, an lbfgs fit keeps no record of epochs.
    for name in ("loss_curve_", "best_loss_", "validation_scores_"):
        assert not hasattr(ours, name) and not hasattr(theirs, name)


def test_lbfgs_warm_start_and_the_regressors_partial_fit_continue_as_scikit_learn():
    params = {"solver": "lbfgs", "hidden_layer_sizes": (7,), "random_state": 0, "max_iter": 15}
    X, y = data("regression2")
    ours, theirs = MLPRegressor(**params), neural_network.MLPRegressor(**params)
    for _ in range(3):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    X, y = data("multiclass")
    ours = MLPClassifier(**params, warm_start=True)
    theirs = neural_network.MLPClassifier(**params, warm_start=True)
    for _ in range(2):
        ours.fit(X, y)
        theirs.fit(X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    hidden=st.sampled_from(["sigmoid", "tanh", "relu", "identity"]),
    output=st.sampled_from(["identity", "sigmoid", "softmax"]),
    n_samples=st.sampled_from([1, 7, 300, 600]),
    weighted=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_full_batch_gradient_is_the_references(sizes, hidden, output, n_samples, weighted, seed):
    """The full-batch kernel (in blocks of rows) against ``fastbp.reference.gradients`` on
    the whole batch at once; 300 and 600 rows run in several blocks of 256."""
    rng = np.random.default_rng(seed)
    if output == "softmax" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    net = Network(sizes, activations=[hidden] * (len(sizes) - 2) + [output], seed=seed % 2**32)
    for bias in net.biases:
        bias[:] = rng.uniform(-0.5, 0.5, bias.shape)
    loss = "squared_error" if output == "identity" else "cross_entropy"
    X = rng.normal(size=(n_samples, sizes[0]))
    Y = rng.uniform(0, 1, (n_samples, sizes[-1]))
    if output == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n_samples)]
    weights = rng.uniform(0, 2, n_samples) if weighted else None
    total, gradient = FullBatch(net, X, Y, weights, loss)(net.params)
    weight_grads, bias_grads, layers, _ = reference.gradients(
        list(net.weights), list(net.biases), list(net.activations), X, Y, loss, weights
    )
    expected = reference.flatten(weight_grads, bias_grads, [None] * len(weight_grads))
    np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-12)
    losses = reference.example_losses(layers[-1], Y, output, loss)
    expected_total = np.sum(losses if weights is None else weights * losses)
    assert total == pytest.approx(expected_total, rel=1e-12)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 40), min_size=2, max_size=4),
    hidden=st.sampled_from(["sigmoid", "tanh", "relu", "identity"]),
    output=st.sampled_from(["identity", "sigmoid", "softmax", "tanh"]),
    batch_norm=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
    n_rows=st.sampled_from([1, 5, 300, 700]),
    seed=st.integers(0, 2**32 - 1),
)
# A draw whose sparse float32 output (-0.00988, summed from terms of about 1) differed from
# predict's by 1.4e-4 of itself: 1.4e-6 absolute, a few units in the last place of its terms.
@example(
    sizes=[5, 22, 9],
    hidden="identity",
    output="identity",
    batch_norm=False,
    dtype=np.float32,
    n_rows=300,
    seed=0,
)
def test_blas_predict_is_network_predict(sizes, hidden, output, batch_norm, dtype, n_rows, seed):
    """The estimators' forward pass (a block of 256 rows, a BLAS call per layer) against
    ``Network.predict`` (row by row): to rounding, batch normalization's running statistics
    included, dense or sparse. Rounding is relative to the magnitude of the terms each
    output sums (``rounding.error_scales``), not to the output, which cancellation can make
    arbitrarily small."""
    rng = np.random.default_rng(seed)
    if output == "softmax" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    normalized = batch_norm and len(sizes) > 2
    activations = [hidden] * (len(sizes) - 2) + [output]
    net = Network(sizes, activations=activations, seed=seed, dtype=dtype, batch_norm=normalized)
    net.params[:] = rng.uniform(-1, 1, net.params.size)
    net.statistics[:] = rng.uniform(0.5, 1.5, net.statistics.size)
    X = rng.normal(size=(n_rows, sizes[0]))
    tolerance = TOLERANCE[np.dtype(dtype)]
    scale, _ = error_scales(net, X)
    assert_close(_full_batch.predict(net, X), net.predict(X), scale, tolerance, "dense")
    sparse = scipy.sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    dense = sparse.toarray()
    scale, _ = error_scales(net, dense)
    assert_close(_full_batch.predict(net, sparse), net.predict(dense), scale, tolerance, "sparse")


@pytest.mark.parametrize(
    ("role", "params", "message"),
    [
        ("regressor", {"loss": "poisson"}, "y must be non-negative for loss='poisson'"),
        ("classifier", {"solver": "sgd", "momentum": 1.0}, "momentum must be below 1"),
    ],
)
def test_what_is_not_supported_yet_says_so(role, params, message):
    X, y = data("multiclass")
    y = y - 1  # -1, 0, 1: labels to a classifier, a negative count to loss='poisson'
    with pytest.raises(ValueError, match=message):
        OURS[role](**params).fit(X, y)


def test_fastbp_parameters_change_nothing_at_their_defaults_and_train_when_set():
    X, y = data("multiclass")
    params = {**BASE, "solver": "sgd", "learning_rate_init": 0.1}
    default = MLPClassifier(**params).fit(X, y)
    # Clipping at limits never reached runs the clipping code and changes no bit.
    unclipped = MLPClassifier(**params, clip_value=1e300, clip_norm=1e300).fit(X, y)
    np.testing.assert_array_equal(unclipped.network_.params, default.network_.params)
    clipped = MLPClassifier(**params, clip_norm=1e-3).fit(X, y)
    assert not np.allclose(clipped.network_.params, default.network_.params, rtol=1e-3)
    # Threads train the same network (to BLAS's rounding, which depends on the rows a
    # call gets).
    threaded = MLPClassifier(**params, threads=2).fit(X, y)
    np.testing.assert_allclose(threaded.coefs_[0], default.coefs_[0], rtol=1e-9, atol=1e-12)
    # Dropout: reproducible from random_state, and off in predict.
    dropped = [MLPClassifier(**params, dropout=0.3).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(dropped[0].network_.params, dropped[1].network_.params)
    assert not np.allclose(dropped[0].network_.params, default.network_.params, rtol=1e-3)
    np.testing.assert_array_equal(dropped[0].predict_proba(X), dropped[0].predict_proba(X))
    # Batch normalization of the hidden layers; predict uses the running statistics.
    normalized = MLPClassifier(**params, batch_norm=True).fit(X, y)
    assert normalized.network_.batch_norm == (True, True, False)
    expected = normalized.network_.predict(X)
    np.testing.assert_allclose(normalized.predict_proba(X), expected, rtol=1e-12)
    assert normalized.score(X, y) > 0.7
    # float32 training of float64 data.
    single = MLPClassifier(**params, dtype="float32").fit(X, y)
    assert single.network_.dtype == np.float32 and single.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(single.coefs_[0], default.coefs_[0], rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="dtype must be None, float32 or float64"):
        MLPClassifier(dtype=np.int64).fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs' minimizes the loss of the whole"):
        MLPClassifier(solver="lbfgs", batch_norm=True).fit(X, y)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("multiclass", {"batch_size": 10, "alpha": 0.1}),
        ("binary", {"shuffle": True, "early_stopping": True, "solver": "sgd"}),
        ("regression2", {"batch_size": 7, "weighted": True}),
        ("multiclass", {"solver": "lbfgs", "max_iter": 30, "weighted": True}),
        ("binary", {"solver": "sgd", "batch_size": 1, "momentum": 0.0, "alpha": 0.0}),
        ("multiclass", {"solver": "sgd", "batch_size": 1, "momentum": 0.0}),
    ],
)
def test_sparse_input_trains_as_scikit_learn_from_its_stored_values(kind, params):
    """CSR and CSC input, taken by the kernels as CSR rows, against scikit-learn's fit of the
    same sparse matrix."""
    X, y = data(kind)
    X = np.where(np.abs(X) > 0.8, X, 0.0)  # sparse: about 40% of the entries are set
    params = {**BASE, **params}
    weighted = params.pop("weighted", False)
    weights = {"sample_weight": np.linspace(0.2, 2.0, 53)} if weighted else {}
    role = estimator_kind(kind)
    theirs = THEIRS[role](**params).fit(scipy.sparse.csr_matrix(X), y, **weights)
    predict = "predict" if role == "regressor" else "predict_proba"
    for layout in (scipy.sparse.csr_matrix, scipy.sparse.csc_array):
        ours = OURS[role](**params).fit(layout(X), y, **weights)
        if params.get("solver") == "lbfgs":
            assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
        else:
            assert_same_fit(ours, theirs)
        expected = getattr(theirs, predict)(X)
        np.testing.assert_allclose(getattr(ours, predict)(layout(X)), expected, rtol=1e-6)


def test_negative_sample_weights_are_refused():
    X, y = data("regression")
    weights = np.ones(len(y))
    weights[4] = -1.0
    with pytest.raises(ValueError, match=r"sample_weight must be non-negative .* at row 4"):
        MLPRegressor(**BASE).fit(X, y, sample_weight=weights)


def test_pickle_round_trip_into_a_fresh_process_predicts_the_same(tmp_path):
    X, y = data("multiclass")
    clf = MLPClassifier(**{**BASE, "solver": "sgd"}).partial_fit(X, y, classes=[0, 1, 2])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, numpy as np, pathlib\n"
        f"folder = pathlib.Path({str(tmp_path)!r})\n"
        "clf = pickle.loads((folder / 'model.pkl').read_bytes())\n"
        "np.save(folder / 'proba.npy', clf.predict_proba(np.load(folder / 'X.npy')))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300, cwd=tmp_path)
    np.testing.assert_array_equal(np.load(tmp_path / "proba.npy"), clf.predict_proba(X))
    # The copy trains on as the original does: the solver's state came along.
    copy = pickle.loads(pickle.dumps(clf))
    assert np.shares_memory(copy.coefs_[0], copy.network_.params)
    for estimator in (clf, copy):
        estimator.partial_fit(X, y)
    np.testing.assert_array_equal(copy.network_.params, clf.network_.params)


def test_import_without_scikit_learn_names_the_extra(tmp_path):
    # Run outside the checkout: its fastbp/ (without the kernels) would shadow the installed
    # package.
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "try:\n    import fastbp.sklearn\n"
        "except ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert ".[sklearn]" in result.stdout and "scikit-learn" in result.stdout


@parametrize_with_checks(
    [MLPClassifier(max_iter=50, random_state=0), MLPRegressor(max_iter=50, random_state=0)]
)
def test_scikit_learn_estimator_checks(estimator, check):
    # Every check passes; scikit-learn itself skips three (array API input without
    # SCIPY_ARRAY_API set, and the classifier's decision_function, which neither has).
    check(estimator)


def test_pipeline_search_and_cross_validation_in_worker_processes():
    X, y = data("multiclass", n_samples=90)
    params = {"hidden_layer_sizes": (6,), "max_iter": 30, "random_state": 0}
    grid = {"mlp__alpha": [1e-4, 0.1], "mlp__learning_rate_init": [0.001, 0.01]}
    results = {}
    for library in (OURS, THEIRS):
        pipeline = Pipeline([("scale", StandardScaler()), ("mlp", library["classifier"](**params))])
        search = GridSearchCV(pipeline, grid, cv=3, n_jobs=2).fit(X, y)
        results[library is OURS] = search.cv_results_["mean_test_score"]
    in_process = GridSearchCV(
        Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(**params))]), grid, cv=3
    ).fit(X, y)
    np.testing.assert_array_equal(results[True], in_process.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(results[True], results[False])  # scikit-learn's own scores
    randomized = RandomizedSearchCV(
        MLPRegressor(**params),
        {"alpha": [1e-4, 1e-3, 1e-2]},
        n_iter=2,
        cv=2,
        n_jobs=2,
        random_state=0,
    ).fit(*data("regression", n_samples=60))
    assert randomized.best_estimator_.n_iter_ == 30
    scores = cross_val_score(MLPRegressor(**params), *data("regression2"), cv=3, n_jobs=2)
    expected = cross_val_score(neural_network.MLPRegressor(**params), *data("regression2"), cv=3)
    np.testing.assert_allclose(scores, expected, rtol=RTOL)


def test_clone_and_set_output():
    reg = MLPRegressor(hidden_layer_sizes=(3,), alpha=0.5, max_iter=5, random_state=1)
    reg.fit(*data("regression"))
    copy = clone(reg)
    assert copy.get_params() == reg.get_params() and not hasattr(copy, "network_")
    pandas = pytest.importorskip("pandas")
    X, y = data("regression")
    frame = pandas.DataFrame(X, columns=list("abcde"))
    pipeline = Pipeline([("scale", StandardScaler()), ("mlp", clone(reg))]).set_output(
        transform="pandas"
    )
    pipeline.fit(frame, y)
    np.testing.assert_array_equal(pipeline[-1].feature_names_in_, list("abcde"))
    assert pipeline.predict(frame).shape == (53,)


def test_the_guides_example_equals_scikit_learns_own(capsys):
    page = Path(__file__).parents[1] / "docs" / "guide" / "sklearn.md"
    readme = page.read_text(encoding="utf-8")
    section = readme[readme.index("# From scikit-learn") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    assert "from fastbp.sklearn import MLPClassifier" in code
    fitted = []
    theirs = code.replace("fastbp.sklearn", "sklearn.neural_network")
    for source in (code, theirs.replace(", clf.network_", "")):
        namespace = {}
        exec(compile(source, "docs/guide/sklearn.md", "exec"), namespace)
        fitted.append(namespace["clf"])
    assert "Network(sizes=[64, 64, 10]" in capsys.readouterr().out
    assert_same_fit(*fitted)


def test_a_search_on_a_dask_cluster_equals_the_one_in_process():
    """joblib's dask backend sends the search's fits to two worker processes of a local
    Dask cluster (the ``distributed`` extra); the results are the in-process search's."""
    import joblib
    from distributed import Client, LocalCluster

    X, y = data("multiclass", n_samples=90)
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0),
        {"alpha": [1e-4, 0.1], "learning_rate_init": [0.001, 0.01]},
        cv=3,
    )
    # The dashboard on a free port: its default, 8787, may be taken (another cluster), and
    # dashboard_address=None still tries it, with a warning.
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with cluster, Client(cluster), joblib.parallel_backend("dask"):
        on_cluster = clone(search).fit(X, y)
    in_process = clone(search).fit(X, y)
    for key in ("params", "mean_test_score", "std_test_score", "rank_test_score"):
        assert list(on_cluster.cv_results_[key]) == list(in_process.cv_results_[key]), key
    np.testing.assert_array_equal(
        on_cluster.best_estimator_.network_.params, in_process.best_estimator_.network_.params
    )


def test_ctrl_c_ends_the_fit_as_scikit_learns_and_keeps_its_epochs():
    X, y = data("multiclass", n_samples=400)
    params = {**BASE, "max_iter": 100_000, "tol": 0.0, "n_iter_no_change": 10**6}
    MLPClassifier(**{**params, "max_iter": 1}).fit(X, y)  # compile before the clock starts
    # Ctrl-C as on a terminal, where it raises KeyboardInterrupt between the kernel's calls
    # (a background job of a shell without job control ignores SIGINT).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(1.0, signal.raise_signal, args=(signal.SIGINT,))
        timer.start()
        with pytest.warns(UserWarning, match="Training interrupted by user."):
            clf = MLPClassifier(**params).fit(X, y)
        timer.join()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert 0 < clf.n_iter_ < 100_000 and len(clf.loss_curve_) == clf.n_iter_
    # The model is that of a fit of exactly those epochs.
    replay = MLPClassifier(**{**params, "max_iter": clf.n_iter_}).fit(X, y)
    np.testing.assert_array_equal(clf.network_.params, replay.network_.params)
    assert clf.loss_curve_ == replay.loss_curve_


def test_warm_start_may_turn_early_stopping_on_and_off():
    # scikit-learn's fails on the second fit (its record of the first has no place for the
    # other rule); here the record the new rule needs starts afresh.
    X, y = data("binary")
    clf = MLPClassifier(**{**BASE, "warm_start": True, "max_iter": 5}).fit(X, y)
    clf.set_params(early_stopping=True).fit(X, y)
    assert len(clf.validation_scores_) == 5 and clf.best_loss_ is None
    clf.set_params(early_stopping=False).fit(X, y)
    assert clf.validation_scores_ is None and clf.best_loss_ == min(clf.loss_curve_[-5:])
    assert len(clf.loss_curve_) == 15


def test_a_ctrl_c_late_in_a_trainer_fit_is_answered_or_delivered_never_dropped():
    """What the estimators' Ctrl-C relies on, one Trainer.fit an epoch: a Ctrl-C that comes
    after the chunk loop's last look at it is still answered (the outcome says interrupted)
    or, after the deferral ends, delivered to the handler it would have reached."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        net = Network([3, 2, 1], seed=0)
        trainer = Trainer(net, learning_rate=0.01, seed=0, kernel="matrix")
        trainer.fit(np.ones((4, 3)), np.ones(4))  # compile

        def stop_on_ctrl_c(epoch, history):
            signal.raise_signal(signal.SIGINT)  # pressed while the callback ran
            return True  # and the callback ends the fit: the stopped path

        with pytest.warns(FitInterruptedWarning):
            history = trainer.fit(np.ones((4, 3)), np.ones(4), epochs=3, callbacks=stop_on_ctrl_c)
        assert history.stopped and history.interrupted
        with pytest.raises(KeyboardInterrupt), _chunks._deferred_interrupt():
            signal.raise_signal(signal.SIGINT)  # deferred, then delivered on the way out
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_diverging_fit_with_early_stopping_scores_nan_and_keeps_its_best_epoch():
    """scikit-learn's issue 29504: the fit goes on to max_iter, each epoch after the loss
    became non-finite scored NaN, and ends with the best epoch's weights, as scikit-learn's."""
    X, y = data("regression")
    params = {
        **BASE, "solver": "sgd", "learning_rate_init": 5.0, "activation": "identity",
        "early_stopping": True, "n_iter_no_change": 10, "max_iter": 12,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scikit-learn's overflows
        theirs = THEIRS["regressor"](**params).fit(X, y)
    ours = OURS["regressor"](**params).fit(X, y)
    assert np.isnan(theirs.validation_scores_[-1])  # the case diverges
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    np.testing.assert_array_equal(
        np.isnan(ours.validation_scores_), np.isnan(theirs.validation_scores_)
    )
    finite = ~np.isnan(theirs.validation_scores_)
    np.testing.assert_allclose(
        np.array(ours.validation_scores_)[finite],
        np.array(theirs.validation_scores_)[finite],
        rtol=RTOL,
    )
    assert all(type(score) is float for score in ours.validation_scores_)
    for actual, expected in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def test_a_binary_split_too_small_to_stratify_names_the_class_as_scikit_learn():
    X = [[1, 2], [2, 3], [3, 4], [4, 5]]
    y = [0, 0, 0, 1]
    messages = []
    for estimator in (MLPClassifier, neural_network.MLPClassifier):
        with pytest.raises(ValueError) as raised:
            estimator(early_stopping=True).fit(X, y)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "Classes with too few members are: ['True']" in messages[0]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_trains_from_coefficients_assigned_before_any_fit(solver):
    X, y = data("multiclass")
    shapes = [(5, 7), (7, 4), (4, 3)]
    fitted = []
    for estimator in (MLPClassifier, neural_network.MLPClassifier):
        model = estimator(**{**BASE, "solver": solver})
        # What scikit-learn's own test of this (test_fit) sets beside the coefficients: its
        # partial_fit reads them; fastbp's sets them itself, as a first fit does.
        model.n_features_in_, model.n_layers_, model.n_outputs_ = 5, 4, 3
        model.out_activation_, model.n_iter_, model.t_ = "softmax", 0, 0
        model.best_loss_, model.loss_curve_, model._no_improvement_count = np.inf, [], 0
        model.coefs_ = [None] * 3  # filled in afterwards, in the list itself
        model.intercepts_ = [np.full(shape[1], 0.1) for shape in shapes]
        for layer, shape in enumerate(shapes):
            model.coefs_[layer] = np.linspace(-0.5, 0.5, np.prod(shape)).reshape(shape)
        fitted.append(model.partial_fit(X, y, classes=[0, 1, 2]))
    ours, theirs = fitted
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True)
    for actual, expected in pairs:
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=RTOL)
