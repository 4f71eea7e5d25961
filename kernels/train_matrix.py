"""The matrix kernel: each layer of a batch as one BLAS call, and every training feature.

Same semantics and history as ``kernels.train.train`` (see there), for any batch size, plus
what only this kernel runs: the optimizers, L2, clipping and schedules of
``kernels.updates`` and ``kernels.epochs``, inverted dropout, sample weights, and a
validation pass after every epoch with early stopping. Arguments:

params      flat parameter vector (float32 or float64), updated in place
layout      uint64 table, one row per weight layer (columns in ``codes``)
data        (X, Y, sample_weight): C-contiguous, params' dtype; sample_weight is (n_samples,),
            or empty for unweighted examples
validation  (X, Y) of the validation data, or empty arrays for none
settings    params' dtype, ``codes.SETTINGS_SIZE`` entries; options int64, ``OPTIONS_SIZE``
scratch     params' dtype, ``4 * batch_size * width + n_params`` (below)
state       (moments, counters, best_params): the optimizer's two vectors of the layout
            (params' dtype), the float64 counters (entries in ``codes``), and the best
            parameters early stopping has seen
rng_state   uint64[1], the generator of the shuffle and the dropout masks, advanced in place
history     float64 (epochs, HISTORY_COLUMNS), one row written per epoch

Returns the number of epochs trained: fewer than ``history.shape[0]`` on divergence (as in
``kernels.train``) or when early stopping sets ``counters[STOPPED]``.

The scratch holds four blocks of ``batch_size * width`` and one gradient vector:

- the batch's activations: the input rows, then each layer's outputs, every layer a
  C-contiguous (rows, units) block starting at ``batch_size`` times the layer's offset in the
  layout, so ``np.dot`` writes into it without a copy (with dropout, the dropped outputs);
- the deltas, in blocks at the same offsets (the input block is unused);
- with dropout, the hidden layers' outputs before dropout, and the masks (0 or
  ``1 / (1 - rate)``);
- one flat gradient vector in the layout of ``params``.

``np.dot`` inside ``@njit`` calls the BLAS that SciPy ships. Every delta of a batch is
computed before its one update, from the weights from before the update.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import HELPER_OPTIONS, JIT_OPTIONS
from fastbp.kernels.epochs import end_epoch, learning_rate
from fastbp.kernels.layers import (
    activation,
    check_epoch,
    derivative,
    output_delta,
    record_epoch,
    score_example,
)
from fastbp.kernels.shuffle import shuffle_in_place, splitmix64
from fastbp.kernels.updates import apply_update

_UNIT_INTERVAL = 2.0**-53  # a 53-bit integer times this is uniform in [0, 1)


@njit(**JIT_OPTIONS)
def train_matrix(
    params, layout, data, validation, settings, options, scratch, state, rng_state, history
):
    """Train ``params`` for ``history.shape[0]`` epochs; see the module doc."""
    X, Y, sample_weight = data
    X_val, Y_val = validation
    moments, counters, best_params = state
    n_samples = X.shape[0]
    n_params = params.shape[0]
    last = layout.shape[0] - 1
    n_outputs = layout[last, codes.FAN_OUT]
    out_code = layout[last, codes.ACTIVATION]
    width = layout[last, codes.OUTPUT_OFFSET] + n_outputs
    batch_size = options[codes.BATCH_SIZE]
    block = np.uint64(batch_size)  # offsets of blocks stay uint64, like the layout
    size = block * width
    acts = scratch[:size]
    deltas = scratch[size : 2 * size]
    raw = scratch[2 * size : 3 * size]
    masks = scratch[3 * size : 4 * size]
    gradient = scratch[4 * size : 4 * size + n_params]

    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    shuffle = options[codes.SHUFFLE] != 0
    check_every = options[codes.CHECK_EVERY]
    next_check = check_every - 1  # the next epoch whose parameters are checked
    output_block = block * layout[last, codes.OUTPUT_OFFSET]
    weighted = sample_weight.shape[0] > 0
    clip_value = settings[codes.CLIP_VALUE]
    clipping = clip_value > 0.0
    dropping = settings[codes.DROPOUT] > 0.0
    one = params.dtype.type(1.0)

    order = np.arange(n_samples)
    validation_order = np.arange(X_val.shape[0])
    for epoch in range(history.shape[0]):
        rate = learning_rate(settings, options, counters)
        if shuffle:
            shuffle_in_place(order, rng_state)
        loss_sum = 0.0
        squared_sum = 0.0
        absolute_sum = 0.0
        n_correct = 0
        for start in range(0, n_samples, batch_size):
            n_rows = min(start + batch_size, n_samples) - start
            rows = np.uint64(n_rows)
            forward_batch(
                params,
                layout,
                X,
                order,
                start,
                rows,
                block,
                acts,
                raw,
                masks,
                settings,
                dropping,
                rng_state,
            )

            for i in range(n_rows):
                example = order[start + i]
                at = output_block + np.uint64(i) * n_outputs
                example_loss, squared, absolute, correct = score_example(
                    acts, deltas, at, n_outputs, Y, example, loss_code, out_code, log_clip
                )
                weight = sample_weight[example] if weighted else one
                loss_sum += np.float64(weight) * example_loss
                squared_sum += squared
                absolute_sum += absolute
                n_correct += correct
                output_delta(acts, deltas, at, n_outputs, loss_code, out_code)
                for p in range(at, at + n_outputs):
                    # Weighting an example's loss weights its delta; clipping trims the result.
                    if weighted:
                        deltas[p] = deltas[p] * weight
                    if clipping:
                        deltas[p] = min(max(deltas[p], -clip_value), clip_value)

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
                        if dropping:
                            d = deltas[p] * derivative(raw[p], code_below) * masks[p]
                        else:
                            d = deltas[p] * derivative(acts[p], code_below)
                        if clipping:
                            d = min(max(d, -clip_value), clip_value)
                        deltas[p] = d

            if n_rows == batch_size:
                divisor = settings[codes.BATCH_DIVISOR]
            else:
                divisor = settings[codes.LAST_BATCH_DIVISOR]
            apply_update(
                params, gradient, moments, layout, settings, options, counters, rate, divisor
            )

        record_epoch(
            history, epoch, 0, n_samples, Y.shape[1], loss_sum, squared_sum, absolute_sum, n_correct
        )
        monitored = history[epoch, codes.LOSS]
        if X_val.shape[0] > 0:
            score_validation(
                params,
                layout,
                X_val,
                Y_val,
                validation_order,
                block,
                acts,
                deltas,
                settings,
                options,
                rng_state,
                history,
                epoch,
            )
            monitored = history[epoch, codes.VALIDATION + codes.LOSS]
        finite, next_check = check_epoch(history, epoch, params, next_check, check_every)
        if not finite:
            return epoch
        end_epoch(settings, options, counters, monitored, params, best_params)
        if counters[codes.STOPPED] != 0.0:
            return epoch + 1
    return history.shape[0]


@njit(**JIT_OPTIONS)
def score_validation(
    params, layout, X, Y, order, block, acts, deltas, settings, options, rng_state, history, epoch
):
    """The five metrics over ``(X, Y)``, as ``predict`` computes the outputs (no dropout, so
    ``rng_state`` is left alone), into row ``epoch`` of ``history`` from column
    ``VALIDATION``; ``order`` is ``0..len(X)-1``; ``acts`` and ``deltas`` serve as scratch."""
    last = layout.shape[0] - 1
    n_outputs = layout[last, codes.FAN_OUT]
    out_code = layout[last, codes.ACTIVATION]
    output_block = block * layout[last, codes.OUTPUT_OFFSET]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    n_samples = X.shape[0]
    loss_code = options[codes.LOSS_CODE]
    batch_size = np.int64(block)
    loss_sum = 0.0
    squared_sum = 0.0
    absolute_sum = 0.0
    n_correct = 0
    for start in range(0, n_samples, batch_size):
        n_rows = min(start + batch_size, n_samples) - start
        forward_batch(
            params,
            layout,
            X,
            order,
            start,
            np.uint64(n_rows),
            block,
            acts,
            acts,
            acts,
            settings,
            False,
            rng_state,
        )
        for i in range(n_rows):
            at = output_block + np.uint64(i) * n_outputs
            example_loss, squared, absolute, correct = score_example(
                acts, deltas, at, n_outputs, Y, start + i, loss_code, out_code, log_clip
            )
            loss_sum += example_loss
            squared_sum += squared
            absolute_sum += absolute
            n_correct += correct
    record_epoch(
        history,
        epoch,
        codes.VALIDATION,
        n_samples,
        Y.shape[1],
        loss_sum,
        squared_sum,
        absolute_sum,
        n_correct,
    )


@njit(**HELPER_OPTIONS)
def forward_batch(
    params, layout, X, order, start, rows, block, acts, raw, masks, settings, dropping, rng_state
):
    """The forward pass of rows ``order[start:start + rows]`` of ``X``, every layer's outputs
    into its block of ``acts``. With ``dropping``, each hidden unit of each row is kept with
    probability ``1 - settings[DROPOUT]`` (drawn from ``rng_state`` layer by layer, row by
    row, unit by unit) and scaled by ``settings[DROPOUT_SCALE]``; ``raw`` keeps the outputs
    before, ``masks`` the factors."""
    n_inputs = X.shape[1]
    for i in range(np.int64(rows)):
        for k in range(n_inputs):
            acts[i * n_inputs + k] = X[order[start + i], k]
    last = layout.shape[0] - 1
    rate = np.float64(settings[codes.DROPOUT])
    scale = settings[codes.DROPOUT_SCALE]
    zero = params.dtype.type(0.0)
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
                total = zero
                for j in range(fan_out):
                    z[i, j] = np.exp(z[i, j] - largest)
                    total += z[i, j]
                for j in range(fan_out):
                    z[i, j] = z[i, j] / total
        if dropping and layer < last:
            for p in range(above, above + rows * fan_out):
                raw[p] = acts[p]
                keep = np.float64(splitmix64(rng_state) >> np.uint64(11)) * _UNIT_INTERVAL >= rate
                masks[p] = scale if keep else zero
                acts[p] = acts[p] * masks[p]
