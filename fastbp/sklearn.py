"""scikit-learn's ``MLPClassifier`` and ``MLPRegressor``, trained on fastbp's kernels.

Switching is one import line::

    from fastbp.sklearn import MLPClassifier  # was: from sklearn.neural_network import ...

The estimators take every parameter of scikit-learn's, with the same names, defaults and
meanings, and expose the same fitted attributes. From the same ``random_state`` they draw the
same initial weights (Glorot uniform, each layer's coefficients then its intercepts) and, for
the stochastic solvers, visit the examples in the same order (``shuffle=True`` included) with
the same learning rates and stopping rules, so ``coefs_``, ``intercepts_``, ``loss_curve_``
and ``n_iter_`` equal scikit-learn's up to rounding. The fitted fastbp ``Network`` is
``network_`` (``network_.save(path)``, ``network_.to_onnx(path)``).

Needs scikit-learn (the ``sklearn`` extra: ``pip install ".[sklearn]"`` in a clone of fastbp).

Differences from scikit-learn's:

- ``sample_weight`` must be non-negative (scikit-learn accepts negative weights);
- ``momentum`` must be below 1 with ``solver="sgd"`` (scikit-learn accepts 1);
- ``solver="lbfgs"`` minimizes the same objective with SciPy's L-BFGS-B as scikit-learn
  does, from the same start and up to rounding, which L-BFGS amplifies (about tenfold every
  20 iterations): short fits agree (``loss_`` within 1e-10 on the tests' fits of up to 123
  iterations), long ones part, and a fit that stops on ``tol`` can stop a few iterations
  from scikit-learn's;
- sparse input (CSR, CSC or any SciPy format) trains and predicts from its stored values,
  never densified (the first layer's products and gradient touch only the stored columns);
- ``MLPRegressor(loss="poisson")`` needs non-negative targets (scikit-learn's gives a NaN
  loss on a negative one);
- a fit that fails leaves the estimator as it was (scikit-learn's may be left half-fitted).
"""

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.neural_network import MLPClassifier as _SklearnClassifier
    from sklearn.neural_network import MLPRegressor as _SklearnRegressor
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils import check_random_state, column_or_1d
    from sklearn.utils._param_validation import Interval, StrOptions
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import (
        _check_partial_fit_first_call,
        type_of_target,
        unique_labels,
    )
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "fastbp.sklearn needs scikit-learn, which is fastbp's optional extra 'sklearn': "
        'pip install ".[sklearn]" in a clone of fastbp'
    ) from error

from numbers import Integral, Real
from typing import ClassVar

import numpy as np

from fastbp import _full_batch, _sklearn_lbfgs, _sklearn_sgd, _sparse
from fastbp.network import Network

# fastbp's own parameters, beyond scikit-learn's; their defaults change nothing.
_FASTBP_CONSTRAINTS = {
    "dtype": [None, StrOptions({"float32", "float64"}), type],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
    "clip_value": [None, Interval(Real, 0, None, closed="neither")],
    "clip_norm": [None, Interval(Real, 0, None, closed="neither")],
    "threads": [Interval(Integral, 1, None, closed="left")],
}

# scikit-learn's activation names, and fastbp's for them.
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
_OUTPUTS = {"identity": "identity", "logistic": "sigmoid", "softmax": "softmax", "exp": "exp"}


class _MultilayerPerceptron(BaseEstimator):
    """What the two estimators share: fitting, initialization and the forward pass."""

    def _fit(self, X, y, sample_weight, incremental, first_call=None):
        """scikit-learn's ``_fit``: validate, initialize on a first pass, train, commit. A
        failure leaves every attribute as it was. ``first_call`` (``partial_fit``'s
        handling of ``classes``) runs once the parameters are checked."""
        saved = dict(self.__dict__)
        try:
            self._validate_params()
            if first_call is not None:
                first_call()
            self._train(X, y, sample_weight, incremental)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        return self

    def _train(self, X, y, sample_weight, incremental):
        hidden = self.hidden_layer_sizes
        if not hasattr(hidden, "__iter__"):
            hidden = [hidden]
        hidden = list(hidden)
        if np.any(np.array(hidden) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        self._check_supported()
        assigned = "network_" not in self.__dict__ and "_assigned_coefs" in self.__dict__
        fitted = "network_" in self.__dict__ or assigned
        first_pass = not fitted or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _non_negative(_check_sample_weight(sample_weight, X))
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        layer_units = [X.shape[1], *hidden, y.shape[1]]
        random_state = check_random_state(self.random_state)
        requested = X.dtype if self.dtype is None else np.dtype(self.dtype)
        if first_pass:
            run = self._initialize(y, layer_units, requested, random_state)
        else:
            if assigned:  # coefs_ and intercepts_ a user set before any fit
                self.network_ = self._network_from_assigned(y, layer_units, requested)
            run = self._resume(layer_units)
        dtype = run.network.dtype
        if _sparse.is_sparse(X):
            X = _sparse.as_csr(X, "X", dtype, X.shape[1])  # trained as CSR rows, never dense
        else:
            X = np.ascontiguousarray(X, dtype=dtype)
        Y = np.ascontiguousarray(y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
        if self.solver == "lbfgs":
            _sklearn_lbfgs.fit_lbfgs(self, run, X, Y, sample_weight)
        else:
            _sklearn_sgd.fit_stochastic(self, run, X, Y, sample_weight, random_state, incremental)
        if not np.isfinite(run.network.params).all():
            raise ValueError(_sklearn_sgd.NON_FINITE)
        self._commit(run, y.shape[1])

    def _check_supported(self):
        if self.dtype is not None and np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be None, float32 or float64; got {self.dtype!r}")
        batch_features = (self.batch_norm, self.dropout, self.clip_value, self.clip_norm)
        if self.solver == "lbfgs" and any(batch_features):
            raise ValueError(
                "solver='lbfgs' minimizes the loss of the whole data set and runs no "
                "batch_norm, dropout, clip_value or clip_norm; use 'adam' or 'sgd'"
            )
        if self.solver == "sgd" and self.momentum >= 1:
            raise ValueError(
                f"momentum must be below 1 in fastbp.sklearn (fastbp's SGD); got {self.momentum}"
            )

    def _initialize(self, y, layer_units, dtype, random_state):
        """scikit-learn's ``_initialize``: the network with scikit-learn's initial weights,
        drawn from ``random_state``, and a fresh record of the epochs."""
        network = self._new_network(y, layer_units, dtype)  # its weights drawn below
        # Glorot et al.'s uniform initialization, as scikit-learn draws it: each layer's
        # coefficients, then its intercepts.
        factor = 2.0 if self.activation == "logistic" else 6.0
        for weights, bias in zip(network.weights, network.biases, strict=True):
            fan_in, fan_out = weights.shape
            bound = np.sqrt(factor / (fan_in + fan_out))
            weights[:] = random_state.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)
            bias[:] = random_state.uniform(-bound, bound, fan_out).astype(dtype)
        early = self.early_stopping
        return _sklearn_sgd.Run(
            network=network,
            solver=None,
            n_iter=0,
            t=0,
            loss=None,
            loss_curve=[],
            best_loss=None if early else np.inf,
            validation_scores=[] if early else None,
            best_validation_score=-np.inf if early else None,
            no_improvement_count=0,
            best_params=network.params.copy(),
        )

    def _new_network(self, y, layer_units, dtype):
        """The estimator's network for targets ``y`` (2-D), its parameters to be given, and
        the attributes scikit-learn sets with it."""
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        activations = [_ACTIVATIONS[self.activation]] * (len(layer_units) - 2)
        return Network(
            layer_units,
            activations=[*activations, _OUTPUTS[self.out_activation_]],
            init="given",
            dtype=dtype,
            batch_norm=bool(self.batch_norm) and len(layer_units) > 2,
        )

    def _network_from_assigned(self, y, layer_units, dtype):
        """The network of the ``coefs_`` and ``intercepts_`` a user assigned before any fit
        (scikit-learn's ``partial_fit`` and warm start train from them)."""
        network = self._new_network(y, layer_units, dtype)
        _assign(network.weights, self.__dict__.pop("_assigned_coefs"), "coefs_")
        _assign(network.biases, self.__dict__.pop("_assigned_intercepts", []), "intercepts_")
        return network

    def _resume(self, layer_units):
        """The record of the fits so far, on a copy of the network (warm start and
        ``partial_fit``); the solver keeps its state for ``partial_fit``."""
        network = self.network_.copy()
        if list(network.sizes) != layer_units:
            raise ValueError(
                f"the layer sizes {layer_units} (features, hidden_layer_sizes, outputs) differ "
                f"from the fitted network's {list(network.sizes)}: set warm_start=False to "
                "fit a new network"
            )
        solver = getattr(self, "_solver", None)
        # A record the last fit did not keep starts afresh: after lbfgs (which keeps none),
        # or with early stopping turned on or off since (scikit-learn's fails there).
        scores, best_score, best_loss = None, None, getattr(self, "best_loss_", None)
        if best_loss is None:
            best_loss = np.inf
        if self.early_stopping:
            scores = list(getattr(self, "validation_scores_", None) or [])
            best_score = getattr(self, "best_validation_score_", None)
            best_score, best_loss = (-np.inf if best_score is None else best_score), None
        return _sklearn_sgd.Run(
            network=network,
            solver=None if solver is None else solver.moved_to(network),
            n_iter=getattr(self, "n_iter_", 0),
            t=getattr(self, "t_", 0),
            loss=getattr(self, "loss_", None),
            loss_curve=list(getattr(self, "loss_curve_", [])),
            best_loss=best_loss,
            validation_scores=scores,
            best_validation_score=best_score,
            no_improvement_count=getattr(self, "_no_improvement_count", 0),
            best_params=getattr(self, "_best_params", network.params).copy(),
        )

    def _commit(self, run, n_outputs):
        self.network_ = run.network
        self.n_outputs_ = n_outputs
        self.n_iter_ = run.n_iter
        self.t_ = run.t
        self.loss_ = run.loss
        if self.solver == "lbfgs":
            return  # scikit-learn's lbfgs keeps no record of epochs (no loss_curve_)
        self._solver = run.solver
        self.loss_curve_ = run.loss_curve
        self.best_loss_ = run.best_loss
        self.validation_scores_ = run.validation_scores
        self.best_validation_score_ = run.best_validation_score
        self._no_improvement_count = run.no_improvement_count
        self._best_params = run.best_params

    # Before any fit, ``coefs_`` and ``intercepts_`` keep the lists a user assigns (the very
    # lists, which the user may go on filling), and the next fit trains from them.
    @property
    def coefs_(self):
        """The weight matrix of each layer: views into ``network_``'s parameters."""
        return self._layers("weights", "_assigned_coefs", "coefs_")

    @coefs_.setter
    def coefs_(self, coefs):
        self._assign_layers("weights", "_assigned_coefs", coefs, "coefs_")

    @property
    def intercepts_(self):
        """The bias vector of each layer: views into ``network_``'s parameters."""
        return self._layers("biases", "_assigned_intercepts", "intercepts_")

    @intercepts_.setter
    def intercepts_(self, intercepts):
        self._assign_layers("biases", "_assigned_intercepts", intercepts, "intercepts_")

    def _layers(self, kind, assigned, name):
        if "network_" in self.__dict__:
            return list(getattr(self.network_, kind))
        if assigned in self.__dict__:
            return self.__dict__[assigned]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _assign_layers(self, kind, assigned, arrays, name):
        if "network_" in self.__dict__:
            _assign(getattr(self.network_, kind), arrays, name)
        else:
            self.__dict__[assigned] = arrays

    def _forward(self, X, network=None, check_input=True):
        """The output layer's activations for ``X``, as scikit-learn's
        ``_forward_pass_fast``."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return _full_batch.predict(self.network_ if network is None else network, X)

    def _validation_score(self, network, X, y, sample_weight):
        """scikit-learn's ``_score_with_function`` with ``network``'s predictions."""
        y_pred = self._predict_with(network, X)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _non_negative(sample_weight):
    if (sample_weight < 0).any():
        row = int(np.flatnonzero(sample_weight < 0)[0])
        raise ValueError(
            "sample_weight must be non-negative in fastbp.sklearn; got "
            f"{sample_weight[row]} at row {row}"
        )
    return sample_weight


def _assign(views, arrays, name):
    arrays = list(arrays)
    if len(arrays) != len(views):
        raise ValueError(f"{name} must hold {len(views)} arrays, one per layer; got {len(arrays)}")
    for layer, (view, array) in enumerate(zip(views, arrays, strict=True)):
        array = np.asarray(array)
        if array.shape != view.shape:
            raise ValueError(f"{name}[{layer}] must have shape {view.shape}; got {array.shape}")
        view[...] = array


_PARAMETERS_DOC = """
    Parameters
    ----------
    Every parameter of scikit-learn's estimator of the same name, with the same default and
    meaning; see its documentation. Then fastbp's own, whose defaults change nothing:

    dtype : {{None, "float32", "float64"}}, default None
        The precision of the network and of training; None takes ``X``'s, as scikit-learn.
    dropout : float, default 0.0
        Inverted dropout on the hidden layers while training (``fastbp.Trainer``'s). Its
        masks come from a seed drawn from ``random_state``, so the shuffles and the early
        stopping split drawn after it are no longer scikit-learn's.
    batch_norm : bool, default False
        Batch normalization of every hidden layer (``fastbp.Network``'s); its scales and
        shifts are in ``network_``, beside ``coefs_`` and ``intercepts_``.
    clip_value, clip_norm : float, optional
        ``fastbp.Trainer``'s clipping of every delta and of each batch's gradient norm.
    threads : int, default 1
        ``fastbp.Trainer``'s threads: the BLAS threads of the matrix kernel's layer products
        (1, as scikit-learn's ``n_jobs=None``: searches run fits side by side).

    batch_norm, dropout and clipping are for the stochastic solvers, not lbfgs.

    Attributes
    ----------
    As scikit-learn's estimator (``coefs_``, ``intercepts_``, ``loss_``, ``best_loss_``,
    ``loss_curve_``, ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``,
    ``n_layers_``, ``n_outputs_``, ``out_activation_``, ``n_features_in_``,
    ``feature_names_in_``{extra}), plus

    network_ : fastbp.Network
        The fitted network; ``coefs_`` and ``intercepts_`` are views into its parameters.
"""


class MLPClassifier(ClassifierMixin, _MultilayerPerceptron):
    """scikit-learn's ``MLPClassifier`` on fastbp's kernels: the same parameters, attributes
    and results (see the module documentation for the differences).
    {parameters}
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from fastbp.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=300, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **_SklearnClassifier._parameter_constraints,
        **_FASTBP_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype=None,
        dropout=0.0,
        batch_norm=False,
        clip_value=None,
        clip_norm=None,
        threads=1,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.clip_value = clip_value
        self.clip_norm = clip_norm
        self.threads = threads

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix ``X`` and targets ``y`` (class labels, or a label
        indicator matrix for multilabel classification).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(lambda estimator: estimator._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``(X, y)``; ``classes`` (every class of all calls) is needed on the
        first call.

        Returns
        -------
        self
        """

        def first_call():
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)

        return self._fit(X, y, sample_weight, incremental=True, first_call=first_call)

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        """scikit-learn's: ``X`` checked, ``y`` binarized (as bool) by the label binarizer,
        which a first fit makes."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        return X, self._label_binarizer.transform(y).astype(bool)

    def _decode(self, Y):
        """Binarized targets back to labels."""
        return self._label_binarizer.inverse_transform(Y)

    def _predict_with(self, network, X, check_input=False):
        y_pred = self._forward(X, network, check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    @staticmethod
    def _score_function(y, y_pred, sample_weight=None):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    def predict(self, X):
        """The predicted classes of the rows of ``X``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self._predict_with(None, X, check_input=True)

    def predict_proba(self, X):
        """The probability of each class for the rows of ``X``, in the order of
        ``classes_``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        y_pred = self._forward(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _MultilayerPerceptron):
    """scikit-learn's ``MLPRegressor`` on fastbp's kernels: the same parameters, attributes
    and results (see the module documentation for the differences).
    {parameters}
    Examples
    --------
    >>> import numpy as np
    >>> from fastbp.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor(hidden_layer_sizes=(20,), learning_rate_init=0.01,
    ...                    max_iter=500, random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.score(X, X[:, 0] ** 2) > 0.9
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **_SklearnRegressor._parameter_constraints,
        **_FASTBP_CONSTRAINTS,
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype=None,
        dropout=0.0,
        batch_norm=False,
        clip_value=None,
        clip_norm=None,
        threads=1,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.clip_value = clip_value
        self.clip_norm = clip_norm
        self.threads = threads

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix ``X`` and targets ``y``.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)``.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError(
                f"y must be non-negative for loss='poisson' (counts or rates); got {np.min(y)}"
            )
        return X, y

    @staticmethod
    def _decode(Y):
        return Y

    def _predict_with(self, network, X, check_input=False):
        y_pred = self._forward(X, network, check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    @staticmethod
    def _score_function(y, y_pred, sample_weight=None):
        return r2_score(y, y_pred, sample_weight=sample_weight)

    def predict(self, X):
        """The predicted targets of the rows of ``X``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self._predict_with(None, X, check_input=True)


MLPClassifier.__doc__ = MLPClassifier.__doc__.replace(
    "{parameters}", _PARAMETERS_DOC.format(extra=", ``classes_``")
)
MLPRegressor.__doc__ = MLPRegressor.__doc__.replace(
    "{parameters}", _PARAMETERS_DOC.format(extra="")
)
