"""``exp`` and ``tanh`` for the kernels, written in arithmetic that LLVM can vectorize.

A kernel that calls the C library's ``exp`` computes one value per call: the sigmoids of a
64-128-10 net took 0.9 of its 4.5 us per example, and across an ensemble's lanes the calls
kept the loop from vectorizing at all. Every kernel calls this one instead, so that a value
rounds the same in the unrolled, the generic and the ensembles' kernels and in the matrix
path: their results stay equal bit for bit. Measured against exact values over the whole
range, float64 is within 0.75 ulp (equal to the C library's result in 99.9% of arguments)
and float32 within 0.89 ulp; NumPy's ``exp`` (``fastbp.reference``) is within 0.72 and 2.4.

``tanh`` is built from the same table and polynomial (below); with the C library's, a third
of a 30-64-64-2 tanh fit (U3) was spent in ``tanh``, and the fit ran 1.8x as fast with this one.

There is no branch: out-of-range arguments are clamped so that the scale factors overflow
to ``inf`` or underflow to 0 (through the subnormals), and NaN is passed through by a select
at the end.
"""

import decimal

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload, register_jitable

# float64: the algorithm of glibc's and ARM's exp (Szabolcs Nagy's), written without FMA:
# x = (128 k + j) ln2 / 128 + r with |r| <= ln2 / 256, e**x = 2**k 2**(j / 128) e**r, where
# 2**(j / 128) comes from a table (with the error of its rounding, TAIL) and e**r from its
# Taylor polynomial to r**5, whose truncation is 1e-19 relative here. No division: its
# latency decided tiny networks' speed (XOR's 3-4-1, a chain of dependent steps).
TABLE_BITS = 7
TABLE_SIZE = 1 << TABLE_BITS


def _table():
    """2**(j / 128) rounded to float64, and each one's rounding error relative to it."""
    decimal.getcontext().prec = 60
    ln2 = decimal.Decimal(2).ln()
    powers = np.empty(TABLE_SIZE)
    tails = np.empty(TABLE_SIZE)
    for j in range(TABLE_SIZE):
        exact = (ln2 * j / TABLE_SIZE).exp()
        powers[j] = float(exact)
        tails[j] = float((exact - decimal.Decimal(powers[j])) / decimal.Decimal(powers[j]))
    ln2_n = ln2 / TABLE_SIZE
    # The high part keeps 32 significant bits, so that k * LN2_N_HIGH is exact for every k
    # the clamp allows (|k| < 2**18).
    high_bits = np.float64(float(ln2_n)).view(np.uint64) & ~np.uint64(2**21 - 1)
    high = float(high_bits.view(np.float64))
    low = float(ln2_n - decimal.Decimal(high))
    return powers, tails, float(TABLE_SIZE / ln2), high, low


POWERS, TAILS, INVERSE_LN2_N, LN2_N_HIGH, LN2_N_LOW = _table()
C2 = 1.0 / 2.0
C3 = 1.0 / 6.0
C4 = 1.0 / 24.0
C5 = 1.0 / 120.0
# Beyond these e**x is inf or 0 in float64; clamping there keeps 2**k's exponent in range.
HIGHEST = 710.0
LOWEST = -746.0

# float32: fdlibm's e_expf.c with musl's degree-2 polynomial.
LN2_HIGH_32 = np.float32(6.9314575195e-01)
LN2_LOW_32 = np.float32(1.4286067653e-06)
INVERSE_LN2_32 = np.float32(1.4426950216e00)
P1_32 = np.float32(1.6666625440e-1)
P2_32 = np.float32(-2.7667332906e-3)
HIGHEST_32 = np.float32(89.0)
LOWEST_32 = np.float32(-104.0)


@intrinsic
def _float64_from_bits(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the low 32 of the int64 ``bits``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.trunc(args[0], ir.IntType(32)), ir.FloatType())

    return types.float32(types.int64), codegen


@register_jitable
def _reduced64(x):
    """``x = (128 k + j) ln2 / 128 + r``: returns ``2**(j / 128)``, the polynomial ``p`` with
    ``2**(j / 128) e**r = power + power * p`` (the table's rounding error included), and k."""
    n = np.floor(x * INVERSE_LN2_N + 0.5)
    r = (x - n * LN2_N_HIGH) - n * LN2_N_LOW
    whole = np.int64(n)
    j = whole & np.int64(TABLE_SIZE - 1)
    r2 = r * r
    polynomial = ((TAILS[j] + r) + r2 * (C2 + r * C3)) + (r2 * r2) * (C4 + r * C5)
    return POWERS[j], polynomial, whole >> np.int64(TABLE_BITS)


@register_jitable
def _exp64(x):
    bounded = x if x > LOWEST else LOWEST  # NaN too: it is put back at the end
    bounded = bounded if bounded < HIGHEST else HIGHEST
    power, polynomial, exponent = _reduced64(bounded)
    y = power + power * polynomial
    # 2**k as two factors, each a normal number, so that a subnormal result rounds once.
    half = exponent >> np.int64(1)
    scale_1 = _float64_from_bits((half + np.int64(1023)) << np.int64(52))
    scale_2 = _float64_from_bits((exponent - half + np.int64(1023)) << np.int64(52))
    result = y * scale_1 * scale_2
    return result if x == x else x


@register_jitable
def _reduced32(x):
    """``x = k ln2 + r``: returns ``q`` with ``e**r = 1 - q`` (fdlibm's expf) and k."""
    k = np.floor(x * INVERSE_LN2_32 + np.float32(0.5))
    high = x - k * LN2_HIGH_32
    low = k * LN2_LOW_32
    r = high - low
    t = r * r
    c = r - t * (P1_32 + t * P2_32)
    return (low - (r * c) / (np.float32(2.0) - c)) - high, np.int64(k)


@register_jitable
def _exp32(x):
    bounded = x if x > LOWEST_32 else LOWEST_32
    bounded = bounded if bounded < HIGHEST_32 else HIGHEST_32
    q, exponent = _reduced32(bounded)
    y = np.float32(1.0) - q
    half = exponent >> np.int64(1)
    scale_1 = _float32_from_bits((half + np.int64(127)) << np.int64(23))
    scale_2 = _float32_from_bits((exponent - half + np.int64(127)) << np.int64(23))
    result = y * scale_1 * scale_2
    return result if x == x else x


def _by_dtype(stand_in, for_float64, for_float32):
    """Make ``stand_in`` call ``for_float64`` or ``for_float32`` in compiled code, by the
    type of its argument (Python calls run ``stand_in`` itself)."""

    @overload(stand_in)
    def _implementation(x):
        if x == types.float32:
            return lambda x: for_float32(x)
        if x == types.float64:
            return lambda x: for_float64(x)
        return None

    return stand_in


def exp(x):
    """``e**x`` of a float64 or float32 scalar, in its own precision (kernels only)."""
    return np.exp(x)


_by_dtype(exp, _exp64, _exp32)


# tanh from the same pieces: tanh(a) = u / (u + 2) with u = e**(2a) - 1 computed as
# (2**k 2**(j/128) - 1) + 2**k 2**(j/128) p(r), whose first term is exact or at least 1, so
# that no digit cancels near 0. Beyond these tanh rounds to 1 (float64: tanh(19.1)).
TANH_SATURATED = 20.0
TANH_SATURATED_32 = np.float32(10.0)


@register_jitable
def _tanh64(x):
    size = abs(x)
    size = size if size < TANH_SATURATED else TANH_SATURATED  # NaN too: put back at the end
    power, polynomial, exponent = _reduced64(size + size)
    power = power * _float64_from_bits((exponent + np.int64(1023)) << np.int64(52))
    minus_one = (power - 1.0) + power * polynomial
    result = np.copysign(minus_one / (minus_one + 2.0), x)
    return result if x == x else x


@register_jitable
def _tanh32(x):
    size = abs(x)
    size = size if size < TANH_SATURATED_32 else TANH_SATURATED_32
    q, exponent = _reduced32(size + size)
    scale = _float32_from_bits((exponent + np.int64(127)) << np.int64(23))
    # e**(2a) - 1 as (2**k - 1) - 2**k q: q is e**r - 1 to r's own precision, with no 1 added.
    minus_one = (scale - np.float32(1.0)) - scale * q
    result = np.copysign(minus_one / (minus_one + np.float32(2.0)), x)
    return result if x == x else x


def tanh(x):
    """``tanh(x)`` of a float64 or float32 scalar, in its own precision (kernels only)."""
    return np.tanh(x)


_by_dtype(tanh, _tanh64, _tanh32)
