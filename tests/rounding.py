"""Rounding bounds for comparing two correct implementations of a forward pass.

Two implementations that sum a layer's inputs in different orders (a kernel in input order,
BLAS in blocks with FMA, ONNX Runtime in its own) differ by a few units in the last place of
the magnitude of the terms each output sums, not of the output itself. ``error_scales``
carries that magnitude through a network, and ``assert_close`` holds a difference to a
tolerance times it.
"""

import numpy as np

from fastbp import reference

# Relative to the magnitude of what each output is computed from (``error_scales``): ONNX
# Runtime's MatMul and the estimators' BLAS calls sum in their own order (blocked, with FMA)
# where the kernel sums each unit's inputs in order, and a float32 ONNX graph also
# standardizes in float32 where predict does it in float64. The float64 tolerance is 4500
# units in the last place (eps); float32's, 84.
TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def error_scales(net, X):
    """Per output of ``predict`` and ``predict_proba``, the magnitude its rounding errors
    are relative to.

    Summed in another order, ``z = a @ W + b`` differs by a few units in the last place of
    ``|a| @ |W| + |b|``, not of ``|z|``: where the terms cancel (an identity or tanh output
    near 0) the relative difference of two correct implementations grows without bound
    (NumPy's ``fastbp.reference`` differs from ``predict`` by 3e-12 relative on some
    outputs). So this carries that magnitude through the network in float64, as a forward
    error bound does: through batch normalization's affine map, and through activations
    (whose slopes are at most 1) as the magnitude of the pre-activation plus the rounding of
    the activation's own value. A softmax is relatively well conditioned: its errors are its
    outputs times the largest error of its inputs.
    """
    a = net.inputs(X).astype(np.float64)
    magnitude = np.abs(a)
    if net.scaling is not None:  # a float32 graph rounds the mean and scale to float32
        magnitude = (np.abs(X) + np.abs(net.scaling.mean)) / net.scaling.scale
    for layer, weights in enumerate(net.weights):
        weights, bias = weights.astype(np.float64), net.biases[layer]
        z, terms = a @ weights, magnitude @ np.abs(weights)
        if bias is not None:
            z, terms = z + bias, terms + np.abs(bias)
        if net.batch_norm[layer]:
            deviation = np.sqrt(net.running_variances[layer] + net.dtype.type(net.norm_epsilon))
            mean, gamma = net.running_means[layer], net.norm_scales[layer]
            z = (z - mean) / deviation * gamma + net.norm_shifts[layer]
            terms = (terms + np.abs(mean)) / deviation * np.abs(gamma) + np.abs(
                net.norm_shifts[layer]
            )
        a = reference.ACTIVATIONS[net.activations[layer]](z)
        magnitude = terms + np.abs(a)
    if net.activations[-1] == "softmax":
        magnitude = np.abs(a) * (1 + 2 * terms.max(axis=1, keepdims=True))
    probabilities = np.hstack([magnitude, magnitude]) if net.n_outputs == 1 else magnitude
    return magnitude, probabilities


def assert_close(got, expected, scale, tolerance, name):
    excess = np.abs(got.astype(np.float64) - expected) / (tolerance * scale)
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    assert excess[worst] <= 1, (
        f"{name}[{worst}]: got {got[worst]!r}, expected {expected[worst]!r}: "
        f"{excess[worst]:.3g} times the tolerance {tolerance} x {scale[worst]:.3g}"
    )
