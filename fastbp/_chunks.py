"""A fit's epochs run in chunks, one kernel call each.

Between chunks, and only there, Python does its per-epoch work: redrawing the progress bar,
calling the user's callbacks, noticing Ctrl-C, and, when the kernel reports divergence,
replaying the chunk up to the last finite epoch. A chunk is sized to take about
``CHUNK_SECONDS``, so the calls cost nothing next to the training, while Ctrl-C is answered
within a fraction of a second.

The kernels carry no state from one call to the next but the arrays they update (parameters,
the generator's state, the optimizer's and the schedule's state), so a fit gives the same
result however it is cut into chunks.
"""

import contextlib
import dataclasses
import signal
import threading
import time

import numpy as np

from fastbp.kernels import codes

CHUNK_SECONDS = 0.2
FIRST_CHUNK_VISITS = 1 << 14  # example visits in the first chunk, before the rate is known
MAX_GROWTH = 16  # a chunk is at most this many times longer than the one before
CHECK_EVERY = 16  # epochs between the kernels' scans of the parameters for non-finite values


@dataclasses.dataclass
class Outcome:
    """How a chunked run ended: ``epochs`` trained; divergence or interruption if either."""

    epochs: int
    interrupted: bool = False
    divergence: tuple | None = None  # (epoch, metric, value)
    stopped: bool = False  # by early stopping or a callback


def run(train_chunk, arrays, table, n_samples, on_chunk=None, every=1, early_stopped=None):
    """Train ``table.shape[0]`` epochs by calling ``train_chunk(rows, check_every)`` on row
    blocks of ``table``; it returns the epochs it trained (fewer on divergence or when early
    stopping ended the fit, which ``early_stopped()`` then says).

    ``arrays`` are the arrays the kernel updates, the parameters first. On divergence they are
    rewound to the end of the last finite epoch. Every multiple of ``every`` epochs ends a
    chunk, and ``on_chunk(done)`` is called after each chunk: it returns True to stop.
    """
    params = arrays[0]
    total = table.shape[0]
    done = 0
    chunk = max(1, -(-FIRST_CHUNK_VISITS // n_samples))
    with _deferred_interrupt() as interrupt:
        while done < total:
            next_multiple = (done // every + 1) * every
            start, stop = done, min(done + chunk, next_multiple, total)
            before = [array.copy() for array in arrays]
            started = time.perf_counter()
            trained = int(train_chunk(table[start:stop], CHECK_EVERY))
            elapsed = time.perf_counter() - started
            if early_stopped is not None and early_stopped():
                return Outcome(start + trained, stopped=True)
            if trained < stop - start:
                # The kernel noticed at epoch ``trained``; the parameters may have gone
                # non-finite up to CHECK_EVERY epochs before. Kernels are deterministic, so a
                # replay checking every epoch finds the first, then one more rewinds to it.
                _restore(arrays, before)
                first = int(train_chunk(table[start : start + trained + 1], 1))
                divergence = _diagnose(table, start + first, params)
                _restore(arrays, before)
                if first and train_chunk(table[start : start + first], 1) != first:
                    raise RuntimeError("replaying the finite epochs of a chunk diverged")
                return Outcome(start + first, divergence=divergence)
            done = stop
            if on_chunk is not None and on_chunk(done):
                return Outcome(done, stopped=True)
            if interrupt.is_set():
                return Outcome(done, interrupted=True)
            per_epoch = elapsed / trained
            chunk = max(1, min(MAX_GROWTH * trained, int(CHUNK_SECONDS / max(per_epoch, 1e-9))))
    return Outcome(done)


def _restore(arrays, copies):
    for array, copy in zip(arrays, copies, strict=True):
        array[:] = copy


def _diagnose(table, epoch, params):
    loss = table[epoch, codes.LOSS]
    if not np.isfinite(loss):
        return epoch, "loss", float(loss)
    return epoch, "params", float(params[~np.isfinite(params)][0])


@contextlib.contextmanager
def _deferred_interrupt():
    """While active, Ctrl-C sets an event instead of raising KeyboardInterrupt mid-bookkeeping.

    Signal handlers can only be installed from the main thread; elsewhere Ctrl-C never arrives
    anyway (Python delivers it to the main thread), so the event simply stays clear.
    """
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: event.set())
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)
