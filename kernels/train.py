"""The training kernel: a whole multi-epoch fit in one call.

Arguments:

params    flat parameter vector (float32 or float64), updated in place
layout    uint64 table, one row per weight layer (columns in ``codes``)
X, Y      C-contiguous (n_samples, n_inputs) and (n_samples, n_outputs), params' dtype
settings  params' dtype: learning rate, batch divisors, log clip (entries in ``codes``)
options   int64: loss code, batch size, shuffle flag (entries in ``codes``)
scratch   params' dtype: activations, deltas, then (mini-batch only) one gradient vector
rng_state uint64[1], the shuffle generator's state, advanced in place
history   float64 (epochs, HISTORY_COLUMNS), one row written per epoch

Per-example SGD (batch size 1) adds ``-learning_rate * gradient`` straight into ``params`` as
each layer's delta is propagated; mini-batches add each example's gradient into a flat
accumulator and apply it once per batch. Either way every delta is computed from the weights
from before the step, and the metrics of an epoch come from the forward pass that trained on
each example, before that example's (or batch's) update.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS
from fastbp.kernels.layers import derivative, forward
from fastbp.kernels.shuffle import shuffle_in_place


@njit(**JIT_OPTIONS)
def train(params, layout, X, Y, settings, options, scratch, rng_state, history):
    """Train ``params`` for ``history.shape[0]`` epochs over ``(X, Y)``; see the module doc."""
    n_samples, n_inputs = X.shape
    n_params = params.shape[0]
    last = layout.shape[0] - 1
    out_start = layout[last, codes.OUTPUT_OFFSET]
    out_code = layout[last, codes.ACTIVATION]
    n_outputs = layout[last, codes.FAN_OUT]  # uint64, like every index into the scratch
    width = out_start + n_outputs
    acts = scratch[:width]
    deltas = scratch[width : 2 * width]

    zero = params.dtype.type(0.0)
    learning_rate = settings[codes.LEARNING_RATE]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    batch_size = options[codes.BATCH_SIZE]
    shuffle = options[codes.SHUFFLE] != 0
    per_example = batch_size == 1
    if per_example:
        # w + (-lr) * g rounds exactly as w - lr * g, so the step goes straight into params.
        target = params
        step = -learning_rate
    else:
        target = scratch[2 * width : 2 * width + n_params]
        step = params.dtype.type(1.0)

    order = np.arange(n_samples)
    for epoch in range(history.shape[0]):
        if shuffle:
            shuffle_in_place(order, rng_state)
        loss_sum = 0.0
        squared_sum = 0.0
        absolute_sum = 0.0
        n_correct = 0
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            if not per_example:
                target[:] = 0.0
            for i in range(start, stop):
                example = order[i]
                for k in range(n_inputs):
                    acts[k] = X[example, k]
                forward(params, layout, acts)

                # Score the example and write the output delta.
                example_loss = 0.0
                best_out = np.uint64(0)
                best_target = np.uint64(0)
                for j in range(n_outputs):
                    o = acts[out_start + j]
                    t = Y[example, j]
                    error = o - t
                    deltas[out_start + j] = error
                    e = np.float64(error)
                    squared_sum += e * e
                    absolute_sum += abs(e)
                    if loss_code == codes.SQUARED_ERROR:
                        example_loss += 0.5 * e * e
                    else:
                        p = min(max(np.float64(o), log_clip), 1.0 - log_clip)
                        example_loss -= np.float64(t) * np.log(p)
                        if out_code == codes.SIGMOID:
                            example_loss -= (1.0 - np.float64(t)) * np.log(1.0 - p)
                    if o > acts[out_start + best_out]:
                        best_out = j
                    if t > Y[example, best_target]:
                        best_target = j
                loss_sum += example_loss
                if n_outputs == 1:
                    n_correct += (acts[out_start] > 0.5) == (Y[example, 0] > 0.5)
                else:
                    n_correct += best_out == best_target
                if loss_code == codes.SQUARED_ERROR:
                    if out_code == codes.SOFTMAX:
                        # The softmax Jacobian applied to the error: o_j (e_j - sum_k e_k o_k).
                        projection = zero
                        for j in range(out_start, width):
                            projection += deltas[j] * acts[j]
                        for j in range(out_start, width):
                            deltas[j] = acts[j] * (deltas[j] - projection)
                    else:
                        for j in range(out_start, width):
                            deltas[j] = deltas[j] * derivative(acts[j], out_code)
                # Cross entropy (sigmoid or softmax output): the delta is the error itself.

                # Back-propagate, one pass over each layer's weights: a row is read for the
                # propagated delta before the step changes it.
                for layer in range(last, -1, -1):
                    fan_in = layout[layer, codes.FAN_IN]
                    fan_out = layout[layer, codes.FAN_OUT]
                    weights = layout[layer, codes.WEIGHT_OFFSET]
                    inputs = layout[layer, codes.INPUT_OFFSET]
                    out = layout[layer, codes.OUTPUT_OFFSET]
                    below = layout[layer - 1, codes.ACTIVATION] if layer > 0 else 0
                    for k in range(fan_in):
                        row = weights + k * fan_out
                        a_k = acts[inputs + k]
                        if layer > 0:
                            total = zero
                            for j in range(fan_out):
                                total += deltas[out + j] * params[row + j]
                            deltas[inputs + k] = total * derivative(a_k, below)
                        for j in range(fan_out):
                            target[row + j] += step * (a_k * deltas[out + j])
                    if layout[layer, codes.HAS_BIAS]:
                        bias = layout[layer, codes.BIAS_OFFSET]
                        for j in range(fan_out):
                            target[bias + j] += step * deltas[out + j]

            if not per_example:
                if stop - start == batch_size:
                    divisor = settings[codes.BATCH_DIVISOR]
                else:
                    divisor = settings[codes.LAST_BATCH_DIVISOR]
                for p in range(n_params):
                    params[p] -= learning_rate * (target[p] / divisor)

        history[epoch, codes.LOSS] = loss_sum / n_samples
        history[epoch, codes.SSE] = squared_sum
        history[epoch, codes.MSE] = squared_sum / (n_samples * Y.shape[1])
        history[epoch, codes.MAE] = absolute_sum / (n_samples * Y.shape[1])
        history[epoch, codes.ACCURACY] = n_correct / n_samples
