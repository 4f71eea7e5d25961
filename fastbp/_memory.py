"""Buffers aligned to 64 bytes.

NumPy only promises 16-byte alignment; kernel timings moved by 30% with it in a prototype, so
every buffer a kernel streams through starts on a cache line.
"""

import numpy as np

ALIGNMENT = 64


def aligned_zeros(size, dtype):
    """A zeroed, C-contiguous 1-D array of ``size`` elements starting on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    raw = np.zeros(size * dtype.itemsize + ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start : start + size * dtype.itemsize].view(dtype)


# NumPy asks Linux for transparent huge pages for an allocation of this many bytes or more
# (4 MiB). A 256-member, 2,000-epoch loss history (3.9 MB) took 1.8 ms to allocate and fill
# in 4 KiB pages on this project's virtual machine, whose page faults are slow.
HUGE_PAGES = 1 << 22


def large_empty(shape):
    """An uninitialized float64 array of ``shape`` (rows, columns); from a quarter of
    ``HUGE_PAGES`` up, carved from an allocation of at least ``HUGE_PAGES`` bytes, so that it
    is backed by huge pages (the tail is never touched, so never takes memory)."""
    size = shape[0] * shape[1]
    if 8 * size < HUGE_PAGES // 4:
        return np.empty(shape)
    return np.empty(max(size, HUGE_PAGES // 8))[:size].reshape(shape)
