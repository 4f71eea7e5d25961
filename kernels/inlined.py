"""The per-epoch helpers inlined, for kernels whose epoch is a handful of examples.

The helpers a kernel calls once per epoch or per batch are compiled apart (``kernels.config``,
``EPOCH_HELPER_OPTIONS``), which saves each kernel typing them again. The unrolled path's
epochs are a few examples of tens of nanoseconds each (W1: 4 examples in about 70 ns), where
three calls per epoch would cost more than the compile time they save: its kernels import
these twins instead, compiled from the same Python functions with Numba's inlining. So do
the ensembles' kernels, whose history rows are one per member of a block each epoch.
"""

from numba import njit

from fastbp.kernels import epochs, layers, shuffle, updates
from fastbp.kernels.config import HELPER_OPTIONS


def _inlined(helper):
    return njit(**HELPER_OPTIONS)(helper.py_func)


apply_update = _inlined(updates.apply_update)
check_epoch = _inlined(layers.check_epoch)
end_epoch = _inlined(epochs.end_epoch)
l2_penalty = _inlined(updates.l2_penalty)
learning_rate = _inlined(epochs.learning_rate)
record_epoch = _inlined(layers.record_epoch)
score_validation_by_example = _inlined(layers.score_validation_by_example)
shuffle_in_place = _inlined(shuffle.shuffle_in_place)


@njit(**HELPER_OPTIONS)
def record_epoch_lanes(
    history, epoch, column, n_samples, n_outputs, loss, squared, absolute, n_correct
):
    """``record_epoch`` for an ensemble's block: row ``epoch`` of ``history`` (epochs, lanes,
    columns) from each lane's tallies (arrays, one entry per lane)."""
    row = history[epoch]
    for m in range(row.shape[0]):
        record_epoch(
            row,
            m,
            column,
            n_samples,
            n_outputs,
            loss[m],
            squared[m],
            absolute[m],
            n_correct[m],
        )
