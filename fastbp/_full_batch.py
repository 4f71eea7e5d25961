"""A network over a whole data set through BLAS, a block of rows at a time: its outputs
(``predict``, the Python side of ``kernels.predict_matrix``), and its loss and gradient at any
parameter vector (``FullBatch``, of ``kernels.gradient``; scikit-learn's "lbfgs" solver
calls it through SciPy). Either takes dense or CSR rows (``fastbp._sparse``)."""

import numpy as np

from fastbp import _sparse
from fastbp._memory import aligned_zeros
from fastbp._names import LOSSES
from fastbp.kernels import codes, train_matrix
from fastbp.kernels.gradient import loss_and_gradient
from fastbp.kernels.predict_matrix import predict_matrix
from fastbp.kernels.state import Data
from fastbp.network import activation_width

BLOCK_ROWS = 256  # rows per forward and backward pass: the scratch stays small on any data


class FullBatch:
    """``FullBatch(network, X, Y, sample_weight, loss)(params)`` is the summed (weighted)
    loss of ``network``'s architecture at ``params`` over ``(X, Y)`` and its gradient.

    ``X`` and ``Y`` are 2-D in the network's dtype (C-contiguous, or ``X`` CSR as
    ``fastbp._sparse.as_csr`` leaves it), ``sample_weight`` 1-D or None, ``loss`` a name of
    ``fastbp._names.LOSSES``. The network must have no batch normalization (its gradient
    over blocks of rows would not be the whole batch's).
    """

    def __init__(self, network, X, Y, sample_weight, loss):
        if any(network.batch_norm):
            raise ValueError("the full-batch gradient is for networks without batch_norm")
        dtype = network.dtype
        self.layout = network.layout
        self.dtype = dtype
        no_weights = np.empty(0, dtype)
        self.X = _sparse.kernel_rows(X if _sparse.is_sparse(X) else np.ascontiguousarray(X, dtype))
        self.Y = np.ascontiguousarray(Y, dtype)
        self.sample_weight = (
            no_weights if sample_weight is None else np.ascontiguousarray(sample_weight, dtype)
        )
        rows = max(1, min(BLOCK_ROWS, X.shape[0]))
        self.settings = np.zeros(codes.SETTINGS_SIZE, dtype)
        self.settings[codes.LOG_CLIP] = np.finfo(dtype).eps
        self.options = np.zeros(codes.OPTIONS_SIZE, np.int64)
        self.options[codes.LOSS_CODE] = LOSSES[loss]
        self.options[codes.BATCH_SIZE] = rows
        n_params = network.params.size
        size = train_matrix.scratch_size(activation_width(self.layout), n_params, rows)
        self.scratch = aligned_zeros(size, dtype)
        self.params = aligned_zeros(n_params, dtype)
        self.gradient = aligned_zeros(n_params, dtype)

    def __call__(self, params):
        """The summed loss (float) and a new array of its gradient at ``params``."""
        self.params[:] = params
        loss = self._evaluate(Data(self.X, self.Y, self.sample_weight), self.gradient)
        return loss, self.gradient.copy()

    def _evaluate(self, data, gradient):
        loss = loss_and_gradient(
            self.params, self.layout, data, self.settings, self.options, self.scratch, gradient
        )
        return float(loss)


def predict(network, X):
    """``network.predict(X)`` for a 2-D ``X`` of the network's inputs (dense or sparse), each
    layer of a block of rows one BLAS call (the first over a sparse block's stored values):
    equal to it to rounding, and several times faster on wide layers."""
    if network.scaling is not None and not _sparse.is_sparse(X):
        return network.predict(X)
    X = network.inputs(X, sparse=True)  # sparse with a scaling: refused, by name
    dtype = network.dtype
    out = np.empty((X.shape[0], network.n_outputs), dtype)
    rows = max(1, min(BLOCK_ROWS, X.shape[0]))
    acts = aligned_zeros(rows * activation_width(network.layout), dtype)
    settings = np.zeros(codes.SETTINGS_SIZE, dtype)
    settings[codes.NORM_EPSILON] = network.norm_epsilon
    predict_matrix(
        network.params,
        network.layout,
        _sparse.kernel_rows(X),
        network.statistics,
        settings,
        rows,
        acts,
        out,
    )
    return out
