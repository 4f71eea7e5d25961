"""Compilation flags shared by every kernel: the one place where fastmath is decided.

fastmath is off. Measured on the streetlight net (3-4-1, per-example SGD) in one session,
``{"reassoc", "contract", "nsz", "arcp"}`` ran at 543x the reference against 663x without:
no gain where every reduction is 1 to 4 wide. It kept the 1e-9 equivalence contract, but FMA
contraction changes the rounding of the kernel's arithmetic, which the lecture-notes test
pins down (tests/test_seeds.py). Whoever turns it on for larger networks: never ``nnan`` or
``ninf`` (they let LLVM assume away the NaN and infinity checks divergence detection needs),
and not ``afn``, which changes ``exp`` and ``tanh`` by more than rounding. Measured again on W3
(64-128-10 sigmoid, per example; alternated processes, each with a fresh cache), where the
prototypes of ../shared/prototypes gained 2.3x from fastmath: ``{"contract"}`` ran a fit in
178-180 ms and the four flags above in 173-199 ms, against 181-192 ms without. Those
prototypes summed each output along its inputs, which only reassociation vectorizes; these
loops run their SIMD lanes across a layer's outputs, summing each in input order, which
needs none, and this core adds and multiplies in pipes of their own, so a fused
multiply-add saves no time.

The matrix path (``kernels.train_matrix``, ``kernels.blocked``, and the kernels that share
its layer routines) has its own set, ``MATRIX_FASTMATH``, also off: its time is BLAS's (87%
of a W4 fit in float64, 93% in float32), which Numba's flags do not reach, and its own loops
sum in order, vectorized across the outputs, which needs no reassociation. Exact rounding is
therefore the default on every path; whoever wants reassociation on the matrix path sets
``MATRIX_FASTMATH`` here (and clears Numba's cache), nowhere else.
"""

FASTMATH = frozenset()
MATRIX_FASTMATH = frozenset()
# The gradient's squared norm, which norm clipping compares to its bound, is summed in the
# order that vectorizes: summed in order, each term waits for the one before, and a
# 64-128-10 net's 9,610 squares took 14 us against 2.4 us, five times a plain step. The
# reference sums pairwise (np.sum), so no order is the reference's; the norm differs in its
# last bits and the clipped step by as much. Exact in-order sums: set this to frozenset().
NORM_FASTMATH = frozenset({"reassoc"})

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": set(FASTMATH), "error_model": "numpy"}
MATRIX_JIT_OPTIONS = {**JIT_OPTIONS, "fastmath": set(MATRIX_FASTMATH)}

# Helpers called once per example are inlined by Numba itself, not left to LLVM, in the
# kernels whose examples take tens of nanoseconds (unrolled, ensembles): this took the forward
# pass of the 3-4-1 net from 108 to 80 ns. The generic kernels call twins compiled apart
# (EXAMPLE_HELPER_OPTIONS below). What removed the rest of the reference
# counting was keeping array-handling helpers one call deep (see kernels/layers.py).
HELPER_OPTIONS = {**JIT_OPTIONS, "inline": "always"}
# Helpers called once per epoch or per batch are compiled apart instead, each once per
# signature and cached on disk, rather than typed again inside every kernel that calls them:
# that took the cold compile of three generic kernels (plain, Adam, momentum with L2) from 21
# to 14 s of CPU. Where an epoch is a handful of examples (the unrolled path, W1: 4 examples,
# about 70 ns) a call per epoch would cost more than it saves, and kernels.inlined gives
# those kernels the same helpers inlined.
EPOCH_HELPER_OPTIONS = JIT_OPTIONS
# The generic kernels' per-example helpers (kernels.called): compiled apart too, as an example
# there is a whole network's passes, beside which a call costs nothing.
EXAMPLE_HELPER_OPTIONS = JIT_OPTIONS
# Compiled apart, so that its own flags hold (an inlined function takes its caller's).
NORM_HELPER_OPTIONS = {**JIT_OPTIONS, "fastmath": set(NORM_FASTMATH)}
MATRIX_HELPER_OPTIONS = {**MATRIX_JIT_OPTIONS, "inline": "always"}
