"""The matrix kernel's layer products, as explicit loops or BLAS.

The forward pass and the deltas are products over the batch's examples, the gradient over
the layer's inputs (parameter rows). Where a product is cut in two (``pieces``, for
OpenBLAS's small-matrix kernels), every number it writes is still computed start to finish
by one call. A fit's ``threads`` are BLAS's own, set around the kernel's call
(``fastbp._kernels``): OpenBLAS splits each product's outputs among its threads, each
summing its outputs over the whole depth, so a thread count gives the same result run
after run, and counts differ by the rounding of BLAS's blocks.

The three products are not inlined: each one's BLAS calls and loops compile once, not once
per call site; nor are the loops (``product_rows``), which all three call with the same
types, so they compile once for the three (with the forward and backward passes compiled
apart too, the matrix path's cold first fit, 784-256-10 with Adam, took 16.7 s against 20.1).
A call per product costs nothing beside a product's work.

The gradient product calls BLAS through ``gemm_rows``, which passes transposes as flags and
takes ``alpha`` and ``beta``: ``inputs.T`` is read in place, and plain SGD's step is folded
into the product (``W += step * inputs.T @ delta``), which saves the gradient's write, its
read and the separate pass of the update over the weights (1.11-1.19x on W4's 784 x 256
gradient and step, interleaved on one pinned core, float64 and float32).

The loops (``product_rows``) sum in order of the inner index, eight terms to a statement,
vectorized across the output row: no reassociation, so they round the same with fastmath
off, and float32 stays float32 in every scalar. ``uses_loops`` says, per shape, where they
measured faster than OpenBLAS's ``np.dot``.
"""

import numpy as np
from llvmlite import ir
from numba import njit
from numba import types as numba_types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np import linalg

from fastbp.kernels.config import MATRIX_HELPER_OPTIONS, MATRIX_JIT_OPTIONS

_ZERO = np.uint64(0)
_EIGHT = np.uint64(8)

# The loops beat OpenBLAS's np.dot only where each output sums a handful of terms (the deltas
# through a layer of 2 outputs: 0.6x BLAS's time at 16 x 2 x 64), where a BLAS call's fixed
# cost and packing outweigh the arithmetic. Everywhere else BLAS's register-blocked kernels
# won, measured interleaved on one pinned core for the products of W4 and U1-U4 in float64
# and float32: 1.1-1.7x faster on 64 x 784 x 256, 2-5x on the 10-output layers, 0.75-1.3x
# on 16 x 64 x 64 (see kernels/README note in the issue-12 report).
LOOP_MAX_DEPTH = 4


_NO_TRANSPOSE = np.uint8(ord("n"))
_TRANSPOSE = np.uint8(ord("t"))


@intrinsic
def _xxgemm(typingctx, transa, transb, m, n, k, alpha, a, a_at, lda, b, b_at, ldb, beta, c, c_at,
            ldc):  # fmt: skip
    """BLAS's column-major ``c = alpha * op(a) @ op(b) + beta * c``, each matrix starting at
    its offset (``a_at`` ...) in a flat array, through the same helper of Numba's that
    ``np.dot`` calls (``numba_xxgemm``, SciPy's BLAS): unlike a ctypes pointer it is found by
    name when a kernel is loaded from Numba's cache. ``np.dot`` has no ``alpha`` and
    ``beta``, which fold a step into the product (``gemm_rows``)."""
    linalg.ensure_blas()
    dtype = c.dtype
    signature = numba_types.void(
        transa, transb, m, n, k, alpha, a, a_at, lda, b, b_at, ldb, beta, c, c_at, ldc
    )

    def codegen(context, builder, sig, args):
        (transa_, transb_, m_, n_, k_, alpha_, a_, a_at_, lda_, b_, b_at_, ldb_, beta_, c_,
         c_at_, ldc_) = args  # fmt: skip
        types_ = sig.args
        intp = cgutils.intp_t
        void_p = ir.IntType(8).as_pointer()

        def integer(value, ty):
            return context.cast(builder, value, ty, numba_types.intp)

        def pointer(array, ty, at, at_ty):
            data = context.make_array(ty)(context, builder, array).data
            return builder.bitcast(builder.gep(data, [integer(at, at_ty)]), void_p)

        def slot(value, ty):
            return builder.bitcast(
                cgutils.alloca_once_value(builder, context.cast(builder, value, ty, dtype)), void_p
            )

        function_type = ir.FunctionType(
            ir.IntType(32),
            [ir.IntType(8), ir.IntType(8), ir.IntType(8), intp, intp, intp, void_p, void_p, intp,
             void_p, intp, void_p, void_p, intp],
        )  # fmt: skip
        function = cgutils.get_or_insert_function(builder.module, function_type, "numba_xxgemm")
        kind = ir.Constant(ir.IntType(8), ord(linalg.get_blas_kind(dtype)))
        result = builder.call(
            function,
            (
                kind,
                builder.trunc(transa_, ir.IntType(8)),
                builder.trunc(transb_, ir.IntType(8)),
                integer(m_, types_[2]),
                integer(n_, types_[3]),
                integer(k_, types_[4]),
                slot(alpha_, types_[5]),
                pointer(a_, types_[6], a_at_, types_[7]),
                integer(lda_, types_[8]),
                pointer(b_, types_[9], b_at_, types_[10]),
                integer(ldb_, types_[11]),
                slot(beta_, types_[12]),
                pointer(c_, types_[13], c_at_, types_[14]),
                integer(ldc_, types_[15]),
            ),
        )
        linalg.check_blas_return(context, builder, result)
        return context.get_dummy_value()

    return signature, codegen


@njit(**MATRIX_HELPER_OPTIONS)
def gemm_rows(
    transpose_x, transpose_y, rows, cols, depth, alpha, x, x_at, ldx, y, y_at, ldy, beta, out,
    out_at, ldo,
):  # fmt: skip
    """Row-major ``out = alpha * op(x) @ op(y) + beta * out``, ``out`` of ``rows`` x ``cols``
    summing ``depth`` terms, each matrix a row-major block at its offset with its row stride
    (``ldx`` ...); ``op`` transposes where ``transpose_x`` (``transpose_y``). A transpose is
    BLAS's flag, never a copy. Column-major BLAS computes the transpose, ``out.T = op(y).T @
    op(x).T``, from the same memory."""
    _xxgemm(
        _TRANSPOSE if transpose_y else _NO_TRANSPOSE,
        _TRANSPOSE if transpose_x else _NO_TRANSPOSE,
        cols, rows, depth, alpha, y, y_at, ldy, x, x_at, ldx, beta, out, out_at, ldo,
    )  # fmt: skip


# OpenBLAS multiplies a product of at most a million multiply-adds with its small-matrix
# kernels, which skip packing the operands (0.3.30's SkylakeX kernels, the ones SciPy's wheel
# runs here), but not a product with the transposed operand first (BLAS's "TN") whose output
# is larger than 1,200 or whose sums are shorter than 32 terms. Measured interleaved on one
# pinned core: U1's 200 x 64 x 100 products ran 1.24x faster as two halves (57 and 58 us
# against 46 and 47, float64; 30 and 35 against 24 and 23, float32), and the deltas through
# a 10-output layer 1.2-1.4x faster from a transposed copy of its weights (``deltas_part``)
# on U1, U2, U4 and W4's shapes in both dtypes, but 0.77x on 16 x 64 x 64, where the sums
# are long enough.
SMALL_PRODUCT = 1_000_000
SHORT_SUMS = 32


@njit(**MATRIX_HELPER_OPTIONS)
def pieces(parts, depth, width):
    """How many chunks a product of ``parts`` rows (split among them), each summing
    ``depth`` terms into ``width`` outputs, is cut into: two where that takes each chunk
    down to a small-matrix product, else one."""
    size = parts * depth * width
    if size > SMALL_PRODUCT and size <= 2 * SMALL_PRODUCT and parts >= 2:
        return np.uint64(2)
    return np.uint64(1)


@njit(**MATRIX_HELPER_OPTIONS)
def uses_loops(depth, width):
    """Whether a product summing over ``depth`` terms into rows of ``width`` runs as loops
    rather than BLAS."""
    return depth <= LOOP_MAX_DEPTH


@njit(**MATRIX_HELPER_OPTIONS)
def chunk(n, chunks, index):
    """Rows ``[first, stop)`` of chunk ``index`` of ``n`` rows cut into ``chunks`` (uint64)."""
    first = np.uint64(n * np.uint64(index) // np.uint64(chunks))
    stop = np.uint64(n * np.uint64(index + 1) // np.uint64(chunks))
    return first, stop


@njit(**MATRIX_JIT_OPTIONS)
def product_rows(
    left, left_at, row_stride, step, right, right_at, out, out_at, first, stop, depth, width
):
    """``out[r, :] = sum_k left[r, k] * right[k, :]`` for rows ``r`` in ``[first, stop)``.

    ``left[r, k]`` is ``left[left_at + r * row_stride + k * step]``; ``right`` is a
    row-major ``(depth, width)`` block at ``right_at``, ``out`` one of ``(rows, width)`` at
    ``out_at``. Each output sums its terms in order of ``k``, eight per pass over the row
    (one load and store of the row per eight terms, the terms' rows from L1).
    """
    zero = out.dtype.type(0.0)
    whole = depth // _EIGHT * _EIGHT
    for r in range(first, stop):
        row = out_at + r * width
        for j in range(width):
            out[row + j] = zero
    for k in range(0, whole, _EIGHT):
        r0 = right_at + k * width
        r1 = r0 + width
        r2 = r1 + width
        r3 = r2 + width
        r4 = r3 + width
        r5 = r4 + width
        r6 = r5 + width
        r7 = r6 + width
        for r in range(first, stop):
            at = left_at + r * row_stride + k * step
            a0 = left[at]
            a1 = left[at + step]
            a2 = left[at + np.uint64(2) * step]
            a3 = left[at + np.uint64(3) * step]
            a4 = left[at + np.uint64(4) * step]
            a5 = left[at + np.uint64(5) * step]
            a6 = left[at + np.uint64(6) * step]
            a7 = left[at + np.uint64(7) * step]
            row = out_at + r * width
            for j in range(width):
                out[row + j] = (
                    out[row + j]
                    + a0 * right[r0 + j]
                    + a1 * right[r1 + j]
                    + a2 * right[r2 + j]
                    + a3 * right[r3 + j]
                    + a4 * right[r4 + j]
                    + a5 * right[r5 + j]
                    + a6 * right[r6 + j]
                    + a7 * right[r7 + j]
                )
    for k in range(whole, depth):
        rk = right_at + k * width
        for r in range(first, stop):
            a = left[left_at + r * row_stride + k * step]
            row = out_at + r * width
            for j in range(width):
                out[row + j] = out[row + j] + a * right[rk + j]


@njit(**MATRIX_HELPER_OPTIONS)
def transpose_rows(source, source_at, n_cols, out, out_at, n_rows, first, stop):
    """Rows ``[first, stop)`` of the transpose: ``out[c, r] = source[r, c]`` for columns ``c``
    in that range, ``source`` a row-major ``(n_rows, n_cols)`` block."""
    for c in range(first, stop):
        row = out_at + c * n_rows
        for r in range(n_rows):
            out[row + r] = source[source_at + r * n_cols + c]


@njit(**MATRIX_HELPER_OPTIONS)
def forward_part(
    inputs, inputs_at, params, weights, acts, outputs_at, fan_in, fan_out, first, stop
):
    """Rows ``[first, stop)`` of ``forward_product``."""
    if uses_loops(fan_in, fan_out):
        one = np.uint64(1)
        product_rows(
            inputs, inputs_at, fan_in, one, params, weights, acts, outputs_at, first, stop,
            fan_in, fan_out,
        )  # fmt: skip
        return
    a = inputs_at + first * fan_in
    z = outputs_at + first * fan_out
    n = stop - first
    np.dot(
        inputs[a : a + n * fan_in].reshape((n, fan_in)),
        params[weights : weights + fan_in * fan_out].reshape((fan_in, fan_out)),
        acts[z : z + n * fan_out].reshape((n, fan_out)),
    )


@njit(**MATRIX_JIT_OPTIONS)
def forward_product(inputs, inputs_at, params, weights, acts, outputs_at, rows, fan_in, fan_out):
    """A layer's ``z = a @ W`` for a batch of ``rows``: the inputs' block at ``inputs_at`` of
    ``inputs`` (``acts``, or for the first layer the data's own rows), ``z`` into the block
    at ``outputs_at`` of ``acts``; cut by examples."""
    chunks = pieces(rows, fan_in, fan_out)
    for index in range(chunks):
        first, stop = chunk(rows, chunks, index)
        forward_part(
            inputs, inputs_at, params, weights, acts, outputs_at, fan_in, fan_out, first, stop
        )


@njit(**MATRIX_HELPER_OPTIONS)
def gradient_part(
    acts, inputs_at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale, first,
    stop,
):  # fmt: skip
    """Parameter rows ``[first, stop)`` of ``gradient_product``."""
    if uses_loops(rows, fan_out) and scale != target.dtype.type(0.0):
        # Folded on a batch too small for BLAS: only a sparse fit does so (its first layer
        # folds on any batch, kernels.csr), and then every layer: each term added in, scaled.
        for r in range(rows):
            deltas_at = outputs_at + r * fan_out
            for k in range(first, stop):
                term = scale * acts[inputs_at + r * fan_in + k]
                row = weights + k * fan_out
                for j in range(fan_out):
                    target[row + j] += term * deltas[deltas_at + j]
        return
    if uses_loops(rows, fan_out):
        one = np.uint64(1)
        product_rows(
            acts, inputs_at, one, fan_in, deltas, outputs_at, target, weights, first, stop,
            rows, fan_out,
        )  # fmt: skip
        return
    # Rows [first, stop) of inputs.T are columns of the row-major inputs: BLAS reads them in
    # place with the transpose flag and the inputs' row stride (no transposed copy).
    zero = target.dtype.type(0.0)
    one = target.dtype.type(1.0)
    folded = scale != zero
    gemm_rows(
        True, False, stop - first, fan_out, rows, scale if folded else one, acts,
        inputs_at + first, fan_in, deltas, outputs_at, fan_out, one if folded else zero, target,
        weights + first * fan_out, fan_out,
    )  # fmt: skip


@njit(**MATRIX_JIT_OPTIONS)
def gradient_product(
    acts, inputs_at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale
):
    """A layer's summed weight gradient ``a.T @ delta`` over a batch of ``rows``, into
    ``target`` at ``weights``, cut by parameter rows (the layer's inputs). With a
    ``scale`` other than 0, ``target`` is the parameters and the step is folded into the
    product: ``W += scale * (a.T @ delta)`` (BLAS's ``beta = 1``), with no gradient written
    and read back (dense fits fold only through BLAS, on more than ``LOOP_MAX_DEPTH``
    rows; sparse ones on any batch)."""
    chunks = pieces(fan_in, rows, fan_out)
    for index in range(chunks):
        first, stop = chunk(fan_in, chunks, index)
        gradient_part(
            acts, inputs_at, deltas, outputs_at, target, weights, rows, fan_in, fan_out, scale,
            first, stop,
        )  # fmt: skip


@njit(**MATRIX_HELPER_OPTIONS)
def deltas_part(
    deltas, outputs_at, params, weights, inputs_at, fan_in, fan_out, spare, first, stop
):
    """Rows ``[first, stop)`` of ``deltas_product``, the loops' transposed weights in
    ``spare``."""
    if uses_loops(fan_out, fan_in):
        one = np.uint64(1)
        product_rows(
            deltas, outputs_at, fan_out, one, spare, np.uint64(0), deltas, inputs_at, first,
            stop, fan_out, fan_in,
        )  # fmt: skip
        return
    d = outputs_at + first * fan_out
    p = inputs_at + first * fan_in
    n = stop - first
    if fan_out < SHORT_SUMS:
        # The transposed copy in ``spare``: no transposed operand, so small-matrix kernels.
        gemm_rows(
            False, False, n, fan_in, fan_out, spare.dtype.type(1.0), deltas, d, fan_out, spare,
            _ZERO, fan_in, spare.dtype.type(0.0), deltas, p, fan_in,
        )  # fmt: skip
        return
    np.dot(
        deltas[d : d + n * fan_out].reshape((n, fan_out)),
        params[weights : weights + fan_in * fan_out].reshape((fan_in, fan_out)).T,
        deltas[p : p + n * fan_in].reshape((n, fan_in)),
    )


@njit(**MATRIX_JIT_OPTIONS)
def deltas_product(deltas, outputs_at, params, weights, inputs_at, rows, fan_in, fan_out, spare):
    """The deltas a layer passes down, ``delta @ W.T``, for a batch of ``rows``, into the
    block at ``inputs_at`` of ``deltas``; cut by examples. The loops, and BLAS where the
    sums are short, read the weights transposed, written into ``spare``
    (``fan_in * fan_out``) first."""
    if uses_loops(fan_out, fan_in) or fan_out < SHORT_SUMS:
        transpose_rows(params, weights, fan_out, spare, np.uint64(0), fan_in, _ZERO, fan_out)
    chunks = pieces(rows, fan_out, fan_in)
    for index in range(chunks):
        first, stop = chunk(rows, chunks, index)
        deltas_part(
            deltas, outputs_at, params, weights, inputs_at, fan_in, fan_out, spare, first, stop
        )  # fmt: skip
