"""Sparse input (a SciPy sparse matrix or array): checked and converted once to canonical CSR,
then handed to the kernels as its three arrays (``kernels.csr.CSRRows``), never densified."""

import numpy as np
import scipy.sparse

from fastbp import _checks
from fastbp.kernels.csr import CSRRows


def is_sparse(X):
    return scipy.sparse.issparse(X)


def as_csr(X, name, dtype, n_columns):
    """``X`` as a CSR matrix with sorted, distinct column indices per row and its stored
    values in ``dtype``, checked: at least one row, ``n_columns`` columns, every stored value
    finite. Nothing is copied when ``X`` is such a matrix already (CSC and the other formats
    are converted, duplicates summed, values cast: each a copy)."""
    if np.iscomplexobj(X.data):
        raise TypeError(f"{name} must be real; got complex values ({X.dtype})")
    _checks.check_matrix_shape(X.shape, name, n_columns, "(n_samples, n_inputs)")
    X = X.tocsr(copy=False)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()  # and sorts each row's indices
    values = X.data.astype(dtype, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        stored = int(np.flatnonzero(~finite)[0])
        row = int(np.searchsorted(X.indptr, stored, side="right")) - 1
        raise ValueError(
            f"{name} must be finite; found {values[stored]} at row {row}, column "
            f"{X.indices[stored]}"
            + (" (after conversion to float32)" if dtype == np.float32 else "")
        )
    if values is not X.data:
        X = scipy.sparse.csr_matrix((values, X.indices, X.indptr), shape=X.shape, copy=False)
    return X


def kernel_rows(X):
    """``X`` as the kernels take it: a dense array as it is, a CSR matrix as ``CSRRows``."""
    if not is_sparse(X):
        return X
    return CSRRows(X.indptr, X.indices, X.data, (np.int64(X.shape[0]), np.int64(X.shape[1])))
