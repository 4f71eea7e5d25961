"""Compilation flags shared by every kernel: the one place where fastmath is decided.

fastmath is off. Measured on the streetlight net (3-4-1, per-example SGD) in one session,
``{"reassoc", "contract", "nsz", "arcp"}`` ran at 543x the reference against 663x without:
no gain where every reduction is 1 to 4 wide. It kept the 1e-9 equivalence contract, but FMA
contraction changes the rounding of the kernel's arithmetic, which the lecture-notes test
pins down (tests/test_seeds.py). Whoever turns it on for larger networks: never ``nnan`` or
``ninf`` (they let LLVM assume away the NaN and infinity checks divergence detection needs),
and not ``afn``, which changes ``exp`` and ``tanh`` by more than rounding.

The matrix path (``kernels.train_matrix``, ``kernels.blocked``, and the kernels that share
its layer routines) has its own set, ``MATRIX_FASTMATH``, also off: its time is BLAS's (87%
of a W4 fit in float64, 93% in float32), which Numba's flags do not reach, and its own loops
sum in order, vectorized across the outputs, which needs no reassociation. Exact rounding is
therefore the default on every path; whoever wants reassociation on the matrix path sets
``MATRIX_FASTMATH`` here (and clears Numba's cache), nowhere else.
"""

FASTMATH = frozenset()
MATRIX_FASTMATH = frozenset()

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": set(FASTMATH), "error_model": "numpy"}
MATRIX_JIT_OPTIONS = {**JIT_OPTIONS, "fastmath": set(MATRIX_FASTMATH)}

# Helpers called once per example are inlined by Numba itself, not left to LLVM: this took
# the forward pass of the 3-4-1 net from 108 to 80 ns. What removed the rest of the reference
# counting was keeping array-handling helpers one call deep (see kernels/layers.py).
HELPER_OPTIONS = {**JIT_OPTIONS, "inline": "always"}
MATRIX_HELPER_OPTIONS = {**MATRIX_JIT_OPTIONS, "inline": "always"}
