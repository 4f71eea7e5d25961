"""The first layer over sparse rows: the matrix path's products with CSR input.

A fit on a SciPy CSR matrix passes its three arrays to the kernels as they are (``CSRRows``);
nothing the size of a dense block of rows is ever made. Only the first layer reads the
input rows, in three places, each written here for both kinds of input and chosen by the
type of the data (Numba's ``overload``: a dense fit compiles exactly the code it did before):

- ``batch_inputs``: where a batch's input rows are: a dense batch's rows where they lie or
  gathered into the input block of ``acts``; a sparse batch's row numbers (``CSRBatch``);
- ``first_layer_product``: ``z = a @ W`` over the stored values of each row only,
  ``nnz * fan_out`` multiplications rather than ``rows * fan_in * fan_out``;
- ``first_layer_gradient``: ``a.T @ delta`` into the weight rows of the stored columns
  only (the others' gradient is zero), or with a step folded in, ``W += step * a.T @ delta``
  on those rows alone.

Each sum runs over a row's stored values in their order; dense BLAS sums the same products
(and the zeros) in its own order, so the two agree to rounding.
"""

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from fastbp.kernels import blocked
from fastbp.kernels.config import MATRIX_HELPER_OPTIONS

# A CSR matrix as the kernels take it (``Data.X``, ``Validation.X``, ``predict``'s ``X``):
# SciPy's arrays, the values in the network's dtype, and ``shape`` (rows, columns), so that
# code reading ``X.shape`` takes either kind.
CSRRows = namedtuple("CSRRows", ["indptr", "indices", "values", "shape"])

# The rows of one batch of a ``CSRRows``: their numbers in the matrix, in the batch's order.
CSRBatch = namedtuple("CSRBatch", ["indptr", "indices", "values", "rows"])


# Python stubs, which Numba's ``overload`` gives a body per type of input (below).
def batch_inputs(X, order, start, rows, acts):
    """The first layer's inputs for rows ``order[start:start + rows]`` of ``X``: an array and
    an offset in it, or a ``CSRBatch`` and 0."""


def first_layer_product(inputs, at, params, weights, acts, outputs_at, rows, fan_in, fan_out):
    """``z = a @ W`` of the first layer, into the block at ``outputs_at`` of ``acts``."""


def first_layer_gradient(
    inputs, at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale
):
    """``a.T @ delta`` of the first layer into ``target`` at ``weights``; with a ``scale``
    other than 0, ``target`` is the parameters: ``W += scale * (a.T @ delta)``."""


def folds_on_any_batch(inputs):
    """Whether plain SGD's step is folded into the gradient products on batches of any size:
    for sparse rows, so that a step touches only the weight rows of the stored columns."""


def _is_dense(X):
    return isinstance(X, types.Array)


@overload(batch_inputs)
def _batch_inputs(X, order, start, rows, acts):
    find = _dense_batch_inputs if _is_dense(X) else _sparse_batch_inputs

    def inputs(X, order, start, rows, acts):
        return find(X, order, start, rows, acts)

    return inputs


@overload(first_layer_product)
def _first_layer_product(inputs, at, params, weights, acts, outputs_at, rows, fan_in, fan_out):
    product = blocked.forward_product if _is_dense(inputs) else _sparse_product

    def first_layer(inputs, at, params, weights, acts, outputs_at, rows, fan_in, fan_out):
        product(inputs, at, params, weights, acts, outputs_at, rows, fan_in, fan_out)

    return first_layer


@overload(first_layer_gradient)
def _first_layer_gradient(
    inputs, at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale
):
    product = blocked.gradient_product if _is_dense(inputs) else _sparse_gradient

    def first_layer(inputs, at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale):
        product(inputs, at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale)

    return first_layer


@njit(**MATRIX_HELPER_OPTIONS)
def _sparse_batch_inputs(X, order, start, rows, acts):
    batch_rows = order[start : start + np.int64(rows)]
    return CSRBatch(X.indptr, X.indices, X.values, batch_rows), np.uint64(0)


@overload(folds_on_any_batch)
def _folds_on_any_batch(inputs):
    folds = not _is_dense(inputs)
    return lambda inputs: folds


@njit(**MATRIX_HELPER_OPTIONS)
def _dense_batch_inputs(X, order, start, rows, acts):
    # The data's rows (a view: the fit's X is C-contiguous in the network's dtype, as its
    # checks leave it). Rows in order are the first layer's inputs where they lie, so the
    # batch is not copied (U1's batch of 200 x 64: 14-25 us of about 280); others are
    # gathered into the input block of ``acts``, a row at a time.
    n_inputs = np.uint64(X.shape[1])
    n_rows = np.int64(rows)
    data = X.ravel()
    first_row = order[start]
    in_order = True
    for i in range(n_rows):
        in_order = in_order and order[start + i] == first_row + i
    if in_order:
        return data, np.uint64(first_row) * n_inputs
    for i in range(n_rows):
        row = np.uint64(order[start + i]) * n_inputs
        at = np.uint64(i) * n_inputs
        for k in range(n_inputs):
            acts[at + k] = data[row + k]
    return acts, np.uint64(0)


@njit(**MATRIX_HELPER_OPTIONS)
def _sparse_product(batch, at, params, weights, acts, outputs_at, rows, fan_in, fan_out):
    zero = params.dtype.type(0.0)
    for i in range(np.int64(rows)):
        out = outputs_at + np.uint64(i) * fan_out
        for j in range(fan_out):
            acts[out + j] = zero
        row = batch.rows[i]
        for k in range(batch.indptr[row], batch.indptr[row + 1]):
            value = batch.values[k]
            weight_row = weights + np.uint64(batch.indices[k]) * fan_out
            for j in range(fan_out):
                acts[out + j] += value * params[weight_row + j]


@njit(**MATRIX_HELPER_OPTIONS)
def _sparse_gradient(batch, at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale):
    zero = target.dtype.type(0.0)
    folded = scale != zero
    if not folded:
        for p in range(weights, weights + fan_in * fan_out):
            target[p] = zero
    for i in range(np.int64(rows)):
        delta = outputs_at + np.uint64(i) * fan_out
        row = batch.rows[i]
        for k in range(batch.indptr[row], batch.indptr[row + 1]):
            value = scale * batch.values[k] if folded else batch.values[k]
            weight_row = weights + np.uint64(batch.indices[k]) * fan_out
            for j in range(fan_out):
                target[weight_row + j] += value * deltas[delta + j]
