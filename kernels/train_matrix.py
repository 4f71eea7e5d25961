"""The matrix path's layer routines: each layer of a batch as one BLAS call.

``kernels.batches`` writes these into the epoch of ``kernels.skeleton``. Beyond the loop
kernels' features they run dropout in batches (masks drawn layer by layer over all the
batch's rows, as ``fastbp.reference`` draws them), batch normalization, and every optimizer
of ``kernels.updates`` (iRPROP- too).

The scratch holds five blocks of ``batch_size * width`` (the ``Blocks``), then two vectors:

- the batch's activations: the input rows (gathered only when they are not in order in the
  data: rows in order are read where they lie), then each layer's outputs, every layer a
  C-contiguous (rows, units) block starting at ``batch_size`` times the layer's offset in the
  layout, so BLAS writes into it without a copy (with dropout, the dropped outputs);
- the deltas, in blocks at the same offsets (the input block is unused);
- with dropout, the hidden layers' outputs before dropout, and the masks (0 or
  ``1 / (1 - rate)``);
- with batch normalization, each normalized layer's ``(z - mean) / deviation``;
- each normalized unit's deviation ``sqrt(var + epsilon)`` in the batch (``width``);
- one flat gradient vector in the layout of ``params``.

``np.dot`` inside ``@njit`` calls the BLAS that SciPy ships. Every delta of a batch is
computed before its one update, from the weights from before the update.

``forward_batch`` and ``backward_batch`` are compiled apart, once per signature, not inlined
into each kernel, validation scoring, ``predict`` and the gradient that call them: a call a
batch costs nothing beside a batch's work, and each is typed and optimized once. Their
callers pass ``training`` as ``np.bool_``: a literal ``True`` or ``False`` would compile a
specialization of its own for each.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from fastbp.kernels import blocked, codes
from fastbp.kernels.blocked import uses_loops
from fastbp.kernels.config import MATRIX_JIT_OPTIONS
from fastbp.kernels.csr import (
    batch_inputs,
    first_layer_gradient,
    first_layer_product,
    folds_on_any_batch,
)
from fastbp.kernels.exponential import exp
from fastbp.kernels.layers import (
    activation,
    derivative,
    normalize,
    record_epoch,
    score_example,
)
from fastbp.kernels.shuffle import splitmix64

_UNIT_INTERVAL = 2.0**-53  # a 53-bit integer times this is uniform in [0, 1)

# What this path runs beyond plain SGD (feature names as ``fastbp._settings`` lists them).
RUNS = frozenset(
    {
        "momentum",
        "nesterov",
        "adam",
        "rprop",
        "schedule",
        "l2",
        "dropout",
        "dropout_in_batches",
        "clip_value",
        "clip_norm",
        "batch_norm",
        "sample_weight",
        "validation",
        "patience",
        "weighted_mean",
        "l2_divided",
        "l2_in_loss",
        "loss_output_mean",
        "order",
        "poisson",
        "exp",
        "sparse",
    }
)

# The scratch blocks of a batch, each ``batch_size * width`` (see the module doc).
Blocks = namedtuple("Blocks", ["acts", "raw", "masks", "norms", "deviations"])


def scratch_size(width, n_params, batch_size):
    """The scratch a fit needs: five blocks of ``batch_size * width``, the deviations
    (``width``), a gradient vector (``n_params``) and the layer products' spare block (the
    larger of the two)."""
    return 5 * batch_size * width + width + n_params + max(batch_size * width, n_params)


@njit(**MATRIX_JIT_OPTIONS)
def backward_batch(
    params,
    layout,
    inputs,
    first_inputs_at,
    rows,
    block,
    blocks,
    deltas,
    gradient,
    settings,
    spare,
    step,
):
    """Backpropagate the output deltas of a batch of ``rows`` (already in ``deltas``, after
    ``forward_batch``, which returned the first layer's ``inputs`` and ``first_inputs_at``)
    through every layer: the batch's summed gradient into ``gradient``,
    each hidden layer's deltas into its block of ``deltas`` (clipped with
    ``settings[CLIP_VALUE]``, through dropout's masks and batch normalization). The layer
    products take ``spare`` as their scratch (``kernels.blocked``).

    With a ``step`` other than 0 (plain SGD: ``-rate / divisor``) and more than
    ``blocked.LOOP_MAX_DEPTH`` rows (any number of sparse rows, whose step then touches only
    the weight rows of their stored columns), each layer's weights take their step inside
    the gradient product (``W += step * a.T @ delta``: BLAS's ``beta = 1``) once the deltas
    below have been found from the weights from before it, and ``gradient`` gets only the
    other parameters' (biases, normalization). Returns whether the weights were stepped so
    (``step_folded`` then takes the rest of the step)."""
    acts, raw, masks, norms, deviations = blocks
    last = layout.shape[0] - 1
    n_rows = np.int64(rows)
    clip_value = settings[codes.CLIP_VALUE]
    clipping = clip_value > 0.0
    dropping = settings[codes.DROPOUT] > 0.0
    zero = params.dtype.type(0.0)
    folded = step != zero and (folds_on_any_batch(inputs) or not uses_loops(rows, np.uint64(0)))
    for layer in range(last, -1, -1):
        fan_in = layout[layer, codes.FAN_IN]
        fan_out = layout[layer, codes.FAN_OUT]
        weights = layout[layer, codes.WEIGHT_OFFSET]
        inputs_at = block * layout[layer, codes.INPUT_OFFSET]
        outputs_at = block * layout[layer, codes.OUTPUT_OFFSET]
        delta = deltas[outputs_at : outputs_at + rows * fan_out].reshape((rows, fan_out))
        if layout[layer, codes.HAS_NORM]:
            # The deltas so far are with respect to the normalization's output y; turn
            # them into the pre-normalization z's, through the batch's mean and
            # variance: (m dzhat - sum dzhat - zhat sum(dzhat zhat)) / (m deviation).
            norm = layout[layer, codes.NORM_OFFSET]
            out = layout[layer, codes.OUTPUT_OFFSET]
            count = params.dtype.type(n_rows)
            for j in range(fan_out):
                scale = params[norm + j]
                scale_gradient = zero
                shift_gradient = zero
                total = zero
                projection = zero
                for i in range(rows):
                    normed = norms[outputs_at + i * fan_out + j]
                    scale_gradient += delta[i, j] * normed
                    shift_gradient += delta[i, j]
                    total += delta[i, j] * scale
                    projection += delta[i, j] * scale * normed
                gradient[norm + j] = scale_gradient
                gradient[norm + fan_out + j] = shift_gradient
                denominator = count * deviations[out + j]
                for i in range(rows):
                    normed = norms[outputs_at + i * fan_out + j]
                    change = count * (delta[i, j] * scale) - total - normed * projection
                    delta[i, j] = change / denominator
        if layout[layer, codes.HAS_BIAS]:
            bias = layout[layer, codes.BIAS_OFFSET]
            for j in range(fan_out):
                gradient[bias + j] = 0.0
            for i in range(rows):
                for j in range(fan_out):
                    gradient[bias + j] += delta[i, j]
        if layer > 0:
            blocked.deltas_product(
                deltas,
                outputs_at,
                params,
                weights,
                inputs_at,
                rows,
                fan_in,
                fan_out,
                spare,
            )
            code_below = layout[layer - 1, codes.ACTIVATION]
            if not dropping and not clipping:
                # Vectorized without the branches below (digits' batches: 1 ms an epoch).
                for p in range(inputs_at, inputs_at + rows * fan_in):
                    deltas[p] = deltas[p] * derivative(acts[p], code_below)
            for p in range(inputs_at, inputs_at + rows * fan_in if dropping or clipping else 0):
                if dropping:
                    d = deltas[p] * derivative(raw[p], code_below) * masks[p]
                else:
                    d = deltas[p] * derivative(acts[p], code_below)
                if clipping:
                    d = min(max(d, -clip_value), clip_value)
                deltas[p] = d
        # After the deltas below: a folded step changes the weights they are found from.
        target = params if folded else gradient
        scale = step if folded else zero
        if layer == 0:  # the data's rows, dense or sparse (kernels.csr)
            first_layer_gradient(
                inputs, first_inputs_at, deltas, outputs_at, target, weights, rows, fan_in,
                fan_out, scale,
            )  # fmt: skip
        else:
            blocked.gradient_product(
                acts, inputs_at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale
            )
    return folded


@njit(**MATRIX_JIT_OPTIONS)
def score_validation_by_batch(
    params,
    layout,
    X,
    Y,
    order,
    block,
    blocks,
    deltas,
    statistics,
    settings,
    options,
    rng_state,
    history,
    epoch,
):
    """The five metrics over ``(X, Y)``, as ``predict`` computes the outputs (no dropout, so
    ``rng_state`` is left alone; the running ``statistics``), into row ``epoch`` of ``history``
    from column ``VALIDATION``; ``order`` is ``0..len(X)-1``; ``blocks`` (see
    ``forward_batch``) and ``deltas`` serve as scratch."""
    acts = blocks.acts
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
            blocks,
            statistics,
            settings,
            np.bool_(False),
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
    if options[codes.LOSS_OUTPUT_MEAN] != 0:
        loss_sum = loss_sum * (1.0 / np.float64(n_outputs))
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


@njit(**MATRIX_JIT_OPTIONS)
def forward_batch(
    params,
    layout,
    X,
    order,
    start,
    rows,
    block,
    blocks,
    statistics,
    settings,
    training,
    rng_state,
):
    """The forward pass of rows ``order[start:start + rows]`` of ``X``, every layer's outputs
    into its block of ``acts``; ``blocks`` is ``(acts, raw, masks, norms, deviations)``.

    While ``training``:

    - batch-normalized layers use the batch's mean and (biased) variance, keep
      ``(z - mean) / deviation`` in ``norms`` and each unit's deviation in ``deviations``, and
      move the running ``statistics`` towards the batch's (the variance unbiased);
    - with dropout, each hidden unit of each row is kept with probability
      ``1 - settings[DROPOUT]`` (drawn from ``rng_state`` layer by layer, row by row, unit by
      unit) and scaled by ``settings[DROPOUT_SCALE]``; ``raw`` keeps the outputs before,
      ``masks`` the factors.

    Otherwise (``predict``'s pass) normalization uses the running statistics and nothing is
    dropped. Each layer's product is ``kernels.blocked``'s.

    ``X`` is a C-contiguous array or ``kernels.csr.CSRRows``. Returns where the first layer's
    inputs are, for ``backward_batch``: an array and an offset in it (the data's own rows, or
    the block of ``acts`` they were gathered into), or a sparse batch's rows.
    """
    acts, raw, masks, norms, deviations = blocks
    n_rows = np.int64(rows)
    inputs, inputs_at = batch_inputs(X, order, start, rows, acts)
    last = layout.shape[0] - 1
    rate = np.float64(settings[codes.DROPOUT])
    dropping = training and rate > 0.0
    scale = settings[codes.DROPOUT_SCALE]
    epsilon = settings[codes.NORM_EPSILON]
    momentum = settings[codes.NORM_MOMENTUM]
    zero = params.dtype.type(0.0)
    one = params.dtype.type(1.0)
    count = params.dtype.type(n_rows)
    for layer in range(last + 1):
        fan_in = layout[layer, codes.FAN_IN]
        fan_out = layout[layer, codes.FAN_OUT]
        weights = layout[layer, codes.WEIGHT_OFFSET]
        outputs_at = block * layout[layer, codes.OUTPUT_OFFSET]
        code = layout[layer, codes.ACTIVATION]
        z = acts[outputs_at : outputs_at + rows * fan_out].reshape((rows, fan_out))
        if layer == 0:  # the data's rows, dense or sparse (kernels.csr)
            first_layer_product(
                inputs, inputs_at, params, weights, acts, outputs_at, rows, fan_in, fan_out
            )
        else:
            below = block * layout[layer, codes.INPUT_OFFSET]
            blocked.forward_product(
                acts, below, params, weights, acts, outputs_at, rows, fan_in, fan_out
            )
        has_bias = layout[layer, codes.HAS_BIAS] != 0
        bias = layout[layer, codes.BIAS_OFFSET]
        has_norm = layout[layer, codes.HAS_NORM] != 0
        norm = layout[layer, codes.NORM_OFFSET]
        stats = layout[layer, codes.STATS_OFFSET]
        batch_statistics = has_norm and training
        if not has_norm:
            # The common layer in a loop of its own, which LLVM vectorizes: in the loop below
            # the normalization's branches kept relu a branch, mispredicted on half its units.
            for i in range(rows):
                for j in range(fan_out):
                    total = z[i, j]
                    if has_bias:
                        total = total + params[bias + j]
                    z[i, j] = activation(total, code)
        for i in range(rows):
            for j in range(fan_out if has_norm else 0):
                total = z[i, j]
                if has_bias:
                    total = total + params[bias + j]
                if batch_statistics:
                    z[i, j] = total  # normalized below, once the batch's statistics are known
                    continue
                if has_norm:
                    total = normalize(total, params, statistics, norm, stats, fan_out, j, epsilon)
                z[i, j] = activation(total, code)
            if code == codes.SOFTMAX:
                # Shifting by the maximum keeps exp finite and does not change the result.
                largest = z[i, 0]
                for j in range(fan_out):
                    largest = max(largest, z[i, j])
                total = zero
                for j in range(fan_out):
                    z[i, j] = exp(z[i, j] - largest)
                    total += z[i, j]
                for j in range(fan_out):
                    z[i, j] = z[i, j] / total
        if batch_statistics:
            out = layout[layer, codes.OUTPUT_OFFSET]
            for j in range(fan_out):
                mean = zero
                for i in range(rows):
                    mean += z[i, j]
                mean = mean / count
                variance = zero
                for i in range(rows):
                    difference = z[i, j] - mean
                    variance += difference * difference
                variance = variance / count
                deviation = np.sqrt(variance + epsilon)
                deviations[out + j] = deviation
                for i in range(rows):
                    normed = (z[i, j] - mean) / deviation
                    norms[outputs_at + i * fan_out + j] = normed
                    z[i, j] = activation(
                        normed * params[norm + j] + params[norm + fan_out + j], code
                    )
                statistics[stats + j] = (one - momentum) * statistics[stats + j] + momentum * mean
                unbiased = variance * count / (count - one)
                at = stats + fan_out + j
                statistics[at] = (one - momentum) * statistics[at] + momentum * unbiased
        if dropping and layer < last:
            for p in range(outputs_at, outputs_at + rows * fan_out):
                raw[p] = acts[p]
                keep = np.float64(splitmix64(rng_state) >> np.uint64(11)) * _UNIT_INTERVAL >= rate
                masks[p] = scale if keep else zero
                acts[p] = acts[p] * masks[p]
    return inputs, inputs_at
