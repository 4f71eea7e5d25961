"""The loss and gradient of a whole data set at given parameters, for optimizers that take
those rather than steps (scikit-learn's "lbfgs" solver, through SciPy's L-BFGS-B)::

    loss_and_gradient(params, layout, data, settings, options, scratch, gradient) -> loss

params    the parameter vector to evaluate at (params' dtype; not changed)
layout    uint64 table, one row per weight layer (columns in ``codes``); no batch normalization
data      ``Data`` (X, Y, sample_weight), as the training kernels take it
settings  params' dtype, ``codes.SETTINGS_SIZE``: only ``LOG_CLIP`` is read
options   int64, ``codes.OPTIONS_SIZE``: ``LOSS_CODE`` and ``BATCH_SIZE``, the rows of one block
scratch   params' dtype, ``train_matrix.scratch_size(width, n_params, batch_size)`` of it
gradient  params' dtype, ``n_params``: the result

The rows run in blocks of ``options[BATCH_SIZE]`` through the matrix kernel's forward and
backward passes (``predict``'s forward pass: no dropout), and ``gradient`` receives the sum
over all rows of each row's loss gradient, times its sample weight. Returns the summed
weighted loss, in float64. The caller divides by what it averages over and adds any penalty.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import MATRIX_JIT_OPTIONS
from fastbp.kernels.layers import output_delta, score_example
from fastbp.kernels.train_matrix import Blocks, backward_batch, forward_batch


@njit(**MATRIX_JIT_OPTIONS)
def loss_and_gradient(params, layout, data, settings, options, scratch, gradient):
    """The summed weighted loss over ``data`` at ``params``; its gradient into
    ``gradient``. See the module doc."""
    X = data.X
    Y = data.Y
    sample_weight = data.sample_weight
    weighted = sample_weight.shape[0] > 0
    n_samples = X.shape[0]
    n_params = params.shape[0]
    last = layout.shape[0] - 1
    n_outputs = layout[last, codes.FAN_OUT]
    out_code = layout[last, codes.ACTIVATION]
    width = layout[last, codes.OUTPUT_OFFSET] + n_outputs
    batch_size = options[codes.BATCH_SIZE]
    block = np.uint64(batch_size)
    size = block * width
    acts = scratch[:size]
    deltas = scratch[size : 2 * size]
    blocks = Blocks(
        acts,
        scratch[2 * size : 3 * size],
        scratch[3 * size : 4 * size],
        scratch[4 * size : 5 * size],
        scratch[5 * size : 5 * size + width],
    )
    block_gradient = scratch[5 * size + width : 5 * size + width + n_params]
    spare = scratch[5 * size + width + n_params :]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    output_block = block * layout[last, codes.OUTPUT_OFFSET]
    order = np.arange(n_samples)
    no_statistics = np.empty(0, params.dtype)
    no_draws = np.zeros(1, np.uint64)
    for p in range(n_params):
        gradient[p] = 0.0
    loss_sum = 0.0
    for start in range(0, n_samples, batch_size):
        n_rows = min(start + batch_size, n_samples) - start
        rows = np.uint64(n_rows)
        inputs, inputs_at = forward_batch(
            params,
            layout,
            X,
            order,
            start,
            rows,
            block,
            blocks,
            no_statistics,
            settings,
            np.bool_(False),
            no_draws,
        )
        for i in range(n_rows):
            at = output_block + np.uint64(i) * n_outputs
            example_loss, _, _, _ = score_example(
                acts, deltas, at, n_outputs, Y, start + i, loss_code, out_code, log_clip
            )
            weight = sample_weight[start + i] if weighted else params.dtype.type(1.0)
            loss_sum += np.float64(weight) * example_loss
            output_delta(acts, deltas, at, n_outputs, loss_code, out_code)
            if weighted:
                for p in range(at, at + n_outputs):
                    deltas[p] = deltas[p] * weight
        backward_batch(
            params,
            layout,
            inputs,
            inputs_at,
            rows,
            block,
            blocks,
            deltas,
            block_gradient,
            settings,
            spare,
            params.dtype.type(0.0),
        )
        for p in range(n_params):
            gradient[p] += block_gradient[p]
    return loss_sum
