"""Training kernels: a whole multi-epoch fit in one call.

Arguments, shared by both kernels:

params    flat parameter vector (float32 or float64), updated in place
layout    int64 table, one row per weight layer (columns in ``codes``)
X, Y      C-contiguous (n_samples, n_inputs) and (n_samples, n_outputs), params' dtype
settings  params' dtype: learning rate, batch divisors, log clip (entries in ``codes``)
options   int64: loss code, batch size, shuffle flag (entries in ``codes``)
scratch   params' dtype: activations, deltas, then (mini-batch only) one gradient vector
rng_state uint64[1], the shuffle generator's state, advanced in place
history   float64 (epochs, HISTORY_COLUMNS), one row written per epoch

Metrics of an epoch come from the forward pass that trained on each example, before that
example's (or its batch's) update.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS
from fastbp.kernels.layers import (
    backprop_layer,
    forward,
    scale_by_derivative,
    score_and_output_delta,
    weight_view,
)
from fastbp.kernels.shuffle import epoch_order


@njit(**JIT_OPTIONS)
def _record_epoch(history, epoch, tally, n_samples, n_outputs):
    history[epoch, codes.LOSS] = tally[0] / n_samples
    history[epoch, codes.SSE] = tally[1]
    history[epoch, codes.MSE] = tally[1] / (n_samples * n_outputs)
    history[epoch, codes.MAE] = tally[2] / (n_samples * n_outputs)
    history[epoch, codes.ACCURACY] = tally[3] / n_samples
    tally[:] = 0.0


@njit(**JIT_OPTIONS)
def _example_backward(
    params, layout, acts, deltas, X, Y, example, loss_code, log_clip, tally, target, step
):
    """Forward one example, score it, and add ``step * gradient`` to ``target``.

    ``target`` is ``params`` itself (per-example SGD) or a gradient accumulator of the same
    layout. Every delta is computed from a layer's weights before that layer is changed.
    """
    n_inputs = X.shape[1]
    acts[:n_inputs] = X[example]
    forward(params, layout, acts)

    last = layout.shape[0] - 1
    out_start = layout[last, codes.OUTPUT_OFFSET]
    n_outputs = layout[last, codes.FAN_OUT]
    score_and_output_delta(
        acts[out_start : out_start + n_outputs],
        Y[example],
        deltas[out_start : out_start + n_outputs],
        layout[last, codes.ACTIVATION],
        loss_code,
        log_clip,
        tally,
    )

    for layer in range(last, -1, -1):
        fan_in = layout[layer, codes.FAN_IN]
        fan_out = layout[layer, codes.FAN_OUT]
        in_start = layout[layer, codes.INPUT_OFFSET]
        out_start = layout[layer, codes.OUTPUT_OFFSET]
        delta = deltas[out_start : out_start + fan_out]
        inputs = acts[in_start : in_start + fan_in]
        # The first layer's inputs are the data: nothing to propagate into.
        previous_delta = deltas[in_start : in_start + (fan_in if layer > 0 else 0)]
        backprop_layer(
            weight_view(params, layout, layer),
            delta,
            inputs,
            previous_delta,
            weight_view(target, layout, layer),
            step,
        )
        b_start = layout[layer, codes.BIAS_OFFSET]
        if b_start >= 0:
            bias = target[b_start : b_start + fan_out]
            for j in range(fan_out):
                bias[j] += step * delta[j]
        if layer > 0:
            scale_by_derivative(previous_delta, inputs, layout[layer - 1, codes.ACTIVATION])


@njit(**JIT_OPTIONS)
def train_per_example(params, layout, X, Y, settings, options, scratch, rng_state, history):
    """Per-example SGD: update after every example, for ``history.shape[0]`` epochs."""
    n_samples = X.shape[0]
    width = scratch.shape[0] // 2
    acts = scratch[:width]
    deltas = scratch[width : 2 * width]
    step = -settings[codes.LEARNING_RATE]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    shuffle = options[codes.SHUFFLE] != 0
    n_outputs = layout[layout.shape[0] - 1, codes.FAN_OUT]
    order = np.empty(n_samples, dtype=np.int64)
    tally = np.zeros(4)
    for epoch in range(history.shape[0]):
        epoch_order(order, shuffle, rng_state)
        for i in range(n_samples):
            _example_backward(
                params,
                layout,
                acts,
                deltas,
                X,
                Y,
                order[i],
                loss_code,
                log_clip,
                tally,
                params,
                step,
            )
        _record_epoch(history, epoch, tally, n_samples, n_outputs)


@njit(**JIT_OPTIONS)
def train_mini_batch(params, layout, X, Y, settings, options, scratch, rng_state, history):
    """Mini-batch (and full-batch) gradient descent for ``history.shape[0]`` epochs.

    Each batch's gradient is summed over its examples, divided by the batch divisor (1 for
    "sum", the batch's actual size for "mean"), and applied once at the end of the batch.
    """
    n_samples = X.shape[0]
    n_params = params.shape[0]
    width = (scratch.shape[0] - n_params) // 2
    acts = scratch[:width]
    deltas = scratch[width : 2 * width]
    gradient = scratch[2 * width : 2 * width + n_params]
    learning_rate = settings[codes.LEARNING_RATE]
    one = params.dtype.type(1.0)
    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    batch_size = options[codes.BATCH_SIZE]
    shuffle = options[codes.SHUFFLE] != 0
    n_outputs = layout[layout.shape[0] - 1, codes.FAN_OUT]
    order = np.empty(n_samples, dtype=np.int64)
    tally = np.zeros(4)
    for epoch in range(history.shape[0]):
        epoch_order(order, shuffle, rng_state)
        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            gradient[:] = 0.0
            for i in range(start, stop):
                _example_backward(
                    params,
                    layout,
                    acts,
                    deltas,
                    X,
                    Y,
                    order[i],
                    loss_code,
                    log_clip,
                    tally,
                    gradient,
                    one,
                )
            if stop - start == batch_size:
                divisor = settings[codes.BATCH_DIVISOR]
            else:
                divisor = settings[codes.LAST_BATCH_DIVISOR]
            for p in range(n_params):
                params[p] -= learning_rate * (gradient[p] / divisor)
        _record_epoch(history, epoch, tally, n_samples, n_outputs)
