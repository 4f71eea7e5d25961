"""Forward pass over many examples: the same arithmetic as training's forward pass.

Two compilations of one loop: ``predict`` inlines the forward pass of ``kernels.layers``, and
``predict_called`` calls its twin compiled apart (``kernels.called``), which the generic
kernels share, so a first ``predict`` after a generic fit compiles little more than its loop
(64-128-10 per example, a fresh process on one core: 0.47-0.56 s against 1.85-1.87 s; after
a matrix fit, 1.6 s either way). Both round alike, bit for bit. The call costs about 10 ns a row,
which shows on small networks (on one core: 81 against 88 ns a row on 3-4-1, 200 against
212 on 16-32-8, 1,117 against 1,130 on 64-128-10): ``for_sizes`` takes the inlined one for
networks of at most ``INLINED_MAX_WEIGHTS`` weights, the called one (within 3%) above.
"""

import functools
import itertools

from numba import njit

from fastbp.kernels import called, codes, layers
from fastbp.kernels.config import HELPER_OPTIONS, JIT_OPTIONS

INLINED_MAX_WEIGHTS = 2048


@functools.cache
def for_sizes(sizes):
    """The ``predict`` kernel for a network of layer ``sizes`` (a tuple), chosen once."""
    weights = sum(n_in * n_out for n_in, n_out in itertools.pairwise(sizes))
    return predict if weights <= INLINED_MAX_WEIGHTS else predict_called


@njit(**HELPER_OPTIONS)
def _load(X, i, acts):
    for k in range(X.shape[1]):
        acts[k] = X[i, k]


@njit(**HELPER_OPTIONS)
def _store(acts, start, out, i):
    for j in range(out.shape[1]):
        out[i, j] = acts[start + j]


@njit(**JIT_OPTIONS)
def predict(params, layout, X, acts, out, statistics, epsilon):
    """Write the network's outputs for every row of ``X`` into ``out``; batch-normalized
    layers use the running ``statistics`` and ``epsilon``."""
    start = layout[layout.shape[0] - 1, codes.OUTPUT_OFFSET]
    for i in range(X.shape[0]):
        _load(X, i, acts)
        layers.forward_layers(params, layout, acts, statistics, epsilon, 0, layout.shape[0])
        _store(acts, start, out, i)


@njit(**JIT_OPTIONS)
def predict_called(params, layout, X, acts, out, statistics, epsilon):
    """``predict``, calling the forward pass compiled apart."""
    start = layout[layout.shape[0] - 1, codes.OUTPUT_OFFSET]
    for i in range(X.shape[0]):
        _load(X, i, acts)
        called.forward_layers(params, layout, acts, statistics, epsilon, 0, layout.shape[0])
        _store(acts, start, out, i)
