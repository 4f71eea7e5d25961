"""The per-example helpers compiled apart, for the generic path's kernels.

``kernels.layers``' per-example helpers are inlined by Numba into every kernel that calls
them, which the unrolled and ensemble kernels need: their examples take tens of
nanoseconds, where a call would show. A generic kernel's example is a whole network's
forward and backward pass (W3, 64-128-10: about 4.5 us), beside which a call costs nothing,
while typing and optimizing the helpers inside each kernel is much of its compile time: it
imports these twins, compiled from the same Python functions once per signature and cached
on disk, so a fit's first kernel compiles less and its next ones (another optimizer,
another feature) reuse them.
"""

from numba import njit

from fastbp.kernels import layers
from fastbp.kernels.config import EXAMPLE_HELPER_OPTIONS

# The same Python functions as kernels.layers', compiled under the options of their own.
drop_out = njit(**EXAMPLE_HELPER_OPTIONS)(layers.drop_out.py_func)
forward_layers = njit(**EXAMPLE_HELPER_OPTIONS)(layers.forward_layers.py_func)
output_delta = njit(**EXAMPLE_HELPER_OPTIONS)(layers.output_delta.py_func)
score_example = njit(**EXAMPLE_HELPER_OPTIONS)(layers.score_example.py_func)
