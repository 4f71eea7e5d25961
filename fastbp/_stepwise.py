"""A ``Trainer``'s fit planned once and run one epoch at a time by a caller that decides
between epochs: ``fastbp.sklearn``, whose bookkeeping (scikit-learn's shuffles, learning
rates, stopping rules and validation scores) is Python between epochs.

``Trainer.fit`` plans every call afresh (checks, kernel choice, encoding, a working copy of
the state, a record): about 0.5 ms, which on digits was a fifth of an epoch. Here the plan,
the working state and the scratch are made once; each epoch is one kernel call on the
epoch's order of the examples (the feature "order": no copy of the rows), and the fit is
committed to the trainer and recorded once, at the end.
"""

import numpy as np

from fastbp import _sparse
from fastbp._chunks import Outcome
from fastbp._memory import aligned_zeros
from fastbp._plan import plan_fit
from fastbp.errors import DivergenceError
from fastbp.kernels import codes
from fastbp.kernels.state import Data, Validation


class Stepwise:
    """``trainer``'s fit of ``(X, Y)`` (weighted by ``sample_weight``), run an epoch at a
    time by ``epoch``; a context manager that, when it exits normally or on Ctrl-C, commits
    what was trained (on any other error the caller discards the fit), and that lets the
    network be fitted again.

    The network's ``params`` and ``statistics`` follow every epoch, so the caller can score
    it between epochs; the trainer's own state (optimizer, generator, counters) and the
    record in ``metadata["fits"]`` are committed at the end.
    """

    def __init__(self, trainer, X, Y, sample_weight=None):
        n_samples = X.shape[0]
        fit_options = {
            "sample_weight": sample_weight,
            "class_weight": None,
            "validation_data": None,
            "validation_fraction": None,
            "patience": None,
            "min_delta": 0.0,
            "restore_best": True,
            "callbacks": (),
            "callback_every": 1,
            "order": np.arange(n_samples)[None, :],  # plans the feature; each epoch gives its own
        }
        self.trainer = trainer
        self.plan = plan = plan_fit(trainer, X, Y, 1, (), False, fit_options)
        network = trainer.network
        if not network._fit_lock.acquire(blocking=False):
            raise RuntimeError(
                "this network is already being fitted in another thread; fit a copy "
                "(network.copy()) to train two at once"
            )
        self.state = trainer._working_state(plan)
        self.first_epoch = int(self.state.counters[codes.EPOCH])
        weights = np.empty(0, network.dtype) if plan.weights is None else plan.weights
        self.data = Data(_sparse.kernel_rows(plan.X), plan.Y, weights, plan.order)
        self.validation = Validation(_sparse.kernel_rows(plan.X_val), plan.Y_val)
        self.scratch = aligned_zeros(plan.scratch_size, network.dtype)
        self.history = np.zeros((1, codes.METRIC_COLUMNS))
        self.epochs = 0
        plan.options[codes.CHECK_EVERY] = 1  # each call is one epoch, and checks it

    def epoch(self, order, learning_rate):
        """Train one epoch over the examples in ``order`` (int64, a permutation of the rows,
        unchecked) at ``learning_rate``; return its loss. Raises ``DivergenceError`` when
        the loss or a parameter became non-finite."""
        plan, state, network = self.plan, self.state, self.trainer.network
        plan.settings[codes.LEARNING_RATE] = learning_rate
        data = self.data._replace(order=order.reshape(1, -1))
        trained = plan.kernel(
            state,
            network.layout,
            data,
            self.validation,
            plan.settings,
            plan.options,
            self.scratch,
            self.history,
        )
        if trained < 1:
            loss = self.history[0, codes.LOSS]
            metric, value = ("loss", loss) if not np.isfinite(loss) else ("params", np.nan)
            raise DivergenceError(self.epochs, metric, float(value), history=None)
        network.params[:] = state.params
        network.statistics[:] = state.statistics
        self.epochs += 1
        return float(self.history[0, codes.LOSS])

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        trainer = self.trainer
        try:
            if self.epochs and (kind is None or issubclass(kind, KeyboardInterrupt)):
                trainer._commit(self.plan, self.state, self.first_epoch)
                outcome = Outcome(self.epochs, self.history)
                trainer.network.metadata["fits"].append(trainer._record(outcome))
        finally:
            trainer.network._fit_lock.release()
        return False
