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

from fastbp._memory import large_empty
from fastbp.kernels import codes

CHUNK_SECONDS = 0.2
FIRST_CHUNK_VISITS = 1 << 14  # example visits in the first chunk, before the rate is known
MAX_GROWTH = 16  # a chunk is at most this many times longer than the one before
PREALLOCATED_ROWS = 1 << 20  # a history of up to this many epochs is allocated whole
CHECK_EVERY = 16  # epochs between the kernels' scans of the parameters for non-finite values


@dataclasses.dataclass
class Outcome:
    """How a chunked run ended: ``epochs`` trained and their ``history`` rows; divergence or
    interruption if either."""

    epochs: int
    history: np.ndarray
    interrupted: bool = False
    divergence: tuple | None = None  # (epoch, metric, value)
    stopped: bool = False  # by early stopping or a callback


class HistoryTable:
    """The rows of a fit's history, grown chunk by chunk: a fit may ask for far more epochs
    than early stopping lets it train (``epochs=10**12, patience=10``), so the table holds
    only those run so far, doubling its capacity as it fills."""

    def __init__(self, columns, expected=0):
        # Room for ``expected`` rows from the start: growing a table that the kernel then
        # fills touches its memory twice. NaN until the kernel writes a row: np.zeros takes
        # zeroed pages from calloc 4 KB at a time, where NumPy's own allocation asks for huge
        # pages, and a 256-member history of 2,000 epochs (20 MB) took 3.8 ms to touch
        # against 0.9 ms, a fifth of that ensemble's fit.
        self._rows = _filled((expected, columns))

    def rows(self, start, stop):
        """Rows ``start:stop`` for a kernel to write, growing the table to hold them."""
        if stop > self._rows.shape[0]:
            grown = _filled((max(stop, 2 * self._rows.shape[0]), self._rows.shape[1]))
            grown[: self._rows.shape[0]] = self._rows
            self._rows = grown
        return self._rows[start:stop]

    def head(self, n_epochs):
        """The first ``n_epochs`` rows."""
        return self._rows[:n_epochs]


def _filled(shape):
    """A float64 array of ``shape``, NaN throughout (huge pages when large: ``_memory``)."""
    array = large_empty(shape)
    array[:] = np.nan
    return array


def run(train_chunk, state, epochs, columns, n_samples, on_chunk=None, every=1):
    """Train ``epochs`` epochs by calling ``train_chunk(rows, check_every)`` on blocks of rows
    of a history table with ``columns`` columns; it returns the epochs it trained (fewer on
    divergence or when early stopping ended the fit, which ``counters[STOPPED]`` then says).

    ``state`` is the kernels' ``FitState``. On divergence every array of it is rewound to the
    end of the last finite epoch. Every multiple of ``every`` epochs ends a chunk, and
    ``on_chunk(done, history)`` is called after each chunk with the rows so far: it returns
    True to stop.
    """
    with _deferred_interrupt() as interrupt:
        outcome = _chunks(
            train_chunk, state, epochs, columns, n_samples, on_chunk, every, interrupt
        )
        if interrupt.is_set():
            # Ctrl-C during the last chunk's bookkeeping, after the loop's look: answered here;
            # one that comes later still is delivered on the way out.
            interrupt.clear()
            outcome.interrupted = True
    return outcome


def _chunks(train_chunk, state, epochs, columns, n_samples, on_chunk, every, interrupt):
    """``run``'s loop, with Ctrl-C deferred to the event ``interrupt``."""
    table = HistoryTable(columns, min(epochs, PREALLOCATED_ROWS))
    done = 0
    chunk = max(1, -(-FIRST_CHUNK_VISITS // n_samples))
    while done < epochs:
        next_multiple = (done // every + 1) * every
        start, stop = done, min(done + chunk, next_multiple, epochs)
        before = [array.copy() for array in state]
        started = time.perf_counter()
        trained = int(train_chunk(table.rows(start, stop), CHECK_EVERY))
        elapsed = time.perf_counter() - started
        if state.counters[codes.STOPPED] != 0:
            return Outcome(start + trained, table.head(start + trained), stopped=True)
        if trained < stop - start:
            # The kernel noticed at epoch ``trained``; the parameters may have gone
            # non-finite up to CHECK_EVERY epochs before. Kernels are deterministic, so a
            # replay checking every epoch finds the first, then one more rewinds to it.
            _restore(state, before)
            first = int(train_chunk(table.rows(start, start + trained + 1), 1))
            divergence = _diagnose(table.head(start + first + 1), state.params)
            _restore(state, before)
            if first and train_chunk(table.rows(start, start + first), 1) != first:
                raise RuntimeError("replaying the finite epochs of a chunk diverged")
            return Outcome(start + first, table.head(start + first), divergence=divergence)
        done = stop
        if on_chunk is not None and on_chunk(done, table.head(done)):
            return Outcome(done, table.head(done), stopped=True)
        if interrupt.is_set():
            return Outcome(done, table.head(done), interrupted=True)
        per_epoch = elapsed / trained
        chunk = max(1, min(MAX_GROWTH * trained, int(CHUNK_SECONDS / max(per_epoch, 1e-9))))
    return Outcome(done, table.head(done))


def _restore(arrays, copies):
    for array, copy in zip(arrays, copies, strict=True):
        array[:] = copy


def _diagnose(history, params):
    """The divergence at the last row of ``history``: its epoch, what went non-finite first
    (the loss, or else a parameter) and the value."""
    epoch = history.shape[0] - 1
    loss = history[epoch, codes.LOSS]
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
        if event.is_set():
            # Ctrl-C came after the run's last look at the event: give it to the handler it
            # would have reached, rather than drop it (a loop of short fits, as
            # fastbp.sklearn's epochs, would otherwise go on).
            signal.raise_signal(signal.SIGINT)
