"""The forward pass of many rows a block at a time, each layer of a block one BLAS call (the
matrix kernel's ``forward_batch`` in ``predict``'s mode: running statistics, no dropout)::

    predict_matrix(params, layout, X, statistics, settings, block_rows, acts, out)

``acts`` holds ``block_rows * width`` of scratch (params' dtype); ``settings`` is read for
``NORM_EPSILON``; ``out`` (n_rows, n_outputs) receives the outputs. The same arithmetic as
``kernels.predict.predict`` but for the order of each BLAS sum, so it agrees with it to
rounding, several times faster on wide layers.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import MATRIX_JIT_OPTIONS
from fastbp.kernels.train_matrix import Blocks, forward_batch


@njit(**MATRIX_JIT_OPTIONS)
def predict_matrix(params, layout, X, statistics, settings, block_rows, acts, out):
    """Write the outputs of every row of ``X`` into ``out``; see the module doc."""
    n_rows = X.shape[0]
    last = layout.shape[0] - 1
    n_outputs = layout[last, codes.FAN_OUT]
    block = np.uint64(block_rows)
    output_block = block * layout[last, codes.OUTPUT_OFFSET]
    unused = np.empty(0, params.dtype)  # dropout's and batch statistics' blocks: not in predict
    blocks = Blocks(acts, unused, unused, unused, unused)
    order = np.arange(n_rows)
    no_draws = np.zeros(1, np.uint64)
    for start in range(0, n_rows, block_rows):
        rows = min(start + block_rows, n_rows) - start
        forward_batch(
            params,
            layout,
            X,
            order,
            start,
            np.uint64(rows),
            block,
            blocks,
            statistics,
            settings,
            np.bool_(False),
            no_draws,
        )
        for i in range(rows):
            at = output_block + np.uint64(i) * n_outputs
            for j in range(n_outputs):
                out[start + i, j] = acts[at + j]
