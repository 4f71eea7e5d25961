"""Shuffling: Fisher-Yates driven by SplitMix64, inside the kernel.

The generator lives in the kernel so that a shuffled fit of many epochs stays one call;
``fastbp.reference`` implements the same generator in plain Python.
"""

import numpy as np
from numba import njit

from fastbp.kernels.config import EPOCH_HELPER_OPTIONS, HELPER_OPTIONS

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_SHIFT_30 = np.uint64(30)
_SHIFT_27 = np.uint64(27)
_SHIFT_31 = np.uint64(31)


@njit(**HELPER_OPTIONS)
def splitmix64(state):
    """Advance the one-element uint64 ``state`` and return the next 64-bit output."""
    state[0] += _GOLDEN_GAMMA
    z = state[0]
    z = (z ^ (z >> _SHIFT_30)) * _MIX_1
    z = (z ^ (z >> _SHIFT_27)) * _MIX_2
    return z ^ (z >> _SHIFT_31)


@njit(**EPOCH_HELPER_OPTIONS)
def shuffle_in_place(order, state):
    """Reset ``order`` to 0..n-1, then Fisher-Yates shuffle it from the last position down."""
    n = order.shape[0]
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        j = np.int64(splitmix64(state) % np.uint64(i + 1))
        order[i], order[j] = order[j], order[i]
