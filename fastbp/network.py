"""``Network``: a dense feed-forward network held in one flat parameter vector."""

import copy
import numbers
import threading

import numpy as np

from fastbp import _checks, _sparse
from fastbp._memory import aligned_zeros
from fastbp._names import ACTIVATIONS, ALIASES, INITS, choose
from fastbp.kernels import codes
from fastbp.kernels import predict as predict_kernels
from fastbp.scaling import Standardization

DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class Network:
    """A dense feed-forward network whose parameters live in one flat vector.

    Layer ``l`` computes ``a_l = f_l(a_{l-1} @ W_l + b_l)``.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, input first: ``[3, 4, 1]`` is 3 inputs, 4 hidden units, 1 output.
    activations : str or sequence of str, optional
        One name for every weight layer, or one per weight layer: ``"sigmoid"``, ``"tanh"``,
        ``"relu"``, ``"identity"`` (alias ``"linear"``), ``"exp"`` (the output of a Poisson
        regression; the matrix kernel trains it), and ``"softmax"`` on the output layer.
        The default is ``"relu"`` on hidden layers and ``"identity"`` on the output.
    bias : bool or sequence of bool, default True
        Whether each weight layer has a bias vector.
    init : {"glorot", "he", "uniform", "normal", "given"}, default "glorot"
        How weights are drawn, layer by layer, from ``np.random.RandomState(seed)``.
        ``"uniform"`` is ``2 * rs.random_sample((fan_in, fan_out)) - 1`` and ``"normal"`` is
        ``rs.randn(fan_in, fan_out)``: exactly the tutorials' ``np.random.seed(seed)``
        sequences. ``"glorot"`` is uniform in ``±sqrt(6 / (fan_in + fan_out))``; ``"he"`` is
        normal with standard deviation ``sqrt(2 / fan_in)``. Biases start at zero.
        ``"given"`` draws nothing: the weights start at zero for the caller to set, as
        ``fastbp.sklearn``'s estimators set scikit-learn's initial draw (``seed`` is unused).
    seed : int, optional
        Seed of the initialization; ``None`` draws fresh entropy.
    dtype : {numpy.float64, numpy.float32}, default numpy.float64
        Precision of the parameters and of training.
    batch_norm : bool or sequence of bool, default False
        Batch normalization of each hidden layer's pre-activations: one bool for every hidden
        layer, or one per weight layer (False on the output layer). A normalized layer
        computes ``f(gamma * (z - mean) / sqrt(var + norm_epsilon) + beta)`` with ``z = a @ W
        + b``: while training, ``mean`` and ``var`` are the batch's (mini-batches of 2 or
        more); in ``predict``, the running statistics training keeps. ``gamma`` starts at 1,
        ``beta`` at 0, the running means at 0 and the running variances at 1. A bias before
        a normalized layer is redundant (the mean removes it; its gradient is 0 up to
        rounding): give such layers ``bias=False``.
    norm_epsilon : float, default 1e-5
        Added to the variance in batch normalization (PyTorch's and Keras's default).

    Attributes
    ----------
    params : ndarray
        The flat, contiguous parameter vector (weights then bias of each layer, in order).
    weights : tuple of ndarray
        Writable views into ``params``, layer ``l`` of shape ``(sizes[l], sizes[l + 1])``.
    biases : tuple of (ndarray or None)
        Writable views of shape ``(sizes[l + 1],)``, or None where a layer has no bias.
    norm_scales, norm_shifts : tuple of (ndarray or None)
        Batch normalization's ``gamma`` and ``beta``: writable views into ``params`` (after
        the layer's bias), or None where a layer is not normalized.
    statistics : ndarray
        The running means and variances of the normalized layers, one flat vector (empty
        without batch normalization); ``running_means`` and ``running_variances`` are views.
    scaling : Standardization or None
        Input standardization applied by ``predict`` and ``Trainer.fit``; None by default.
    metadata : dict
        JSON-compatible information saved with the network. ``metadata["fits"]`` lists the
        settings, epochs and final loss of every fit, appended by ``Trainer.fit``.

    Examples
    --------
    >>> net = Network([3, 4, 1], activations="sigmoid", bias=False, init="uniform", seed=1)
    >>> net.weights[0].shape, net.params.shape
    ((3, 4), (16,))
    """

    def __init__(
        self,
        sizes,
        activations=None,
        bias=True,
        init="glorot",
        seed=None,
        dtype=np.float64,
        batch_norm=False,
        norm_epsilon=1e-5,
    ):
        self._sizes = _check_sizes(sizes)
        n_layers = len(self._sizes) - 1
        self._activations = _check_activations(activations, n_layers, self._sizes[-1])
        self._bias = _check_per_layer_flags(bias, n_layers, "bias")
        self._batch_norm = _check_batch_norm(batch_norm, n_layers)
        self._norm_epsilon = _checks.check_positive_finite(norm_epsilon, "norm_epsilon")
        self._dtype = _check_dtype(dtype)
        self._init = choose(init, (*INITS, "given"), "init")
        self._seed = _checks.check_seed(seed, "seed", upper=2**32)

        self._layout = build_layout(self._sizes, self._activations, self._bias, self._batch_norm)
        self._layout.flags.writeable = False
        n_params = sum(map(sum, _parameter_counts(self._sizes, self._bias, self._batch_norm)))
        self._params = aligned_zeros(n_params, self._dtype)
        self._statistics = aligned_zeros(2 * sum(_normalized_units(self._layout)), self._dtype)
        self._make_views()
        self._fit_lock = threading.Lock()  # held by Trainer.fit: one fit of a network at a time
        self._scaling = None
        self.metadata = {"fits": []}
        self._initialize()

    # The contract: names users and tests rely on.
    @property
    def sizes(self):
        """Units per layer, input first (tuple of int)."""
        return self._sizes

    @property
    def activations(self):
        """Activation name of each weight layer (tuple of str, aliases resolved)."""
        return self._activations

    @property
    def bias(self):
        """Whether each weight layer has a bias (tuple of bool)."""
        return self._bias

    @property
    def batch_norm(self):
        """Whether each weight layer's pre-activations are batch normalized (tuple of bool)."""
        return self._batch_norm

    @property
    def norm_epsilon(self):
        """Added to the variance in batch normalization (float)."""
        return self._norm_epsilon

    @property
    def norm_scales(self):
        """Batch normalization's writable ``gamma`` views, or None per layer."""
        return self._norm_scales

    @property
    def norm_shifts(self):
        """Batch normalization's writable ``beta`` views, or None per layer."""
        return self._norm_shifts

    @property
    def statistics(self):
        """The running means and variances of batch normalization, one flat vector."""
        return self._statistics

    @property
    def running_means(self):
        """Writable views of the running means, or None per layer."""
        return self._running_means

    @property
    def running_variances(self):
        """Writable views of the running variances, or None per layer."""
        return self._running_variances

    @property
    def dtype(self):
        """Precision of the parameters (numpy.dtype)."""
        return self._dtype

    @property
    def init(self):
        """Name of the weight initialization."""
        return self._init

    @property
    def seed(self):
        """Seed the weights were drawn with (int, or None for fresh entropy)."""
        return self._seed

    @property
    def params(self):
        """The flat parameter vector; writing into it changes the network."""
        return self._params

    @property
    def weights(self):
        """Writable weight views, one ``(fan_in, fan_out)`` array per layer."""
        return self._weights

    @property
    def biases(self):
        """Writable bias views, one ``(fan_out,)`` array or None per layer."""
        return self._biases

    @property
    def layout(self):
        """The read-only uint64 layout table the kernels use (columns in ``kernels.codes``)."""
        return self._layout

    @property
    def scaling(self):
        """The ``Standardization`` applied to every input, or None (the default).

        When set, ``predict`` and ``Trainer.fit`` take raw inputs and standardize them (a
        scaled copy), and ``save`` stores it with the parameters.
        """
        return self._scaling

    @scaling.setter
    def scaling(self, scaling):
        if scaling is not None:
            if not isinstance(scaling, Standardization):
                kind = type(scaling).__name__
                raise TypeError(f"scaling must be a fastbp.Standardization or None; got {kind}")
            if scaling.n_inputs != self.n_inputs:
                raise ValueError(
                    f"scaling has {scaling.n_inputs} columns; the network has {self.n_inputs} "
                    "inputs"
                )
        self._scaling = scaling

    @property
    def n_inputs(self):
        return self._sizes[0]

    @property
    def n_outputs(self):
        return self._sizes[-1]

    def predict(self, X):
        """Outputs of the network for every row of ``X``.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_inputs)
            Inputs; a single example may be given as a 1-D array of ``n_inputs`` values. A
            SciPy sparse matrix is read as CSR, its stored values only.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            In the network's dtype.
        """
        if _sparse.is_sparse(X):
            from fastbp import _full_batch  # the matrix path, which takes CSR rows

            return _full_batch.predict(self, X)
        X = self.inputs(X)
        out = np.empty((X.shape[0], self.n_outputs), dtype=self._dtype)
        acts = aligned_zeros(activation_width(self._layout), self._dtype)
        epsilon = self._dtype.type(self._norm_epsilon)
        predict = predict_kernels.for_sizes(self._sizes)
        predict(self._params, self._layout, X, acts, out, self._statistics, epsilon)
        return out

    def predict_proba(self, X):
        """Class probabilities for every row of ``X``, for a classifier.

        A softmax output gives its outputs; one sigmoid output (binary classification) gives
        the two columns ``1 - p`` and ``p``; several sigmoid outputs (one binary label each)
        give their outputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        self._check_classifier("predict_proba")
        outputs = self.predict(X)
        if self.activations[-1] == "sigmoid" and self.n_outputs == 1:
            return np.hstack([1 - outputs, outputs])
        return outputs

    def predict_classes(self, X):
        """The predicted class of every row of ``X``: the most probable (for one sigmoid
        output, 1 where it exceeds 0.5), as integer labels of shape (n_samples,)."""
        self._check_classifier("predict_classes")
        outputs = self.predict(X)
        if self.n_outputs == 1:
            return (outputs[:, 0] > 0.5).astype(np.int64)
        return np.argmax(outputs, axis=1)

    def accuracy(self, X, y):
        """The fraction of rows of ``X`` whose predicted class is the one ``y`` names.

        ``y`` holds integer class labels, or one-hot rows (0/1 targets for one output).
        """
        predicted = self.predict_classes(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == self.n_outputs:
            from fastbp.weighting import classes  # weighting imports nothing from here

            labels = classes(_checks.as_targets(y, "y", self._dtype, self.n_outputs))
        elif y.ndim == 1 and (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
            labels = y.astype(np.int64)
        else:
            raise ValueError(
                "y must hold integer class labels of shape (n_samples,) or one-hot targets of "
                f"shape (n_samples, {self.n_outputs}); got {y.dtype} of shape {y.shape}"
            )
        if labels.shape[0] != predicted.shape[0]:
            raise ValueError(
                f"X and y must hold the same number of samples; got {predicted.shape[0]} and "
                f"{labels.shape[0]}"
            )
        return float(np.mean(predicted == labels))

    def _check_classifier(self, method):
        if self.activations[-1] not in ("softmax", "sigmoid"):
            raise ValueError(
                f"{method} needs a classifier's output layer, 'softmax' or 'sigmoid'; this "
                f"network's is {self.activations[-1]!r}"
            )

    def inputs(self, X, name="X", sparse=False):
        """``X`` checked and converted as the kernels take it: C-contiguous, in the network's
        dtype, standardized when the network has a ``scaling``; with ``sparse``, a SciPy
        sparse ``X`` as canonical CSR (``fastbp._sparse.as_csr``), not densified."""
        if _sparse.is_sparse(X):
            if not sparse:
                raise TypeError(
                    f"{name} is a sparse matrix, which this takes only dense: give "
                    f"{name}.toarray() (Trainer.fit, predict and the estimators take it sparse)"
                )
            if self._scaling is not None:
                raise ValueError(
                    f"{name} is sparse, but the network standardizes its inputs (its scaling), "
                    "which would make every value stored: give a network without a scaling"
                )
            return _sparse.as_csr(X, name, self._dtype, self.n_inputs)
        X = _checks.as_inputs(X, name, self._dtype, self.n_inputs)
        return X if self._scaling is None else self._scaling.apply(X, self._dtype)

    def save(self, path):
        """Write the network to ``path`` (a ``.npz`` file): its parameters bit for bit, and a
        JSON header with the architecture, dtype, scaling, ``metadata`` and the settings of
        every fit (``metadata["fits"]``). ``fastbp.load`` reads it back.

        The file is written beside its destination and renamed into place, so an existing
        file at ``path`` is replaced whole or not at all.
        """
        from fastbp import persistence  # persistence builds Networks: imported late

        persistence.save(self, path)

    def to_onnx(self, path=None, opset=None):
        """The network as an ONNX model: written to ``path``, or returned when no path is
        given. Needs the ``onnx`` extra (``pip install ".[onnx]"`` in a clone of fastbp).

        The graph takes the raw inputs ``X`` of shape ``(N, n_inputs)`` in the network's
        dtype (``N`` dynamic) and applies the ``scaling``, every layer, batch normalization
        with the running statistics and the activations, as ``predict`` does. Its outputs
        are ``outputs`` (``predict``) and, for a softmax or sigmoid output layer,
        ``probabilities`` (``predict_proba``). The column names ``metadata`` holds
        (``feature_names``, ``target_names``, ``classes``) are written into the tensors'
        descriptions and, as JSON, into the model's metadata properties.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Where to write the ``.onnx`` file: into a temporary file beside it, renamed into
            place, so ``path`` holds the whole model or is left as it was.
        opset : int, optional
            The ONNX opset (``fastbp.onnx_export.DEFAULT_OPSET``, 17, when not given);
            from 7 to the newest the installed onnx defines.

        Returns
        -------
        onnx.ModelProto or None
            The model, when ``path`` is None.
        """
        from fastbp import onnx_export  # imports onnx only when called

        if opset is None:
            opset = onnx_export.DEFAULT_OPSET
        return onnx_export.to_onnx(self, path, opset)

    def copy(self):
        """An independent network with the same architecture and parameters."""
        clone = object.__new__(Network)
        clone.__dict__.update(self.__dict__)
        clone._params = aligned_zeros(self._params.size, self._dtype)
        clone._params[:] = self._params
        clone._statistics = self._statistics.copy()
        clone._make_views()
        clone._fit_lock = threading.Lock()
        clone.metadata = copy.deepcopy(self.metadata)
        return clone

    def __getstate__(self):
        # Pickling (and so copy.deepcopy, joblib's workers, a pickled fastbp.sklearn
        # estimator) keeps the parameters; the lock cannot be pickled, and the views are
        # rebuilt into the restored parameter vector.
        state = self.__dict__.copy()
        for name in _DERIVED:
            del state[name]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        params = aligned_zeros(self._params.size, self._dtype)
        params[:] = self._params
        self._params = params
        self._statistics = np.array(self._statistics)  # writable, even from a read-only map
        self._layout = np.array(self._layout)
        self._layout.flags.writeable = False
        self._make_views()
        self._fit_lock = threading.Lock()

    def __repr__(self):
        norm = ""
        if any(self._batch_norm):
            norm = f", batch_norm={list(self._batch_norm)}, norm_epsilon={self._norm_epsilon}"
        return (
            f"Network(sizes={list(self._sizes)}, activations={list(self._activations)}, "
            f"bias={list(self._bias)}, init={self._init!r}, seed={self._seed}, "
            f"dtype={self._dtype.name}{norm})"
        )

    def _make_views(self):
        self._weights, self._biases, self._norm_scales, self._norm_shifts = _views(
            self._params, self._layout
        )
        means, variances = [], []
        for row in self._layout.astype(np.int64):
            fan_out, start = row[codes.FAN_OUT], row[codes.STATS_OFFSET]
            normalized = bool(row[codes.HAS_NORM])
            means.append(self._statistics[start : start + fan_out] if normalized else None)
            variances.append(
                self._statistics[start + fan_out : start + 2 * fan_out] if normalized else None
            )
        self._running_means, self._running_variances = tuple(means), tuple(variances)

    def _initialize(self):
        for scale, variance in zip(self._norm_scales, self._running_variances, strict=True):
            if scale is not None:
                scale[:] = 1
                variance[:] = 1
        if self._init == "given":
            return
        rs = np.random.RandomState(self._seed)
        for weights in self._weights:
            fan_in, fan_out = weights.shape
            if self._init == "uniform":
                weights[:] = 2 * rs.random_sample((fan_in, fan_out)) - 1
            elif self._init == "normal":
                weights[:] = rs.randn(fan_in, fan_out)
            elif self._init == "glorot":
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                weights[:] = limit * (2 * rs.random_sample((fan_in, fan_out)) - 1)
            else:  # "he"
                weights[:] = rs.randn(fan_in, fan_out) * np.sqrt(2.0 / fan_in)


# What ``__getstate__`` leaves out and ``__setstate__`` rebuilds.
_DERIVED = (
    "_fit_lock",
    "_weights",
    "_biases",
    "_norm_scales",
    "_norm_shifts",
    "_running_means",
    "_running_variances",
)


def build_layout(sizes, activations, bias, batch_norm=None):
    """The uint64 layout table of a network: one row per weight layer (see ``kernels.codes``)."""
    n_layers = len(sizes) - 1
    batch_norm = batch_norm or (False,) * n_layers
    layout = np.zeros((n_layers, codes.LAYOUT_COLUMNS), dtype=np.uint64)
    offset = 0
    statistics = 0
    output_offset = sizes[0]  # the input row sits first in the activation scratch
    counts = _parameter_counts(sizes, bias, batch_norm)
    for layer, (n_weights, n_bias, n_norm) in enumerate(counts):
        layout[layer, codes.FAN_IN] = sizes[layer]
        layout[layer, codes.FAN_OUT] = sizes[layer + 1]
        layout[layer, codes.WEIGHT_OFFSET] = offset
        layout[layer, codes.BIAS_OFFSET] = offset + n_weights
        layout[layer, codes.HAS_BIAS] = bool(n_bias)
        layout[layer, codes.ACTIVATION] = ACTIVATIONS[activations[layer]]
        layout[layer, codes.INPUT_OFFSET] = output_offset - sizes[layer]
        layout[layer, codes.OUTPUT_OFFSET] = output_offset
        layout[layer, codes.HAS_NORM] = bool(n_norm)
        layout[layer, codes.NORM_OFFSET] = offset + n_weights + n_bias
        layout[layer, codes.STATS_OFFSET] = statistics
        offset += n_weights + n_bias + n_norm
        statistics += n_norm
        output_offset += sizes[layer + 1]
    return layout


def activation_width(layout):
    """Length of the activation scratch: the input row and every layer's outputs."""
    last = layout[-1]
    return int(last[codes.OUTPUT_OFFSET] + last[codes.FAN_OUT])


def parameter_count(sizes, bias, batch_norm=None):
    """How many parameters a network of this architecture has (Python ints throughout)."""
    batch_norm = batch_norm or (False,) * len(bias)
    return sum(map(sum, _parameter_counts(sizes, bias, batch_norm)))


def _parameter_counts(sizes, bias, batch_norm):
    """Per weight layer: its weights, bias, and batch normalization's scales and shifts."""
    return [
        (
            sizes[i] * sizes[i + 1],
            sizes[i + 1] if bias[i] else 0,
            2 * sizes[i + 1] if batch_norm[i] else 0,
        )
        for i in range(len(bias))
    ]


def _normalized_units(layout):
    return [int(row[codes.FAN_OUT]) for row in layout if row[codes.HAS_NORM]]


def _views(params, layout):
    weights, biases, scales, shifts = [], [], [], []
    for row in layout.astype(np.int64):
        fan_in, fan_out, w_start, b_start, n_start = (
            row[c]
            for c in (
                codes.FAN_IN,
                codes.FAN_OUT,
                codes.WEIGHT_OFFSET,
                codes.BIAS_OFFSET,
                codes.NORM_OFFSET,
            )
        )
        weights.append(params[w_start : w_start + fan_in * fan_out].reshape(fan_in, fan_out))
        biases.append(params[b_start : b_start + fan_out] if row[codes.HAS_BIAS] else None)
        normalized = bool(row[codes.HAS_NORM])
        scales.append(params[n_start : n_start + fan_out] if normalized else None)
        shifts.append(params[n_start + fan_out : n_start + 2 * fan_out] if normalized else None)
    return tuple(weights), tuple(biases), tuple(scales), tuple(shifts)


def _check_sizes(sizes):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of layer sizes such as [3, 4, 1]; got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must name at least an input and an output layer; got {sizes!r}")
    checked = []
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(f"sizes must hold integers; got {size!r} in {list(sizes)!r}")
        if size < 1:
            raise ValueError(f"sizes must all be at least 1; got {size} in {list(sizes)!r}")
        checked.append(int(size))
    return tuple(checked)


def _check_activations(activations, n_layers, n_outputs):
    if activations is None:
        names = ["relu"] * (n_layers - 1) + ["identity"]
    elif isinstance(activations, str):
        names = [activations] * n_layers
    else:
        names = list(activations)
        if len(names) != n_layers:
            raise ValueError(
                f"activations must name one activation per weight layer ({n_layers}); "
                f"got {len(names)}: {names!r}"
            )
    names = [ALIASES.get(n, n) for n in (choose(n, ACTIVATIONS, "activations") for n in names)]
    if "softmax" in names[:-1]:
        raise ValueError("activations: 'softmax' is supported only on the output layer")
    if names[-1] == "softmax" and n_outputs < 2:
        raise ValueError("activations: a 'softmax' output needs at least 2 output units")
    return tuple(names)


def _check_per_layer_flags(flags, n_layers, name):
    if isinstance(flags, (bool, np.bool_)):
        return (bool(flags),) * n_layers
    if isinstance(flags, str) or not hasattr(flags, "__len__"):
        raise TypeError(f"{name} must be a bool or one bool per weight layer; got {flags!r}")
    flags = list(flags)
    if len(flags) != n_layers:
        raise ValueError(
            f"{name} must give one bool per weight layer ({n_layers}); got {len(flags)}: {flags!r}"
        )
    for flag in flags:
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must hold bools; got {flag!r} in {flags!r}")
    return tuple(bool(f) for f in flags)


def _check_batch_norm(batch_norm, n_layers):
    if isinstance(batch_norm, (bool, np.bool_)):
        return (bool(batch_norm),) * (n_layers - 1) + (False,)
    flags = _check_per_layer_flags(batch_norm, n_layers, "batch_norm")
    if flags[-1]:
        raise ValueError("batch_norm: the output layer cannot be batch normalized")
    return flags


def _check_dtype(dtype):
    try:
        checked = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be numpy.float64 or numpy.float32; got {dtype!r}") from None
    if checked not in DTYPES:
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32; got {checked.name}")
    return checked
