"""The training kernel: a whole multi-epoch fit in one call.

Called as every kernel path is (``kernels.state``)::

    train(state, layout, data, validation, settings, options, scratch, history)

state     ``FitState``; this kernel updates ``params``, ``rng_state`` and the epoch and update
          ``counters``
layout    uint64 table, one row per weight layer (columns in ``codes``)
data      ``Data``: C-contiguous X (n_samples, n_inputs) and Y (n_samples, n_outputs) in
          params' dtype; this kernel runs no sample weights
validation  ``Validation`` (X, Y) scored after every epoch as ``predict`` sees it, or empty
          arrays for none
settings  params' dtype: learning rate, batch divisors, log clip (entries in ``codes``)
options   int64: loss code, batch size, shuffle flag, divergence check interval (``codes``)
scratch   params' dtype, ``SCRATCH`` of it: activations, deltas, then (mini-batch only) one
          gradient vector
history   float64 (epochs, HISTORY_COLUMNS), one row written per epoch; without validation
          data, (epochs, METRIC_COLUMNS) suffices

Returns the number of epochs trained. That is ``history.shape[0]`` unless the fit diverged:
at the first epoch whose loss, or parameters where checked (every ``CHECK_EVERY`` epochs and
at the last), are not finite the kernel stops and returns that epoch's index (its history
row is written; ``params`` hold its non-finite values). The caller
runs the fit in chunks of epochs, one call each: state carries over between calls only
through ``state``.

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
from fastbp.kernels.layers import (
    WIDE,
    check_epoch,
    derivative,
    forward,
    output_delta,
    record_epoch,
    score_example,
    score_validation_by_example,
)
from fastbp.kernels.shuffle import shuffle_in_place

# What this path runs beyond plain SGD (feature names as ``fastbp._settings`` and
# ``fastbp._plan`` list them): validation data, scored after every epoch.
RUNS = frozenset({"validation"})


def scratch_size(width, n_params, batch_size):
    """The scratch a fit needs: activations and deltas of ``width`` units, and a gradient
    vector of ``n_params`` for mini-batches."""
    return 2 * width + (0 if batch_size == 1 else n_params)


@njit(**JIT_OPTIONS)
def train(state, layout, data, validation, settings, options, scratch, history):
    """Train ``state.params`` for ``history.shape[0]`` epochs over ``data``; see the module
    doc."""
    params = state.params
    rng_state = state.rng_state
    counters = state.counters
    X = data.X
    Y = data.Y
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
    check_every = options[codes.CHECK_EVERY]
    next_check = check_every - 1  # the next epoch whose parameters are checked
    per_example = batch_size == 1
    if per_example:
        # w + (-lr) * g rounds exactly as w - lr * g, so the step goes straight into params.
        target = params
        step = -learning_rate
    else:
        target = scratch[2 * width : 2 * width + n_params]
        step = params.dtype.type(1.0)

    no_statistics = scratch[:0]  # this kernel trains no batch normalization
    n_batches = np.float64(-(-n_samples // batch_size))
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
                forward(params, layout, acts, no_statistics, zero)

                example_loss, squared, absolute, correct = score_example(
                    acts, deltas, out_start, n_outputs, Y, example, loss_code, out_code, log_clip
                )
                loss_sum += example_loss
                squared_sum += squared
                absolute_sum += absolute
                n_correct += correct
                output_delta(acts, deltas, out_start, n_outputs, loss_code, out_code)

                # Back-propagate. Every delta is propagated through the weights from before
                # the step: on narrow layers in the same pass over a row as its update, on
                # wide ones in a pass of its own, across the inputs, so the fan_in sums
                # advance together rather than one after another (same order, same rounding).
                for layer in range(last, -1, -1):
                    fan_in = layout[layer, codes.FAN_IN]
                    fan_out = layout[layer, codes.FAN_OUT]
                    weights = layout[layer, codes.WEIGHT_OFFSET]
                    inputs = layout[layer, codes.INPUT_OFFSET]
                    out = layout[layer, codes.OUTPUT_OFFSET]
                    below_code = layout[layer - 1, codes.ACTIVATION] if layer > 0 else 0
                    fused = layer > 0 and fan_in < WIDE
                    if layer > 0 and not fused:
                        for k in range(fan_in):
                            deltas[inputs + k] = zero
                        for j in range(fan_out):
                            delta_j = deltas[out + j]
                            for k in range(fan_in):
                                deltas[inputs + k] += delta_j * params[weights + k * fan_out + j]
                        for k in range(fan_in):
                            a_k = acts[inputs + k]
                            deltas[inputs + k] = deltas[inputs + k] * derivative(a_k, below_code)
                    for k in range(fan_in):
                        row = weights + k * fan_out
                        a_k = acts[inputs + k]
                        if fused:
                            total = zero
                            for j in range(fan_out):
                                total += deltas[out + j] * params[row + j]
                            deltas[inputs + k] = total * derivative(a_k, below_code)
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

        record_epoch(
            history, epoch, 0, n_samples, Y.shape[1], loss_sum, squared_sum, absolute_sum, n_correct
        )
        if validation.X.shape[0] > 0:
            score_validation_by_example(
                params,
                layout,
                validation.X,
                validation.Y,
                acts,
                deltas,
                no_statistics,
                settings,
                options,
                history,
                epoch,
            )
        finite, next_check = check_epoch(history, epoch, params, next_check, check_every)
        if not finite:
            return epoch
        counters[codes.EPOCH] += 1.0
        counters[codes.STEP_COUNT] += n_batches
    return history.shape[0]
