"""The per-epoch helpers inlined, for kernels whose epoch is a handful of examples.

The helpers a kernel calls once per epoch or per batch are compiled apart (``kernels.config``,
``EPOCH_HELPER_OPTIONS``), which saves each kernel typing them again. The unrolled path's
epochs are a few examples of tens of nanoseconds each (W1: 4 examples in about 70 ns), where
three calls per epoch would cost more than the compile time they save: its kernels import
these twins instead, compiled from the same Python functions with Numba's inlining. So do
the ensembles' kernels, whose history rows are one per member of a block each epoch.
"""

from numba import njit

from fastbp.kernels import codes, epochs, layers, shuffle, updates
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
    history, epoch, options, n_samples, n_outputs, loss, squared, absolute, n_correct
):
    """``record_epoch`` for an ensemble's block: row ``epoch`` of ``history`` (epochs, lanes,
    recorded columns) from each lane's tallies (arrays, one entry per lane), with its
    arithmetic, each metric in the column ``options[codes.RECORDED + metric]`` says (none
    where it is -1). 256 streetlight nets spent a fifth of their fit's kernel time writing
    the five metrics of every member's epoch (4 examples), when they asked for the loss."""
    row = history[epoch]
    examples = n_samples * n_outputs
    columns = options[codes.RECORDED : codes.RECORDED + codes.METRIC_COLUMNS]
    for m in range(row.shape[0]):
        row[m, codes.LOSS] = loss[m] / n_samples
    if columns[codes.SSE] >= 0:
        for m in range(row.shape[0]):
            row[m, columns[codes.SSE]] = squared[m]
    if columns[codes.MSE] >= 0:
        for m in range(row.shape[0]):
            row[m, columns[codes.MSE]] = squared[m] / examples
    if columns[codes.MAE] >= 0:
        for m in range(row.shape[0]):
            row[m, columns[codes.MAE]] = absolute[m] / examples
    if columns[codes.ACCURACY] >= 0:
        for m in range(row.shape[0]):
            row[m, columns[codes.ACCURACY]] = n_correct[m] / n_samples
