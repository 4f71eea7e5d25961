"""Which training kernel a fit runs, and the scratch it needs.

- Networks of at most ``unrolled.MAX_WEIGHTS`` weights (and no softmax), on fits of at least
  ``UNROLL_MIN_EXAMPLES`` example visits: a kernel unrolled for the exact shape (2-5x faster
  on 3-4-1 nets). It compiles once per shape, about as long as the generic kernel compiles
  once in all (seconds; both are cached on disk), so it pays only on long fits: a shorter one
  takes the generic kernel under 20 ms. It runs plain SGD, momentum, Nesterov and L2.
- Mini-batches of at least ``MATRIX_MIN_BATCH`` on a network with a layer of at least
  ``MATRIX_MIN_WEIGHTS`` weights: one BLAS call per layer and batch. This kernel also runs
  every training feature, and so takes every fit that uses one the others lack.
- Everything else: the generic loop kernel, which runs plain SGD.

All three give the same results (the unrolled kernel bit for bit, the BLAS one to rounding),
which tests/test_kernels.py checks.
"""

from fastbp.kernels import unrolled
from fastbp.kernels.train import train as generic_kernel
from fastbp.kernels.train_matrix import train_matrix as matrix_kernel
from fastbp.network import activation_width

UNROLL_MIN_EXAMPLES = 100_000
MATRIX_MIN_BATCH = 8
MATRIX_MIN_WEIGHTS = 4096
CHOICES = ("auto", "unrolled", "matrix", "generic")

# What a fit needs of its kernel: every kernel runs a PLAIN fit (SGD without momentum, no
# other feature); the unrolled and matrix kernels one with MOMENTUM_L2 (momentum, Nesterov,
# L2 and nothing else); only the matrix kernel the rest (FULL).
PLAIN, MOMENTUM_L2, FULL = "plain", "momentum and L2", "full"
RUNS = {"generic": (PLAIN,), "unrolled": (PLAIN, MOMENTUM_L2), "matrix": (PLAIN, MOMENTUM_L2, FULL)}


def needs(features):
    """What a fit with ``features`` (name: whether the unrolled kernel runs it, as
    ``Trainer`` lists them) needs of its kernel: PLAIN, MOMENTUM_L2 or FULL."""
    if not features:
        return PLAIN
    return MOMENTUM_L2 if all(features.values()) else FULL


def choose(network, batch_size, n_examples, needs=PLAIN):
    """The name of the kernel for ``network`` trained in batches of ``batch_size`` on
    ``n_examples`` example visits (samples times epochs), with the features ``needs`` says."""
    layout = network.layout
    if needs == FULL:
        return "matrix"
    if unrolled.supports(layout) and n_examples >= UNROLL_MIN_EXAMPLES:
        return "unrolled"
    if needs == MOMENTUM_L2:
        return "matrix"
    largest = max(
        int(n_in) * int(n_out) for n_in, n_out in zip(layout[:, 0], layout[:, 1], strict=True)
    )
    if batch_size >= MATRIX_MIN_BATCH and largest >= MATRIX_MIN_WEIGHTS:
        return "matrix"
    return "generic"


def kernel_and_scratch(name, network, batch_size, update=None):
    """The kernel called ``name`` for ``network`` and the length of the scratch it needs.

    The kernel is returned as a function of the matrix kernel's arguments, ``(params, layout,
    data, validation, settings, options, scratch, state, rng_state, history)``, whichever it
    is.
    ``update`` is what ``kernels.unrolled.kernel_for`` takes for the unrolled kernel.
    """
    layout = network.layout
    width = activation_width(layout)
    n_params = network.params.size
    if name == "matrix":
        return matrix_kernel, 5 * batch_size * width + width + n_params
    if name == "unrolled":
        kernel = unrolled.kernel_for(layout, batch_size == 1, update)
        if update is None:
            return _without_state(kernel), 2 * width

        def call(params, layout, data, validation, settings, options, scratch, state, rng, rows):
            X, Y = data[:2]
            return kernel(params, layout, X, Y, settings, options, scratch, state[0], rng, rows)

        return call, 2 * width
    return _without_state(generic_kernel), 2 * width + (0 if batch_size == 1 else n_params)


def _without_state(kernel):
    """``kernel``, which takes no sample weights, validation data or state, called as the
    matrix kernel is."""

    def call(params, layout, data, validation, settings, options, scratch, state, rng, rows):
        X, Y = data[:2]
        return kernel(params, layout, X, Y, settings, options, scratch, rng, rows)

    return call
