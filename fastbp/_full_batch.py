"""The loss and gradient of a network over a whole data set, at any parameter vector: the
Python side of ``kernels.gradient`` (scikit-learn's "lbfgs" solver calls it through SciPy)."""

import numpy as np

from fastbp._memory import aligned_zeros
from fastbp._names import LOSSES
from fastbp.kernels import codes, train_matrix
from fastbp.kernels.gradient import loss_and_gradient
from fastbp.kernels.state import Data
from fastbp.network import activation_width

BLOCK_ROWS = 256  # rows per forward and backward pass: the scratch stays small on any data


class FullBatch:
    """``FullBatch(network, X, Y, sample_weight, loss)(params)`` is the summed (weighted)
    loss of ``network``'s architecture at ``params`` over ``(X, Y)`` and its gradient.

    ``X`` and ``Y`` are 2-D in the network's dtype (C-contiguous), ``sample_weight`` 1-D or
    None, ``loss`` a name of ``fastbp._names.LOSSES``. The network must have no batch
    normalization (its gradient over blocks of rows would not be the whole batch's).
    """

    def __init__(self, network, X, Y, sample_weight, loss):
        if any(network.batch_norm):
            raise ValueError("the full-batch gradient is for networks without batch_norm")
        dtype = network.dtype
        self.layout = network.layout
        self.dtype = dtype
        self.data = Data(
            np.ascontiguousarray(X, dtype),
            np.ascontiguousarray(Y, dtype),
            np.empty(0, dtype)
            if sample_weight is None
            else np.ascontiguousarray(sample_weight, dtype),
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
        loss = loss_and_gradient(
            self.params,
            self.layout,
            self.data,
            self.settings,
            self.options,
            self.scratch,
            self.gradient,
        )
        return float(loss), self.gradient.copy()
