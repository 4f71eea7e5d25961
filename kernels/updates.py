"""The update of a batch: L2 penalty, gradient-norm clipping and the optimizer's step.

``gradient`` holds the batch's summed gradient in the layout of ``params``;
``optimizer_state`` the optimizer's state, two vectors of the same layout one after the other:

- SGD with momentum and Nesterov: the velocity ``v`` (the second vector is unused);
- Adam: the first and second moment estimates ``m`` and ``v``;
- iRPROP-: the previous gradient and each parameter's step size.

The order of the arithmetic is ``fastbp.reference``'s, operation for operation.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import EPOCH_HELPER_OPTIONS, HELPER_OPTIONS, NORM_HELPER_OPTIONS


@njit(**EPOCH_HELPER_OPTIONS)
def apply_update(
    params, gradient, optimizer_state, layout, settings, options, counters, rate, divisor
):
    """Turn ``gradient`` (summed over the batch) into the step, and take it.

    The gradient is divided by ``divisor``, the L2 penalty's gradient is added (before the
    division with ``options[L2_DIVIDED]``, as scikit-learn adds ``alpha * W``), the whole
    vector is scaled down to the clipping norm if it is longer, and the optimizer steps with
    learning rate ``rate``.
    """
    n_params = params.shape[0]
    one = params.dtype.type(1.0)
    optimizer = options[codes.OPTIMIZER]
    l2 = settings[codes.L2]
    clip_norm = np.float64(settings[codes.CLIP_NORM])
    counters[codes.STEP_COUNT] += 1.0
    # Without L2 or clipping the optimizer's own pass divides (the same rounding): a pass
    # over the gradient fewer. Plain SGD's separate passes cost W4 15% in memory traffic;
    # momentum's update ran 1.3-1.6x faster in one (7,510 and 203,530 parameters, float64
    # and float32, interleaved); Adam's, bound by its square roots and divisions, gained
    # nothing. Otherwise the gradient is divided here first.
    if l2 != 0.0 or clip_norm > 0.0:
        divided = options[codes.L2_DIVIDED] != 0
        if l2 != 0.0 and divided:
            add_l2(gradient, params, layout, options, l2)
        for p in range(n_params):
            gradient[p] = gradient[p] / divisor
        if l2 != 0.0 and not divided:
            add_l2(gradient, params, layout, options, l2)
        divisor = params.dtype.type(1.0)  # dividing by it below changes nothing

    if clip_norm > 0.0:
        norm = np.sqrt(squared_norm(gradient))
        if norm > clip_norm:
            scale = params.dtype.type(clip_norm / norm)
            for p in range(n_params):
                gradient[p] = gradient[p] * scale

    if optimizer == codes.SGD:
        for p in range(n_params):
            params[p] -= rate * (gradient[p] / divisor)
    elif optimizer == codes.MOMENTUM_SGD or optimizer == codes.NESTEROV:
        momentum = settings[codes.MOMENTUM]
        nesterov = optimizer == codes.NESTEROV
        for p in range(n_params):
            g = gradient[p] / divisor
            velocity = momentum * optimizer_state[p] - rate * g
            optimizer_state[p] = velocity
            if nesterov:
                params[p] += momentum * velocity - rate * g
            else:
                params[p] += velocity
    elif optimizer == codes.ADAM:
        beta_1 = settings[codes.BETA_1]
        beta_2 = settings[codes.BETA_2]
        epsilon = settings[codes.EPSILON]
        t = counters[codes.STEP_COUNT]
        corrected = np.float64(rate) * np.sqrt(1.0 - np.float64(beta_2) ** t)
        step_size = params.dtype.type(corrected / (1.0 - np.float64(beta_1) ** t))
        for p in range(n_params):
            g = gradient[p] / divisor
            m = beta_1 * optimizer_state[p] + (one - beta_1) * g
            v = beta_2 * optimizer_state[n_params + p] + (one - beta_2) * (g * g)
            optimizer_state[p] = m
            optimizer_state[n_params + p] = v
            params[p] -= step_size * m / (np.sqrt(v) + epsilon)
    else:  # iRPROP-: a step per parameter, grown while the gradient keeps its sign
        increase = settings[codes.RPROP_INCREASE]
        decrease = settings[codes.RPROP_DECREASE]
        step_min = settings[codes.RPROP_STEP_MIN]
        step_max = settings[codes.RPROP_STEP_MAX]
        for p in range(n_params):
            g = gradient[p] / divisor
            size = optimizer_state[n_params + p]
            agreement = g * optimizer_state[p]
            if agreement > 0.0:
                size = min(size * increase, step_max)
            elif agreement < 0.0:
                size = max(size * decrease, step_min)
                g = params.dtype.type(0.0)  # the "-": no step, and no sign to compare next time
            if g > 0.0:
                params[p] -= size
            elif g < 0.0:
                params[p] += size
            optimizer_state[p] = g
            optimizer_state[n_params + p] = size


@njit(**NORM_HELPER_OPTIONS)
def squared_norm(values):
    """The sum of the squares of ``values``, in float64, in the order that vectorizes
    (``kernels.config.NORM_FASTMATH``)."""
    total = 0.0
    for p in range(values.shape[0]):
        value = np.float64(values[p])
        total += value * value
    return total


@njit(**HELPER_OPTIONS)
def step_folded(params, gradient, layout, counters, rate, divisor):
    """Plain SGD's step for what ``kernels.train_matrix.backward_batch`` did not fold into
    the gradient products: every layer's parameters after its weights (its bias, its
    normalization's scale and shift), as ``apply_update``'s plain pass steps them."""
    counters[codes.STEP_COUNT] += 1.0
    last = layout.shape[0] - 1
    for layer in range(last + 1):
        first = layout[layer, codes.WEIGHT_OFFSET] + (
            layout[layer, codes.FAN_IN] * layout[layer, codes.FAN_OUT]
        )
        stop = np.uint64(params.shape[0])
        if layer < last:
            stop = layout[layer + 1, codes.WEIGHT_OFFSET]
        for p in range(first, stop):
            params[p] -= rate * (gradient[p] / divisor)


@njit(**HELPER_OPTIONS)
def decayed(layout, layer, options):
    """Where the parameters L2 covers start and stop in layer ``layer``: its weights, and its
    bias too with ``options[L2_BIASES]`` (the bias follows the weights in the layout)."""
    first = layout[layer, codes.WEIGHT_OFFSET]
    stop = first + layout[layer, codes.FAN_IN] * layout[layer, codes.FAN_OUT]
    if options[codes.L2_BIASES] != 0 and layout[layer, codes.HAS_BIAS] != 0:
        stop = layout[layer, codes.BIAS_OFFSET] + layout[layer, codes.FAN_OUT]
    return first, stop


@njit(**HELPER_OPTIONS)
def add_l2(gradient, params, layout, options, l2):
    """Add the L2 penalty's gradient ``l2 * w`` to ``gradient`` where L2 covers."""
    for layer in range(layout.shape[0]):
        first, stop = decayed(layout, layer, options)
        for p in range(first, stop):
            gradient[p] += l2 * params[p]


@njit(**EPOCH_HELPER_OPTIONS)
def l2_penalty(params, layout, options, l2):
    """The L2 penalty ``0.5 * l2 * sum(w**2)`` over what L2 covers, in float64.

    The squares are summed in eight interleaved partial sums, which LLVM vectorizes without
    fastmath (a sum in one order is a chain of dependent additions): 3.5 us against 7.1 on
    digits' 64-100-10, 0.29 ms against 0.88 on 784-256-10, per batch. The reference's
    ``np.sum`` sums pairwise, in another order again; the two agree to rounding."""
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for layer in range(layout.shape[0]):
        first, stop = decayed(layout, layer, options)
        whole = first + (stop - first) // np.uint64(8) * np.uint64(8)
        for p in range(first, whole, np.uint64(8)):
            w0 = np.float64(params[p])
            w1 = np.float64(params[p + np.uint64(1)])
            w2 = np.float64(params[p + np.uint64(2)])
            w3 = np.float64(params[p + np.uint64(3)])
            w4 = np.float64(params[p + np.uint64(4)])
            w5 = np.float64(params[p + np.uint64(5)])
            w6 = np.float64(params[p + np.uint64(6)])
            w7 = np.float64(params[p + np.uint64(7)])
            s0 += w0 * w0
            s1 += w1 * w1
            s2 += w2 * w2
            s3 += w3 * w3
            s4 += w4 * w4
            s5 += w5 * w5
            s6 += w6 * w6
            s7 += w7 * w7
        for p in range(whole, stop):
            w = np.float64(params[p])
            s0 += w * w
    squares = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    return 0.5 * np.float64(l2) * squares
