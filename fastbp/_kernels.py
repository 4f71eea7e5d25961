"""Which training kernel a fit runs, and the scratch it needs.

- Networks of at most ``unrolled.MAX_WEIGHTS`` weights (and no softmax), on fits of at least
  ``UNROLL_MIN_EXAMPLES`` example visits: a kernel unrolled for the exact shape (2-5x faster
  on 3-4-1 nets). It compiles once per shape, about as long as the generic kernel compiles
  once in all (seconds; both are cached on disk), so it pays only on long fits: a shorter one
  takes the generic kernel under 20 ms.
- Mini-batches of at least ``MATRIX_MIN_BATCH`` on a network with a layer of at least
  ``MATRIX_MIN_WEIGHTS`` weights: one BLAS call per layer and batch.
- Everything else: the generic loop kernel.

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


def choose(network, batch_size, n_examples):
    """The name of the kernel for ``network`` trained in batches of ``batch_size`` on
    ``n_examples`` example visits (samples times epochs)."""
    layout = network.layout
    if unrolled.supports(layout) and n_examples >= UNROLL_MIN_EXAMPLES:
        return "unrolled"
    largest = max(
        int(n_in) * int(n_out) for n_in, n_out in zip(layout[:, 0], layout[:, 1], strict=True)
    )
    if batch_size >= MATRIX_MIN_BATCH and largest >= MATRIX_MIN_WEIGHTS:
        return "matrix"
    return "generic"


def kernel_and_scratch(name, network, batch_size):
    """The kernel called ``name`` for ``network`` and the length of the scratch it needs."""
    width = activation_width(network.layout)
    n_params = network.params.size
    if name == "matrix":
        return matrix_kernel, 2 * batch_size * width + n_params
    if name == "unrolled":
        return unrolled.kernel_for(network.layout, batch_size == 1), 2 * width
    return generic_kernel, 2 * width + (0 if batch_size == 1 else n_params)
