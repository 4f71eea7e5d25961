"""Forward pass over many examples: the same arithmetic as training's forward pass."""

from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS
from fastbp.kernels.layers import forward_layers


@njit(**JIT_OPTIONS)
def predict(params, layout, X, acts, out, statistics, epsilon):
    """Write the network's outputs for every row of ``X`` into ``out``; batch-normalized
    layers use the running ``statistics`` and ``epsilon``."""
    last = layout.shape[0] - 1
    start = layout[last, codes.OUTPUT_OFFSET]
    for i in range(X.shape[0]):
        for k in range(X.shape[1]):
            acts[k] = X[i, k]
        forward_layers(params, layout, acts, statistics, epsilon, 0, layout.shape[0])
        for j in range(out.shape[1]):
            out[i, j] = acts[start + j]
