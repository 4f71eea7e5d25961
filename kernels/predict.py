"""Forward pass over many examples, the same arithmetic as training's forward pass."""

from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS
from fastbp.kernels.layers import forward


@njit(**JIT_OPTIONS)
def predict(params, layout, X, acts, out):
    """Write the network's outputs for every row of ``X`` into ``out``."""
    n_inputs = X.shape[1]
    last = layout.shape[0] - 1
    out_start = layout[last, codes.OUTPUT_OFFSET]
    n_outputs = layout[last, codes.FAN_OUT]
    for i in range(X.shape[0]):
        acts[:n_inputs] = X[i]
        forward(params, layout, acts)
        out[i] = acts[out_start : out_start + n_outputs]
