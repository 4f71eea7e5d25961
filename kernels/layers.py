"""Building blocks of the kernels: activations, their derivatives, the forward pass.

Activations and derivatives take and return scalars. Array-handling helpers are called only
directly from a kernel's body, never through a second level of calls: Numba does not prune
the reference counting of arrays passed down two levels (numba#2345), and on a tiny network
that cost more than the arithmetic.

Buffers are indexed with offsets from the uint64 layout table rather than sliced: a slice is a
new array object, and unsigned indices spare LLVM the wrap-around code that blocks
vectorization. Arithmetic on layout entries therefore stays in uint64 (mixing in a signed
integer would make Numba promote the result to float64).
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import EPOCH_HELPER_OPTIONS, HELPER_OPTIONS
from fastbp.kernels.exponential import exp, tanh
from fastbp.kernels.shuffle import splitmix64

UNIT_INTERVAL = 2.0**-53  # a 53-bit integer times this is uniform in [0, 1)

# The forward pass computes layers with at least this many outputs row by row, vectorized
# across the outputs (uint64 like the layout, so comparisons stay integer).
ROW_BY_ROW = np.uint64(4)
# The backward pass propagates deltas to layers with at least this many units in a pass of
# its own, vectorized across them (kernels.loops).
WIDE = np.uint64(16)


@njit(**HELPER_OPTIONS)
def activation(z, code):
    """The activation ``code`` of the pre-activation ``z`` (softmax is applied separately)."""
    one = type(z)(1.0)  # a float64 literal would promote float32 work to float64
    if code == codes.RELU:
        return type(z)(0.0) if z < 0.0 else z  # NaN passes through: divergence stays visible
    if code == codes.TANH:
        return tanh(z)
    if code == codes.SIGMOID or code == codes.EXP:
        # One call of exp for both: each is inlined wherever this is, and compiling them
        # took a first fit about a second.
        sigmoid = code == codes.SIGMOID
        power = exp(-z if sigmoid else z)
        return one / (one + power) if sigmoid else power
    return z


@njit(**HELPER_OPTIONS)
def derivative(a, code):
    """The activation's derivative written through its output ``a``, as the tutorials do."""
    one = type(a)(1.0)
    if code == codes.SIGMOID:
        return a * (one - a)
    if code == codes.TANH:
        return one - a * a
    if code == codes.RELU:
        return one if a > 0.0 else type(a)(0.0)
    if code == codes.EXP:
        return a
    return one


@njit(**HELPER_OPTIONS)
def normalize(z, params, statistics, norm, stats, fan_out, j, epsilon):
    """Batch normalization of unit ``j``'s pre-activation ``z`` with the running statistics
    (``predict``'s): ``(z - mean) / sqrt(variance + epsilon) * gamma + beta``, in the order of
    ``fastbp.reference``; ``norm`` and ``stats`` are the layer's offsets in the layout."""
    deviation = np.sqrt(statistics[stats + fan_out + j] + epsilon)
    return (z - statistics[stats + j]) / deviation * params[norm + j] + params[norm + fan_out + j]


@njit(**HELPER_OPTIONS)
def forward_layers(params, layout, acts, statistics, epsilon, first, stop):
    """Run layers ``first`` to ``stop - 1`` of the forward pass, the first's inputs already
    in ``acts`` (the whole pass: ``0, layout.shape[0]``, with the input copied to the start of
    ``acts``); layers with batch normalization use the running ``statistics`` (``predict``'s
    pass). One layer at a time lets a training kernel drop out units in between."""
    zero = params.dtype.type(0.0)
    for layer in range(first, stop):
        fan_in = layout[layer, codes.FAN_IN]
        fan_out = layout[layer, codes.FAN_OUT]
        weights = layout[layer, codes.WEIGHT_OFFSET]
        inputs = layout[layer, codes.INPUT_OFFSET]
        out = layout[layer, codes.OUTPUT_OFFSET]
        has_bias = layout[layer, codes.HAS_BIAS] != 0
        has_norm = layout[layer, codes.HAS_NORM] != 0
        norm = layout[layer, codes.NORM_OFFSET]
        stats = layout[layer, codes.STATS_OFFSET]
        bias = layout[layer, codes.BIAS_OFFSET]
        code = layout[layer, codes.ACTIVATION]
        # Both forms sum each output over the inputs in order, then add the bias: the order
        # of ``a @ W + b``, so they round identically.
        if fan_out >= ROW_BY_ROW:
            # Row by row into the scratch, vectorized across the outputs, four rows a sweep:
            # ((s + a0 w0) + a1 w1) + ... adds in the order of four sweeps with a quarter of
            # their loads and stores of the outputs (64-128: 0.59 against 1.7 us; 128-10:
            # 0.21 against 0.72 us summed output by output).
            for j in range(fan_out):
                acts[out + j] = zero
            whole = fan_in - fan_in % np.uint64(4)
            for k in range(np.uint64(0), whole, np.uint64(4)):
                a_0 = acts[inputs + k]
                a_1 = acts[inputs + k + np.uint64(1)]
                a_2 = acts[inputs + k + np.uint64(2)]
                a_3 = acts[inputs + k + np.uint64(3)]
                row_0 = weights + k * fan_out
                row_1 = row_0 + fan_out
                row_2 = row_1 + fan_out
                row_3 = row_2 + fan_out
                for j in range(fan_out):
                    total = acts[out + j] + a_0 * params[row_0 + j]
                    total = total + a_1 * params[row_1 + j]
                    total = total + a_2 * params[row_2 + j]
                    acts[out + j] = total + a_3 * params[row_3 + j]
            for k in range(whole, fan_in):
                a_k = acts[inputs + k]
                row = weights + k * fan_out
                for j in range(fan_out):
                    acts[out + j] += a_k * params[row + j]
        else:
            # Each output summed in a register: with fewer outputs than a vector holds, the
            # row-by-row form was up to 4x slower (32-1: 54 against 13 ns).
            for j in range(fan_out):
                total = zero
                for k in range(fan_in):
                    total += acts[inputs + k] * params[weights + k * fan_out + j]
                acts[out + j] = total
        if has_bias or has_norm:
            for j in range(fan_out):
                total = acts[out + j]
                if has_bias:
                    total = total + params[bias + j]
                if has_norm:
                    total = normalize(total, params, statistics, norm, stats, fan_out, j, epsilon)
                acts[out + j] = total
        # A loop per activation, so that each vectorizes (exp included: kernels.exponential).
        # Sigmoid and exp share a loop, so that exp is compiled once here.
        if code == codes.SIGMOID or code == codes.EXP:
            for j in range(out, out + fan_out):
                acts[j] = activation(acts[j], code)
        elif code == codes.RELU:
            for j in range(out, out + fan_out):
                acts[j] = activation(acts[j], codes.RELU)
        elif code == codes.TANH:
            for j in range(out, out + fan_out):
                acts[j] = activation(acts[j], codes.TANH)
        if code == codes.SOFTMAX:
            # Shifting by the maximum keeps exp finite and does not change the result.
            largest = acts[out]
            for j in range(out, out + fan_out):
                largest = max(largest, acts[j])
            total = zero
            for j in range(out, out + fan_out):
                acts[j] = exp(acts[j] - largest)
                total += acts[j]
            for j in range(out, out + fan_out):
                acts[j] = acts[j] / total


@njit(**HELPER_OPTIONS)
def drop_out(acts, raw, masks, start, stop, rate, scale, rng_state):
    """Inverted dropout of units ``start`` to ``stop - 1`` of ``acts``: each kept with
    probability ``1 - rate`` (one draw from ``rng_state`` per unit, in order) and scaled by
    ``scale``; ``raw`` keeps the outputs before, ``masks`` the factors (0 or ``scale``)."""
    zero = acts.dtype.type(0.0)
    for p in range(start, stop):
        raw[p] = acts[p]
        keep = np.float64(splitmix64(rng_state) >> np.uint64(11)) * UNIT_INTERVAL >= rate
        masks[p] = scale if keep else zero
        acts[p] = acts[p] * masks[p]


@njit(**HELPER_OPTIONS)
def score_example(acts, deltas, start, n_outputs, Y, example, loss_code, out_code, log_clip):
    """Score one example's outputs ``acts[start:start + n_outputs]`` against ``Y[example]``.

    Writes the error ``o - t`` into ``deltas`` at the same offsets and returns the example's
    loss, summed squared and absolute errors (float64) and whether it is classified correctly.
    """
    example_loss = 0.0
    squared = 0.0
    absolute = 0.0
    best_out = np.uint64(0)
    best_target = np.uint64(0)
    for j in range(n_outputs):
        o = acts[start + j]
        t = Y[example, j]
        error = o - t
        deltas[start + j] = error
        e = np.float64(error)
        squared += e * e
        absolute += abs(e)
        if loss_code == codes.SQUARED_ERROR:
            example_loss += 0.5 * e * e
        elif loss_code == codes.POISSON:
            # scikit-learn's xlogy(t, t / o) - t + o, in its order (xlogy(0, x) is 0).
            t64 = np.float64(t)
            o64 = np.float64(o)
            deviance = t64 * np.log(t64 / o64) if t64 != 0.0 else 0.0
            example_loss += deviance - t64 + o64
        else:
            # A term whose factor is 0 subtracts -0.0, which changes no sum: skipping its
            # logarithm (9 of 10 on one-hot digits) leaves the loss as it was, bit for bit.
            p = min(max(np.float64(o), log_clip), 1.0 - log_clip)
            if t != 0.0:
                example_loss -= np.float64(t) * np.log(p)
            if out_code == codes.SIGMOID and t != 1.0:
                example_loss -= (1.0 - np.float64(t)) * np.log(1.0 - p)
        if o > acts[start + best_out]:
            best_out = j
        if t > Y[example, best_target]:
            best_target = j
    if n_outputs == 1:
        correct = (acts[start] > 0.5) == (Y[example, 0] > 0.5)
    else:
        correct = best_out == best_target
    return example_loss, squared, absolute, correct


@njit(**HELPER_OPTIONS)
def output_delta(acts, deltas, start, n_outputs, loss_code, out_code):
    """Turn the errors ``score_example`` wrote into the output layer's delta, dLoss/dz."""
    if loss_code != codes.SQUARED_ERROR:
        # Cross entropy on a sigmoid or softmax output, Poisson on an exp output (each its
        # canonical link): the delta is the error itself.
        return
    stop = start + n_outputs
    if out_code == codes.SOFTMAX:
        # The softmax Jacobian applied to the error: o_j (e_j - sum_k e_k o_k).
        projection = acts.dtype.type(0.0)
        for j in range(start, stop):
            projection += deltas[j] * acts[j]
        for j in range(start, stop):
            deltas[j] = acts[j] * (deltas[j] - projection)
    else:
        for j in range(start, stop):
            deltas[j] = deltas[j] * derivative(acts[j], out_code)


@njit(**EPOCH_HELPER_OPTIONS)
def check_epoch(history, epoch, params, next_check, check_every):
    """Whether row ``epoch`` of the history has a finite loss and, if the parameters are due
    for a check (at epoch ``next_check`` or the call's last), every parameter is finite.
    Returns that and the next epoch due for a check.

    A kernel stops at the first epoch where this fails (divergence) and returns its index.
    Scanning the parameters only every ``check_every`` epochs (``options[CHECK_EVERY]``) and at
    a call's last epoch means a call never ends on unchecked parameters, while a 4-example
    data set does not pay for a scan every epoch (15%). The caller finds the exact epoch by
    replaying with an interval of 1. ``v - v`` is 0 for a finite ``v`` and NaN otherwise;
    or-ing the comparisons (rather than branching per value) lets LLVM vectorize the scan.
    """
    due = epoch == next_check or epoch == history.shape[0] - 1
    if due:
        next_check += check_every
    if not np.isfinite(history[epoch, codes.LOSS]):
        return False, next_check
    if not due:
        return True, next_check
    non_finite = False
    for p in range(params.shape[0]):
        value = params[p]
        non_finite |= (value - value) != 0.0
    return not non_finite, next_check


@njit(**EPOCH_HELPER_OPTIONS)
def record_epoch(history, epoch, column, n_samples, n_outputs, loss, squared, absolute, n_correct):
    """Write row ``epoch`` of the history from the epoch's tallies over its examples: the
    training metrics with ``column`` 0, the validation metrics with ``codes.VALIDATION``."""
    history[epoch, column + codes.LOSS] = loss / n_samples
    history[epoch, column + codes.SSE] = squared
    history[epoch, column + codes.MSE] = squared / (n_samples * n_outputs)
    history[epoch, column + codes.MAE] = absolute / (n_samples * n_outputs)
    history[epoch, column + codes.ACCURACY] = n_correct / n_samples


@njit(**EPOCH_HELPER_OPTIONS)
def score_validation_by_example(
    params, layout, X, Y, acts, deltas, statistics, settings, options, history, epoch
):
    """Score ``(X, Y)`` example by example, the outputs as ``predict`` computes them (the
    running ``statistics``, no dropout), into row ``epoch`` of ``history`` from column
    ``VALIDATION``; ``acts`` and ``deltas`` (one example's) serve as scratch."""
    last = layout.shape[0] - 1
    out_start = layout[last, codes.OUTPUT_OFFSET]
    n_outputs = layout[last, codes.FAN_OUT]
    out_code = layout[last, codes.ACTIVATION]
    loss_code = options[codes.LOSS_CODE]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    epsilon = settings[codes.NORM_EPSILON]
    loss_sum = 0.0
    squared_sum = 0.0
    absolute_sum = 0.0
    n_correct = 0
    for example in range(X.shape[0]):
        for k in range(X.shape[1]):
            acts[k] = X[example, k]
        forward_layers(params, layout, acts, statistics, epsilon, 0, layout.shape[0])
        example_loss, squared, absolute, correct = score_example(
            acts, deltas, out_start, n_outputs, Y, example, loss_code, out_code, log_clip
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
        X.shape[0],
        Y.shape[1],
        loss_sum,
        squared_sum,
        absolute_sum,
        n_correct,
    )
