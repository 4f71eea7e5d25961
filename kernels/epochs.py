"""What happens between epochs: the schedule's learning rate, reduce-on-plateau and early
stopping bookkeeping. The state lives in the float64 ``counters`` vector (entries in
``codes``), so it carries over from one kernel call to the next."""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import EPOCH_HELPER_OPTIONS


@njit(**EPOCH_HELPER_OPTIONS)
def learning_rate(settings, options, counters):
    """The learning rate of the epoch about to start (``counters[EPOCH]`` counts from 0)."""
    base = settings[codes.LEARNING_RATE]
    schedule = options[codes.SCHEDULE]
    epoch = counters[codes.EPOCH]
    if schedule == codes.INVSCALING:
        power = np.float64(settings[codes.SCHEDULE_POWER])
        return settings.dtype.type(np.float64(base) / (epoch + 1.0) ** power)
    if schedule == codes.STEP:
        factor = np.float64(settings[codes.SCHEDULE_FACTOR])
        reductions = np.floor(epoch / options[codes.SCHEDULE_EVERY])
        return settings.dtype.type(np.float64(base) * factor**reductions)
    if schedule == codes.PLATEAU:
        return settings.dtype.type(counters[codes.RATE])
    return base


@njit(**EPOCH_HELPER_OPTIONS)
def end_epoch(
    settings, options, counters, monitored, params, best_params, statistics, best_statistics
):
    """Count the epoch, and update reduce-on-plateau and early stopping from ``monitored``
    (the epoch's validation loss, or its training loss without validation data).

    Early stopping keeps a copy of the best parameters in ``best_params`` (and of batch
    normalization's running statistics in ``best_statistics``) and sets
    ``counters[STOPPED]`` after ``options[PATIENCE]`` epochs without an improvement of more
    than ``settings[MIN_DELTA]``.
    """
    if options[codes.SCHEDULE] == codes.PLATEAU:
        threshold = np.float64(settings[codes.SCHEDULE_THRESHOLD])
        if monitored < counters[codes.PLATEAU_BEST] * (1.0 - threshold):
            counters[codes.PLATEAU_BEST] = monitored
            counters[codes.PLATEAU_WAIT] = 0.0
        else:
            counters[codes.PLATEAU_WAIT] += 1.0
            if counters[codes.PLATEAU_WAIT] > options[codes.SCHEDULE_EVERY]:
                factor = np.float64(settings[codes.SCHEDULE_FACTOR])
                counters[codes.RATE] = counters[codes.RATE] * factor
                counters[codes.PLATEAU_WAIT] = 0.0
    if options[codes.PATIENCE] > 0:
        if monitored < counters[codes.BEST_LOSS] - np.float64(settings[codes.MIN_DELTA]):
            counters[codes.BEST_LOSS] = monitored
            counters[codes.BEST_EPOCH] = counters[codes.EPOCH]
            counters[codes.WAIT] = 0.0
            for p in range(params.shape[0]):
                best_params[p] = params[p]
            for p in range(statistics.shape[0]):
                best_statistics[p] = statistics[p]
        else:
            counters[codes.WAIT] += 1.0
            if counters[codes.WAIT] >= options[codes.PATIENCE]:
                counters[codes.STOPPED] = 1.0
    counters[codes.EPOCH] += 1.0
