"""The mini-batch training kernel for larger networks: each layer of a batch as one BLAS call.

Same arguments, semantics and history as ``kernels.train.train`` (see there), with batch_size
of at least 2. The scratch (params' dtype, ``2 * batch_size * width + n_params``) holds:

- the batch's activations: the input rows, then each layer's outputs, every layer a
  C-contiguous (rows, units) block starting at ``batch_size`` times the layer's offset in the
  layout, so ``np.dot`` writes into it without a copy;
- the deltas, in blocks at the same offsets (the input block is unused);
- one flat gradient vector in the layout of ``params``.

``np.dot`` inside ``@njit`` calls the BLAS that SciPy ships. Every delta of a batch is
computed before its one update, from the weights from before the update.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS
from fastbp.kernels.layers import (
    activation,
    check_epoch,
    derivative,
    output_delta,
    record_epoch,
    score_example,
)
from fastbp.kernels.shuffle import shuffle_in_place


@njit(**JIT_OPTIONS)
def train_matrix(params, layout, X, Y, settings, options, scratch, rng_state, history):
    """Train ``params`` for ``history.shape[0]`` epochs over ``(X, Y)`` in mini-batches."""
    n_samples, n_inputs = X.shape
    n_params = params.shape[0]
    last = layout.shape[0] - 1
    n_outputs = layout[last, codes.FAN_OUT]
    out_code = layout[last, codes.ACTIVATION]
    width = layout[last, codes.OUTPUT_OFFSET] + n_outputs
    batch_size = options[codes.BATCH_SIZE]
    block = np.uint64(batch_size)  # offsets of blocks stay uint64, like the layout
    acts = scratch[: block * width]
    deltas = scratch[block * width : 2 * block * width]
    gradient = scratch[2 * block * width : 2 * block * width + n_params]

    learning_rate = settings[codes.LEARNING_RATE]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    shuffle = options[codes.SHUFFLE] != 0
    check_every = options[codes.CHECK_EVERY]
    next_check = check_every - 1  # the next epoch whose parameters are checked
    output_block = block * layout[last, codes.OUTPUT_OFFSET]

    order = np.arange(n_samples)
    for epoch in range(history.shape[0]):
        if shuffle:
            shuffle_in_place(order, rng_state)
        loss_sum = 0.0
        squared_sum = 0.0
        absolute_sum = 0.0
        n_correct = 0
        for start in range(0, n_samples, batch_size):
            n_rows = min(start + batch_size, n_samples) - start
            rows = np.uint64(n_rows)
            for i in range(n_rows):
                for k in range(n_inputs):
                    acts[i * n_inputs + k] = X[order[start + i], k]

            for layer in range(last + 1):
                fan_in = layout[layer, codes.FAN_IN]
                fan_out = layout[layer, codes.FAN_OUT]
                weights = layout[layer, codes.WEIGHT_OFFSET]
                below = block * layout[layer, codes.INPUT_OFFSET]
                above = block * layout[layer, codes.OUTPUT_OFFSET]
                code = layout[layer, codes.ACTIVATION]
                z = acts[above : above + rows * fan_out].reshape((rows, fan_out))
                np.dot(
                    acts[below : below + rows * fan_in].reshape((rows, fan_in)),
                    params[weights : weights + fan_in * fan_out].reshape((fan_in, fan_out)),
                    z,
                )
                has_bias = layout[layer, codes.HAS_BIAS] != 0
                bias = layout[layer, codes.BIAS_OFFSET]
                for i in range(rows):
                    for j in range(fan_out):
                        total = z[i, j]
                        if has_bias:
                            total = total + params[bias + j]
                        z[i, j] = activation(total, code)
                    if code == codes.SOFTMAX:
                        # Shifting by the maximum keeps exp finite and does not change the result.
                        largest = z[i, 0]
                        for j in range(fan_out):
                            largest = max(largest, z[i, j])
                        total = params.dtype.type(0.0)
                        for j in range(fan_out):
                            z[i, j] = np.exp(z[i, j] - largest)
                            total += z[i, j]
                        for j in range(fan_out):
                            z[i, j] = z[i, j] / total

            for i in range(n_rows):
                at = output_block + np.uint64(i) * n_outputs
                example_loss, squared, absolute, correct = score_example(
                    acts, deltas, at, n_outputs, Y, order[start + i], loss_code, out_code, log_clip
                )
                loss_sum += example_loss
                squared_sum += squared
                absolute_sum += absolute
                n_correct += correct
                output_delta(acts, deltas, at, n_outputs, loss_code, out_code)

            for layer in range(last, -1, -1):
                fan_in = layout[layer, codes.FAN_IN]
                fan_out = layout[layer, codes.FAN_OUT]
                weights = layout[layer, codes.WEIGHT_OFFSET]
                below = block * layout[layer, codes.INPUT_OFFSET]
                above = block * layout[layer, codes.OUTPUT_OFFSET]
                delta = deltas[above : above + rows * fan_out].reshape((rows, fan_out))
                inputs = acts[below : below + rows * fan_in].reshape((rows, fan_in))
                np.dot(
                    inputs.T,
                    delta,
                    gradient[weights : weights + fan_in * fan_out].reshape((fan_in, fan_out)),
                )
                if layout[layer, codes.HAS_BIAS]:
                    bias = layout[layer, codes.BIAS_OFFSET]
                    for j in range(fan_out):
                        gradient[bias + j] = 0.0
                    for i in range(rows):
                        for j in range(fan_out):
                            gradient[bias + j] += delta[i, j]
                if layer > 0:
                    propagated = deltas[below : below + rows * fan_in].reshape((rows, fan_in))
                    np.dot(
                        delta,
                        params[weights : weights + fan_in * fan_out].reshape((fan_in, fan_out)).T,
                        propagated,
                    )
                    code_below = layout[layer - 1, codes.ACTIVATION]
                    for p in range(below, below + rows * fan_in):
                        deltas[p] = deltas[p] * derivative(acts[p], code_below)

            if n_rows == batch_size:
                divisor = settings[codes.BATCH_DIVISOR]
            else:
                divisor = settings[codes.LAST_BATCH_DIVISOR]
            for p in range(n_params):
                params[p] -= learning_rate * (gradient[p] / divisor)

        record_epoch(
            history, epoch, n_samples, Y.shape[1], loss_sum, squared_sum, absolute_sum, n_correct
        )
        finite, next_check = check_epoch(history, epoch, params, next_check, check_every)
        if not finite:
            return epoch
    return history.shape[0]
