"""Compilation flags shared by every kernel: the one place where fastmath is decided.

fastmath is off. Measured on the streetlight net (3-4-1, per-example SGD) in one session,
``{"reassoc", "contract", "nsz", "arcp"}`` ran at 543x the reference against 663x without:
no gain where every reduction is 1 to 4 wide. It kept the 1e-9 equivalence contract, but FMA
contraction changes the rounding of the kernel's arithmetic, which the lecture-notes test
pins down (tests/test_seeds.py). Whoever turns it on for larger networks: never ``nnan`` or
``ninf`` (they let LLVM assume away the NaN and infinity checks divergence detection needs),
and not ``afn``, which changes ``exp`` and ``tanh`` by more than rounding.
"""

FASTMATH = frozenset()

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": set(FASTMATH), "error_model": "numpy"}

# Helpers called once per example are inlined by Numba itself, not left to LLVM: this took
# the forward pass of the 3-4-1 net from 108 to 80 ns. What removed the rest of the reference
# counting was keeping array-handling helpers one call deep (see kernels/layers.py).
HELPER_OPTIONS = {**JIT_OPTIONS, "inline": "always"}
