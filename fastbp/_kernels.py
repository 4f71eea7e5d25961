"""The kernel paths, what each runs, and which one a fit takes.

Every path's kernel is written out by ``kernels.skeleton`` for the features a fit uses, from
one epoch skeleton and the path's layer routines, and compiled (or loaded from Numba's disk
cache) on first use. Each path declares, next to its routines in ``fastbp.kernels``, the
training features it runs beyond plain SGD (``RUNS``, names as ``fastbp._settings`` and
``fastbp._plan`` list them) and the scratch it needs (``scratch_size``). Every path is
called with one signature (see ``kernels.state``). A fit takes the fastest path whose
features cover the fit's:

- unrolled (``kernels.unrolled``): layers written out for a tiny network's exact shape (at
  most ``unrolled.MAX_WEIGHTS`` weights, no softmax), 2-5x faster on 3-4-1 nets. It compiles
  once per shape and fit, about as long as a loop kernel, so it pays only on fits of at least
  ``UNROLL_MIN_EXAMPLES`` example visits: a shorter one takes the generic kernel. It runs
  the generic path's features but norm clipping, dropout and L2 in the loss.
- matrix (``kernels.batches``): one BLAS call per layer and batch, the fastest for batches of
  at least ``MATRIX_MIN_BATCH`` on a network with a layer of at least ``MATRIX_MIN_WEIGHTS``
  weights. It runs every feature (batch normalization, dropout in batches, iRPROP- only
  here), and so takes every fit with one the others lack.
- generic (``kernels.loops``): loops over the units of any layout, for everything else, with
  every optimizer but iRPROP-, L2, clipping, sample weights, per-example dropout, schedules,
  validation and early stopping, each step taken in the backward pass.

All give the same results (the unrolled kernel and the generic one bit for bit, the BLAS one
to rounding), which tests/test_kernels.py checks.
"""

import dataclasses
import functools
import os
from collections.abc import Callable

import threadpoolctl
from numba.np import linalg

from fastbp.kernels import batches, codes, loops, train_matrix, unrolled
from fastbp.network import activation_width

UNROLL_MIN_EXAMPLES = 100_000
MATRIX_MIN_BATCH = 8
MATRIX_MIN_WEIGHTS = 4096
CHOICES = ("auto", "unrolled", "matrix", "generic")


@dataclasses.dataclass(frozen=True)
class Path:
    """A kernel path: its name, the features it runs (its module's ``RUNS``), the scratch it
    needs (``scratch_size(width, n_params, batch_size)``), ``kernel(layout, settings,
    options, features)``, the compiled function for a fit, and ``trains(network)``, whether
    it can train that network at all."""

    name: str
    runs: frozenset
    scratch_size: Callable
    kernel: Callable
    trains: Callable = lambda network: True


GENERIC = Path("generic", loops.RUNS, loops.scratch_size, loops.kernel_for_fit)
UNROLLED = Path(
    "unrolled",
    unrolled.RUNS,
    unrolled.scratch_size,
    unrolled.kernel_for_fit,
    lambda network: unrolled.supports(network.layout),
)
MATRIX = Path(
    "matrix", train_matrix.RUNS, train_matrix.scratch_size, lambda *fit: _matrix_kernel(*fit)
)
PATHS = {path.name: path for path in (UNROLLED, MATRIX, GENERIC)}


def _matrix_kernel(layout, settings, options, features):
    """The matrix kernel for a fit, run with BLAS on ``options[THREADS]`` threads."""
    kernel = batches.kernel_for_fit(layout, settings, options, features)
    threads = int(options[codes.THREADS])

    def run_on_threads(*arguments):
        with _blas_threads(threads):
            return kernel(*arguments)

    return run_on_threads


def _long_fit(network, batch_size, n_visits):
    return n_visits >= UNROLL_MIN_EXAMPLES


def _large_batches(network, batch_size, n_visits):
    layout = network.layout
    largest = max(int(n_in) * int(n_out) for n_in, n_out in layout[:, :2])
    return batch_size >= MATRIX_MIN_BATCH and largest >= MATRIX_MIN_WEIGHTS


def _always(network, batch_size, n_visits):
    return True


# Fastest first, each with the condition under which it is the fastest.
PREFERENCE = (
    (UNROLLED, _long_fit),
    (MATRIX, _large_batches),
    (GENERIC, _always),
    (MATRIX, _always),
)


def choose(network, batch_size, n_visits, features=()):
    """The name of the fastest path that trains ``network`` in batches of ``batch_size`` for
    ``n_visits`` example visits (samples times epochs) and runs every one of ``features``."""
    features = set(features)
    for path, fastest in PREFERENCE:
        if (
            features <= path.runs
            and path.trains(network)
            and fastest(network, batch_size, n_visits)
        ):
            return path.name
    raise AssertionError("the matrix path runs every feature")


def check_runs(name, features):
    """Raise a ValueError when the path called ``name`` does not run all of ``features``."""
    missing = [feature for feature in features if feature not in PATHS[name].runs]
    if missing:
        able = [path.name for path in PATHS.values() if set(features) <= path.runs]
        raise ValueError(
            f"kernel {name!r} does not run this fit's features ({', '.join(missing)}); use "
            f"kernel='auto' or {' or '.join(repr(path) for path in able)}"
        )


def kernel_and_scratch(name, network, settings, options, features):
    """The compiled kernel of the path called ``name`` for a fit of ``network`` with the
    encoded ``settings`` and ``options`` and the training ``features`` (names), and the
    length of the scratch it needs."""
    path = PATHS[name]
    layout = network.layout
    batch_size = int(options[codes.BATCH_SIZE])
    size = path.scratch_size(activation_width(layout), network.params.size, batch_size)
    return path.kernel(layout, settings, options, features), size


@functools.cache
def _blas_controller():
    """threadpoolctl's handle on the BLAS libraries loaded, Numba's (SciPy's) among them:
    made once, as finding them takes milliseconds and setting them microseconds."""
    linalg.ensure_blas()  # SciPy's BLAS, which np.dot in a kernel calls, is loaded first
    return threadpoolctl.ThreadpoolController()


def _blas_threads(threads):
    """Run BLAS on ``threads`` threads inside the block (at most ``usable_cpus()``).

    The matrix kernel's ``threads`` are BLAS's: OpenBLAS splits each layer's product over
    them. Measured on two cores (784-256-10, alternated processes, medians), that ran W4
    1.2-1.7x and U4 (Adam, batches of 128) 1.6-1.7x faster than one thread, where splitting
    the products with Numba's ``prange`` (each chunk a one-thread BLAS call) ran W4 no faster
    than one thread on the workqueue layer (whose every parallel region cost 130-160 us
    here) and U4 1.3x on the OpenMP layer. One is one: BLAS's own default (every core)
    would oversubscribe the cores when fits run side by side (seeds, sweeps, searches).
    """
    return _blas_controller().limit(limits=min(threads, usable_cpus()), user_api="blas")


def usable_cpus():
    """The CPUs this process may run on. BLAS runs on at most that many threads: OpenBLAS's
    threads wait for each other by spinning, and two of them on one CPU took a 10-batch fit
    (784-256-10, Adam) from 0.45 to 0.92 s."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
