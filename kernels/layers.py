"""The per-example pieces of backpropagation, shared by every training kernel.

Each function works on one example held in the activation scratch ``acts``: the input row at
the start, then each layer's outputs at its ``OUTPUT_OFFSET``. ``deltas`` has the same layout
as ``acts``. Derivatives are taken through a layer's outputs, as the tutorials do.
"""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def weight_view(params, layout, layer):
    """The (fan_in, fan_out) view of a layer's weights inside ``params``."""
    fan_in = layout[layer, codes.FAN_IN]
    fan_out = layout[layer, codes.FAN_OUT]
    start = layout[layer, codes.WEIGHT_OFFSET]
    return params[start : start + fan_in * fan_out].reshape((fan_in, fan_out))


@njit(**JIT_OPTIONS)
def activate(z, code):
    """Apply activation ``code`` in place to the pre-activations ``z``."""
    n = z.shape[0]
    one = z.dtype.type(1.0)  # a float64 literal would promote float32 work to float64
    if code == codes.SIGMOID:
        for j in range(n):
            z[j] = one / (one + np.exp(-z[j]))
    elif code == codes.TANH:
        for j in range(n):
            z[j] = np.tanh(z[j])
    elif code == codes.RELU:
        for j in range(n):
            if z[j] < 0.0:  # NaN passes through, so divergence stays visible
                z[j] = 0.0
    elif code == codes.SOFTMAX:
        # Shifting by the maximum keeps exp finite; it does not change the result.
        largest = z[0]
        for j in range(1, n):
            if z[j] > largest:
                largest = z[j]
        total = z.dtype.type(0.0)
        for j in range(n):
            z[j] = np.exp(z[j] - largest)
            total += z[j]
        for j in range(n):
            z[j] = z[j] / total


@njit(**JIT_OPTIONS)
def scale_by_derivative(delta, out, code):
    """Multiply ``delta`` in place by the activation's derivative, written through ``out``.

    Softmax is not elementwise and is handled by ``output_delta``; identity leaves ``delta``.
    """
    n = delta.shape[0]
    one = out.dtype.type(1.0)
    if code == codes.SIGMOID:
        for j in range(n):
            delta[j] = delta[j] * (out[j] * (one - out[j]))
    elif code == codes.TANH:
        for j in range(n):
            delta[j] = delta[j] * (one - out[j] * out[j])
    elif code == codes.RELU:
        for j in range(n):
            if not out[j] > 0.0:
                delta[j] = 0.0


@njit(**JIT_OPTIONS)
def forward(params, layout, acts):
    """Run the forward pass on the input already copied to the start of ``acts``."""
    for layer in range(layout.shape[0]):
        weights = weight_view(params, layout, layer)
        fan_in = weights.shape[0]
        fan_out = weights.shape[1]
        in_start = layout[layer, codes.INPUT_OFFSET]
        inputs = acts[in_start : in_start + fan_in]
        out_start = layout[layer, codes.OUTPUT_OFFSET]
        out = acts[out_start : out_start + fan_out]
        out[:] = 0.0
        # Row by row (an axpy per input) so the inner loop is contiguous and needs no
        # reassociation to vectorize.
        for k in range(fan_in):
            a_k = inputs[k]
            row = weights[k]
            for j in range(fan_out):
                out[j] += a_k * row[j]
        b_start = layout[layer, codes.BIAS_OFFSET]
        if b_start >= 0:
            bias = params[b_start : b_start + fan_out]
            for j in range(fan_out):
                out[j] = out[j] + bias[j]
        activate(out, layout[layer, codes.ACTIVATION])


@njit(**JIT_OPTIONS)
def score_and_output_delta(out, target, delta, activation, loss_code, log_clip, tally):
    """Record the example's loss and errors in ``tally`` and write the output delta.

    ``tally`` accumulates, in float64, [loss, sum of squared errors, sum of absolute errors,
    correct predictions] over an epoch.
    """
    n = out.shape[0]
    example_loss = 0.0
    for j in range(n):
        error = out[j] - target[j]
        delta[j] = error
        e = np.float64(error)
        tally[1] += e * e
        tally[2] += abs(e)
        if loss_code == codes.SQUARED_ERROR:
            example_loss += 0.5 * e * e
        else:
            p = min(max(np.float64(out[j]), log_clip), 1.0 - log_clip)
            t = np.float64(target[j])
            example_loss -= t * np.log(p)
            if activation == codes.SIGMOID:
                example_loss -= (1.0 - t) * np.log(1.0 - p)
    tally[0] += example_loss
    tally[3] += is_correct(out, target)

    if loss_code == codes.SQUARED_ERROR:
        if activation == codes.SOFTMAX:
            # The softmax Jacobian applied to the error: o_j * (e_j - sum_k e_k o_k).
            projection = delta.dtype.type(0.0)
            for j in range(n):
                projection += delta[j] * out[j]
            for j in range(n):
                delta[j] = out[j] * (delta[j] - projection)
        else:
            scale_by_derivative(delta, out, activation)
    # Cross entropy with a sigmoid or softmax output: the delta is the error itself.


@njit(**JIT_OPTIONS)
def is_correct(out, target):
    """1.0 when the prediction names the target's class, else 0.0.

    One output: both sides of 0.5 agree. Several: the first largest output and the first
    largest target are at the same index (NumPy's argmax).
    """
    n = out.shape[0]
    if n == 1:
        return 1.0 if (out[0] > 0.5) == (target[0] > 0.5) else 0.0
    best_out = 0
    best_target = 0
    for j in range(1, n):
        if out[j] > out[best_out]:
            best_out = j
        if target[j] > target[best_target]:
            best_target = j
    return 1.0 if best_out == best_target else 0.0


@njit(**JIT_OPTIONS)
def backprop_layer(weights, delta, inputs, previous_delta, target, step):
    """Back-propagate ``delta`` through ``weights`` and add ``step * outer(inputs, delta)``
    to ``target``, in one pass over the weights.

    ``previous_delta`` receives ``weights @ delta`` (before any change to the weights), still to
    be scaled by the previous layer's derivative; pass an empty array to skip it (first layer).
    ``target`` is the weights themselves for a per-example step (``step = -learning_rate``) or
    the gradient accumulator of a batch (``step = 1``): ``w + (-lr) * g`` rounds exactly as
    ``w - lr * g``, so both share this loop.
    """
    fan_in = weights.shape[0]
    fan_out = weights.shape[1]
    propagate = previous_delta.shape[0] == fan_in
    for k in range(fan_in):
        row = weights[k]
        if propagate:
            total = delta.dtype.type(0.0)
            for j in range(fan_out):
                total += delta[j] * row[j]
            previous_delta[k] = total
        a_k = inputs[k]
        target_row = target[k]
        for j in range(fan_out):
            target_row[j] += step * (a_k * delta[j])
