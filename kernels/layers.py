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
from fastbp.kernels.config import HELPER_OPTIONS


@njit(**HELPER_OPTIONS)
def activation(z, code):
    """The activation ``code`` of the pre-activation ``z`` (softmax is applied separately)."""
    one = type(z)(1.0)  # a float64 literal would promote float32 work to float64
    if code == codes.SIGMOID:
        return one / (one + np.exp(-z))
    if code == codes.TANH:
        return np.tanh(z)
    if code == codes.RELU:
        return type(z)(0.0) if z < 0.0 else z  # NaN passes through: divergence stays visible
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
    return one


@njit(**HELPER_OPTIONS)
def forward(params, layout, acts):
    """Run the forward pass on the input already copied to the start of ``acts``."""
    zero = params.dtype.type(0.0)
    for layer in range(layout.shape[0]):
        fan_in = layout[layer, codes.FAN_IN]
        fan_out = layout[layer, codes.FAN_OUT]
        weights = layout[layer, codes.WEIGHT_OFFSET]
        inputs = layout[layer, codes.INPUT_OFFSET]
        out = layout[layer, codes.OUTPUT_OFFSET]
        has_bias = layout[layer, codes.HAS_BIAS] != 0
        bias = layout[layer, codes.BIAS_OFFSET]
        code = layout[layer, codes.ACTIVATION]
        # Each output is summed in a register, inputs in order, then the bias is added: the
        # order of ``a @ W + b``. (Accumulating into the scratch row by row was 3x slower on
        # tiny layers: a store and reload per input.)
        for j in range(fan_out):
            total = zero
            for k in range(fan_in):
                total += acts[inputs + k] * params[weights + k * fan_out + j]
            if has_bias:
                total = total + params[bias + j]
            acts[out + j] = activation(total, code)
        if code == codes.SOFTMAX:
            # Shifting by the maximum keeps exp finite and does not change the result.
            largest = acts[out]
            for j in range(out, out + fan_out):
                largest = max(largest, acts[j])
            total = zero
            for j in range(out, out + fan_out):
                acts[j] = np.exp(acts[j] - largest)
                total += acts[j]
            for j in range(out, out + fan_out):
                acts[j] = acts[j] / total
