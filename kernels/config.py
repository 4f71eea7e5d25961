"""Compilation flags shared by every kernel: the one place where fastmath is decided.

``nnan`` and ``ninf`` are never used: they would let LLVM assume away the NaN and infinity
checks that divergence detection relies on. ``afn`` (approximate libm functions) is left out
because it changes ``exp`` and ``tanh`` by more than rounding. What remains only reorders or
fuses floating-point operations, which changes results at the level of rounding; the
equivalence tests hold the default path to a relative 1e-9 of the reference with these flags on.
"""

FASTMATH = frozenset()

JIT_OPTIONS = {"cache": True, "nogil": True, "fastmath": set(FASTMATH), "error_model": "numpy"}

# Helpers called once per example are inlined into their caller by Numba itself: a call that
# passes arrays costs reference counting, about 30 ns a call in a prototype, more than a whole
# tiny layer.
HELPER_OPTIONS = {**JIT_OPTIONS, "inline": "always"}
