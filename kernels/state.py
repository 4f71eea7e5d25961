"""The named records every training kernel takes: what it trains on, and what it updates.

Named tuples work inside ``@njit`` (Numba types them field by field), so a kernel reads
``state.params`` rather than ``state[0]``, and every kernel path is called with one signature::

    kernel(state, layout, data, validation, settings, options, scratch, history) -> epochs

A kernel reads only the fields its fit uses: one written out without sample weights or
validation data never touches ``data.sample_weight`` or ``validation``.
"""

from collections import namedtuple

import numpy as np

# No given order: the kernel visits the examples in order, or shuffles them itself.
NO_ORDER = np.empty((0, 0), dtype=np.int64)

# The examples of a fit. ``X`` is a C-contiguous array, or on the matrix path
# ``kernels.csr.CSRRows``. ``sample_weight`` is (n_samples,), or empty for unweighted examples.
# ``order`` (the feature "order") is int64 (epochs, n_samples), row e the
# examples of the call's epoch e in the order visited, or ``NO_ORDER``.
Data = namedtuple("Data", ["X", "Y", "sample_weight", "order"], defaults=(NO_ORDER,))

# The data scored after every epoch; empty arrays for none.
Validation = namedtuple("Validation", ["X", "Y"])

# Everything a fit changes, and so everything the chunk runner rewinds on divergence:
#
# params           the flat parameter vector (float32 or float64)
# rng_state        uint64[1], the generator of the shuffle and the dropout masks
# optimizer_state  two vectors of the parameter layout, one after the other (see
#                  kernels.updates): velocities; Adam's moments; RPROP's gradients and steps
# counters         float64, entries in ``codes`` (epochs and updates so far, the schedule's
#                  and early stopping's bookkeeping); each kernel keeps its own counts
# statistics       batch normalization's running means and variances
# best_params, best_statistics
#                  early stopping's copies from the best epoch so far
FitState = namedtuple(
    "FitState",
    [
        "params",
        "rng_state",
        "optimizer_state",
        "counters",
        "statistics",
        "best_params",
        "best_statistics",
    ],
)

# An ensemble's block of member lanes (kernels.lanes): the fields of ``FitState`` with the
# member lane innermost (``params`` and ``optimizer_state`` are (n_params, lanes) and
# (2 * n_params, lanes); ``rng_state`` has one generator per lane), and ``diverged``, int64
# per lane: -1, or the call's first epoch at which the lane's loss or parameters were found
# not finite. A diverged lane trains on (its lanes' neighbours do); the caller rewinds it.
LaneState = namedtuple("LaneState", [*FitState._fields, "diverged"])
