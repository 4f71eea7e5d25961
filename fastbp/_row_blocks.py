"""Sparse input (SciPy CSR or CSC) a block of rows at a time: the kernels take dense rows, and
a block of ``BLOCK_ROWS`` densified rows is all that is ever held, never the whole matrix."""

import numpy as np
import scipy.sparse

BLOCK_ROWS = 4096


def is_sparse(X):
    return scipy.sparse.issparse(X)


def blocks(X, multiple=1):
    """``(start, stop, rows)`` over ``X`` in blocks of about ``BLOCK_ROWS`` rows (a multiple
    of ``multiple``, so that blocks end where batches do), ``rows`` dense and C-contiguous.
    A dense ``X`` is one block."""
    n_rows = X.shape[0]
    if not is_sparse(X):
        yield 0, n_rows, X
        return
    size = max(1, BLOCK_ROWS // multiple) * multiple
    X = X.tocsr()
    for start in range(0, n_rows, size):
        stop = min(start + size, n_rows)
        yield start, stop, np.ascontiguousarray(X[start:stop].toarray())
