"""``Trainer``: plans a fit (checks it, picks a kernel), runs it in compiled chunks, and
finishes it (commits, records, reports)."""

import warnings

import numpy as np

from fastbp import _chunks, _settings, _sparse
from fastbp._ensemble_fit import ensemble_fit
from fastbp._fit_warnings import fit_warnings
from fastbp._memory import aligned_zeros
from fastbp._names import METRICS
from fastbp._plan import plan_fit
from fastbp._settings import member_values
from fastbp.errors import DivergenceError, FitInterruptedWarning, FitWarning
from fastbp.history import History
from fastbp.kernels import codes
from fastbp.kernels.state import Data, FitState, Validation
from fastbp.network import Network
from fastbp.optimizers import RPROP
from fastbp.progress import ProgressBar


class Trainer:
    """Trains a ``Network``, or every member of an ``Ensemble`` at once, by backpropagation
    with (mini-)batch gradient descent.

    Parameters
    ----------
    network : Network or Ensemble
        The network to train; its parameters are updated in place when a fit succeeds. An
        ``Ensemble``'s members are trained together, each exactly as it would be alone with
        its own ``learning_rate``, ``l2`` and ``seed`` (each of which then takes one value
        per member, a sequence, or one for all) and the other settings in common; its fits
        record histories of shape ``(epochs, n_members)``. The members run side by side in
        SIMD lanes or, in per-example fits without Adam of networks of 1,200 parameters or
        more, in turn on the generic kernel, in one compiled call either way (``kernel``
        "generic" and "auto" choose so; "matrix" is refused). An ensemble's fit runs SGD,
        momentum, Nesterov and Adam, L2, delta clipping, sample weights, a given ``order``,
        the ``"exp"`` output with the Poisson loss, and dropout per example (each member's
        masks drawn from its own ``seed``); it refuses by name, not yet running them,
        iRPROP-, schedules, dropout in batches, norm clipping, validation data, early
        stopping, and scikit-learn's batch options (``"weighted_mean"``, ``l2_divided``,
        ``l2_in_loss``, ``loss_output_mean``).
    learning_rate : float, default 0.01
        Step size: every update is ``params -= learning_rate * gradient``. (The tutorials call
        it ``alpha``.)
    batch_size : int or None, default 32
        ``1`` is per-example SGD (an update after every example), ``None`` is full batch, ``k``
        is mini-batches of ``k`` examples; the last batch of an epoch may be shorter.
    reduction : {"mean", "sum", "weighted_mean"}, default "mean"
        Whether a batch's gradient is the mean or the sum of its examples' gradients. A short
        last batch is divided by its actual size. The tutorials' full-batch updates are "sum".
        "weighted_mean" divides by the batch's summed sample weight instead (its size when
        unweighted), and the history's loss then weighs each batch's weighted mean loss by
        the batch's size: scikit-learn's MLP (a batch whose weights sum to 0 diverges).
    loss : {"squared_error", "cross_entropy", "poisson"}, default "squared_error"
        ``0.5 * sum((o - t)**2)`` per example, or cross entropy, which needs a softmax output
        (or sigmoid outputs for binary targets) and targets in [0, 1]; its output delta is
        ``o - t``. "poisson" is half the Poisson deviance, ``sum(t log(t / o) - t + o)``
        (scikit-learn's), on an ``"exp"`` output and non-negative targets, delta ``o - t``
        too; the generic and matrix kernels run it.
    shuffle : bool, default True
        Visit the examples of each epoch in a fresh random order drawn from ``seed``;
        otherwise in the order given.
    seed : int, optional
        Seed of the shuffling. Successive fits continue the same random stream, so two fits of
        10 epochs give the same result as one of 20. ``None`` draws fresh entropy. An
        ensemble's members each shuffle from their own (a sequence), or each from this one.
    optimizer : {"sgd", "adam", "rprop"} or optimizer object, default "sgd"
        How the gradient becomes a step: ``fastbp.optimizers.SGD(momentum, nesterov)``,
        ``Adam(beta_1, beta_2, epsilon)`` or ``RPROP(...)`` (iRPROP-, full batch only); a
        name means that optimizer with its defaults. Its state (velocities, moments, step
        sizes) is kept by the trainer and carries over from one fit to the next.
    schedule : {"constant", "invscaling", "plateau"} or schedule object, default "constant"
        The learning rate of each epoch: ``fastbp.schedules.Constant()``,
        ``InverseScaling(power)``, ``Step(every, factor)`` or ``Plateau(factor, patience,
        threshold)``.
    l2 : float, default 0.0
        L2 weight decay: ``l2 * w`` is added to every batch's gradient (after the sum or mean
        over the batch), the gradient of ``0.5 * l2 * ||W||**2``; on the weights, and on the
        biases too with ``l2_biases``. scikit-learn's ``alpha`` is divided by the batch's
        size before it is added to the mean gradient, so ``MLPRegressor(alpha=a,
        batch_size=k)`` decays as ``l2 = a / k`` with reduction "mean" here. An ensemble's
        members each take their own (a sequence), or one for all.
    l2_biases : bool, default False
        Whether the L2 penalty covers the biases.
    l2_divided : bool, default False
        Add the L2 term ``l2 * w`` to the batch's summed gradient before the reduction divides
        it, rather than after: scikit-learn's ``alpha`` (``MLPRegressor(alpha=a)`` is
        ``l2=a, l2_divided=True, reduction="weighted_mean"``).
    l2_in_loss : bool, default False
        The history's loss includes the L2 penalty ``0.5 * l2 * ||w||**2`` (over what L2
        covers) at the parameters each batch's gradient is taken at: every example of the
        batch adds it, divided by the batch's divisor with ``l2_divided``. scikit-learn's
        ``loss_curve_`` counts it so.
    loss_output_mean : bool, default False
        In the history's loss, each example's loss is its mean over the outputs instead of
        their sum (training is unchanged): scikit-learn's regressors report squared error so.
    dropout : float, default 0.0
        Inverted dropout on every hidden layer's outputs while training: each unit of each
        example is dropped with this probability and the kept ones are scaled by
        ``1 / (1 - dropout)``, drawn from the trainer's seeded generator (the shuffle's), so a
        fit is reproducible from its seed. ``predict`` never drops.
    clip_value : float, optional
        "Delta trimming": every delta (dLoss/dz of each layer and example, after sample
        weighting) is clipped to ``[-clip_value, clip_value]`` as soon as it is computed, so
        the clipped value is what is propagated.
    clip_norm : float, optional
        The batch's whole gradient (all parameters, after L2) is scaled down to this
        Euclidean norm when it is longer.
    norm_momentum : float, default 0.1
        For networks with batch normalization: after each batch the running statistics move
        this far towards the batch's, ``running = (1 - m) * running + m * batch`` (PyTorch's
        convention; the running variance takes the batch's unbiased variance). Such networks
        train in batches of 2 or more, and with ``clip_value`` their deltas are clipped with
        respect to the normalization's output.
    kernel : {"auto", "unrolled", "matrix", "generic"}, default "auto"
        Which compiled kernel runs the fit; all give the same results. ``"unrolled"`` is
        written out for the network's exact shape (networks of at most 64 weights, no
        softmax); ``"matrix"`` calls BLAS once per layer and batch and runs every feature;
        ``"generic"`` loops over the units of any network and runs every feature but batch
        normalization, iRPROP- and dropout in batches of more than one (the unrolled kernel
        also lacks dropout, norm clipping and ``l2_in_loss``). ``"auto"`` picks the fastest
        that applies: unrolled on fits of 100,000 example visits or more (on shorter ones its
        compile time does not pay), else matrix for batches of 8 or more on a network with a
        layer of 4096 weights or more or for a fit with a feature only it runs, else generic.
        Each kernel is written out for the features the fit uses, compiles on first use
        (seconds) and is cached on disk after.
    threads : int, default 1
        Threads of the BLAS calls the matrix kernel makes for each layer's products (at most
        the CPUs the process may run on), set for the fit and restored after
        (threadpoolctl). BLAS splits each product's outputs over them, each output summed by
        one thread, so a count gives the same result run after run; counts differ from each
        other by rounding only. The rest of a fit runs on one thread, as do the other
        kernels. One is the default, as in scikit-learn
        (``n_jobs=None``): fastbp's fits are often many at once (seeds, sweeps,
        cross-validation, ensembles), where threads per fit would fight over the cores, and
        only wide layers in batches gain (W4, 784-256-10 in batches of 64: see the README).
        An ensemble's blocks of members are spread over ``threads`` of Numba's threads
        (``NUMBA_NUM_THREADS``, the cores by default), each block trained start to finish by
        one, so every count gives the same result.

    Examples
    --------
    >>> import numpy as np
    >>> from fastbp import Network, Trainer
    >>> X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> y = np.array([0, 1, 1, 0])
    >>> net = Network([3, 4, 1], activations="sigmoid", bias=False, init="uniform", seed=1)
    >>> trainer = Trainer(net, learning_rate=1.0, batch_size=None, reduction="sum",
    ...                   shuffle=False)
    >>> history = trainer.fit(X, y, epochs=60000, metrics=["mae"])
    >>> round(float(history["mae"][10000]), 8)
    0.00858453
    """

    # Whether a finished fit looks for the signs that it went wrong (``FitWarning``).
    # fastbp.sklearn's solvers fit an epoch at a time and leave it to scikit-learn's own
    # checks, as scikit-learn's estimators do.
    _checks_result = True

    def __init__(
        self,
        network,
        learning_rate=0.01,
        batch_size=32,
        reduction="mean",
        loss="squared_error",
        shuffle=True,
        seed=None,
        optimizer="sgd",
        schedule="constant",
        l2=0.0,
        l2_biases=False,
        l2_divided=False,
        l2_in_loss=False,
        loss_output_mean=False,
        dropout=0.0,
        clip_value=None,
        clip_norm=None,
        norm_momentum=0.1,
        kernel="auto",
        threads=1,
    ):
        self.network = network
        given = locals()
        for name in _settings.NAMES:
            setattr(self, name, given[name])
        _settings.check(self)
        seeds = [self.seed] if isinstance(network, Network) else member_values(self, "seed")
        # Fresh entropy for the generators without a seed, drawn at once (256 members drew it
        # one by one in a tenth of their whole fit).
        fresh = np.random.SeedSequence().generate_state(len(seeds), np.uint64)
        self._rng_state = np.array(
            [drawn if seed is None else seed for seed, drawn in zip(seeds, fresh, strict=True)],
            dtype=np.uint64,
        )
        self._optimizer_state = None  # made by the first fit
        self._optimizer_state_of = None  # the optimizer it belongs to
        self._counters = np.zeros(codes.COUNTERS_SIZE)
        self._counters[codes.PLATEAU_BEST] = np.inf
        self.history = None

    def fit(
        self,
        X,
        y,
        epochs=1,
        metrics=(),
        progress=None,
        *,
        sample_weight=None,
        class_weight=None,
        validation_data=None,
        validation_fraction=None,
        patience=None,
        min_delta=0.0,
        restore_best=True,
        callbacks=(),
        callback_every=1,
        order=None,
    ):
        """Train the network for ``epochs`` passes over ``(X, y)``.

        Parameters
        ----------
        X : array_like or sparse matrix of shape (n_samples, n_inputs)
            Inputs, converted once to the network's dtype (not copied when they already are
            a C-contiguous array of it). A SciPy sparse matrix trains on the matrix path from
            its stored values as CSR, never densified (not copied when it is canonical CSR of
            the network's dtype).
        y : array_like of shape (n_samples, n_outputs), or (n_samples,)
            Targets. 1-D targets are the single output's values or, with loss
            ``"cross_entropy"`` and several outputs, integer class labels in
            ``[0, n_outputs)``, one-hot encoded once.
        epochs : int, default 1
            Passes over the data, run in compiled chunks of many epochs.
        metrics : sequence of str, default ()
            Extra per-epoch metrics to record besides ``"loss"``: ``"sse"`` (summed squared
            error), ``"mse"`` (mean squared error over examples and outputs), ``"mae"`` (mean
            absolute error), ``"accuracy"`` (argmax match, or both sides of 0.5 for one output).
        progress : bool or None, default None
            Draw a progress bar on standard error: None draws one only on a terminal and once
            the fit has run for a second; True always; False never.
        sample_weight : array_like of shape (n_samples,) or (n_members, n_samples), optional
            Non-negative weight of each example: its loss, and so its gradient, is multiplied
            by it. A batch's mean still divides by the number of examples in it (as Keras
            does), and the history's ``loss`` is the weighted mean over all examples; the
            other metrics are unweighted. An ensemble's fit also takes one row per member
            (bootstrap counts make bagging).
        class_weight : dict or "balanced", optional
            Weight of each class (an integer label; the argmax of a one-hot target, or target
            > 0.5 for one output), multiplied into ``sample_weight``. Classes left out weigh 1.
            "balanced" is scikit-learn's ``n_samples / (n_classes * count)``.
        validation_data : tuple (X_val, y_val), optional
            Data scored after every epoch, as ``predict`` sees it (no dropout): the history
            gains ``"val_loss"`` and ``"val_<metric>"`` for each requested metric.
        validation_fraction : float, optional
            Instead of ``validation_data``: hold out this fraction of the examples (at least
            one), drawn with the trainer's seed; training keeps the rest in their order.
        patience : int, optional
            Early stopping: end the fit after this many epochs in a row without an
            improvement of more than ``min_delta`` in the validation loss (the training loss
            without validation data).
        min_delta : float, default 0.0
            The smallest improvement early stopping counts.
        restore_best : bool, default True
            With ``patience``: when the fit ends, however it ends, the network gets the
            parameters of the epoch with the best monitored loss.
        callbacks : sequence of callables, optional
            Each is called as ``callback(epoch, history)`` after every ``callback_every``
            epochs (and after the last), with the number of epochs trained and the History so
            far; a callback that returns True stops the fit. The network's parameters are
            updated when the fit ends.
        callback_every : int, default 1
            Epochs between callbacks. The compiled kernel runs between calls, so a large
            value keeps Python out of the loop.
        order : array_like of int, shape (epochs, n_samples), optional
            The examples of each epoch in the order to visit them, a permutation of the
            training examples per row (after ``validation_fraction`` holds some out), in
            place of ``shuffle``'s order: ``fastbp.sklearn`` passes scikit-learn's shuffles
            so, rather than copy the rows. Every member of an ensemble visits this order.

        Returns
        -------
        History
            One entry per epoch trained for ``"loss"`` and each requested metric (and their
            ``"val_"`` twins). ``history.stopped`` is True when early stopping or a callback
            ended the fit, and ``history.best_epoch`` is the best epoch (from 0) when early
            stopping ran.

        Raises
        ------
        DivergenceError
            When the loss or a parameter becomes non-finite. The network then holds the
            parameters from the end of the last finite epoch; the error carries the history.

        Notes
        -----
        The kernel trains a working copy of the parameters, committed when the fit ends, so a
        fit that fails on its input leaves the network untouched. Ctrl-C stops the fit at the
        end of the current chunk of epochs (a fraction of a second): the network keeps what
        was trained, the history says so (``history.interrupted``) and a
        ``FitInterruptedWarning`` is issued. A network is fitted by one thread at a time.
        """
        fit_options = {
            "sample_weight": sample_weight,
            "class_weight": class_weight,
            "validation_data": validation_data,
            "validation_fraction": validation_fraction,
            "patience": patience,
            "min_delta": min_delta,
            "restore_best": restore_best,
            "callbacks": callbacks,
            "callback_every": callback_every,
            "order": order,
        }
        if not isinstance(self.network, Network):
            return ensemble_fit(self, X, y, epochs, metrics, progress, fit_options)
        plan = plan_fit(self, X, y, epochs, metrics, progress, fit_options)
        outcome, best_epoch = self._run(plan)
        return self._finish(plan, outcome, best_epoch)

    def _run(self, plan):
        """Run ``plan`` in chunks on a working copy of the fit's state; commit it to the
        network and the trainer at the end. Returns the ``Outcome`` and the best epoch of
        early stopping (from 0, or None)."""
        network = self.network
        if not network._fit_lock.acquire(blocking=False):
            raise RuntimeError(
                "this network is already being fitted in another thread; fit a copy "
                "(network.copy()) to train two at once"
            )
        bar = ProgressBar(plan.epochs, plan.progress)
        try:
            state = self._working_state(plan)
            first_epoch = int(state.counters[codes.EPOCH])
            weights = np.empty(0, network.dtype) if plan.weights is None else plan.weights
            data = Data(_sparse.kernel_rows(plan.X), plan.Y, weights)
            validation = Validation(_sparse.kernel_rows(plan.X_val), plan.Y_val)
            scratch = aligned_zeros(plan.scratch_size, network.dtype)
            options = plan.options

            def train_chunk(rows, check_every):
                options[codes.CHECK_EVERY] = check_every
                given = data
                if plan.order is not None:  # the chunk's rows of it: its epochs from ``done``
                    done = int(state.counters[codes.EPOCH]) - first_epoch
                    given = data._replace(order=plan.order[done : done + rows.shape[0]])
                return plan.kernel(
                    state, network.layout, given, validation, plan.settings, options, scratch, rows
                )

            def on_chunk(done, history):
                bar.update(done, history[done - 1, codes.LOSS])
                if not plan.callbacks or (done % plan.callback_every and done < plan.epochs):
                    return False
                so_far = _history(history, plan.names, plan.validating)
                return any([bool(callback(done, so_far)) for callback in plan.callbacks])

            outcome = _chunks.run(
                train_chunk,
                state,
                plan.epochs,
                codes.HISTORY_COLUMNS if plan.validating else codes.METRIC_COLUMNS,
                plan.n_samples,
                on_chunk,
                plan.callback_every if plan.callbacks else max(plan.epochs, 1),
            )
            best_epoch = self._commit(plan, state, first_epoch)
        finally:
            network._fit_lock.release()
            bar.close()
        return outcome, best_epoch

    def _working_state(self, plan):
        """Copies of everything a fit changes, as the kernels take them (``FitState``)."""
        network = self.network
        counters = self._counters.copy()
        if self.schedule.code == codes.PLATEAU and counters[codes.RATE] == 0:
            counters[codes.RATE] = plan.settings[codes.LEARNING_RATE]
        counters[[codes.BEST_LOSS, codes.BEST_EPOCH, codes.WAIT, codes.STOPPED]] = np.inf, -1, 0, 0
        params = aligned_zeros(network.params.size, network.dtype)
        params[:] = network.params
        return FitState(
            params=params,
            rng_state=self._rng_state.copy(),
            optimizer_state=self._optimizer_state_for(self.optimizer).copy(),
            counters=counters,
            statistics=network.statistics.copy(),
            best_params=params.copy(),
            best_statistics=network.statistics.copy(),
        )

    def _commit(self, plan, state, first_epoch):
        """Hand the trained ``state`` to the network and the trainer; early stopping's best
        epoch (from the fit's first, or None), whose parameters are restored if asked."""
        best_epoch = None
        if plan.patience is not None and state.counters[codes.BEST_EPOCH] >= 0:
            best_epoch = int(state.counters[codes.BEST_EPOCH]) - first_epoch
            if plan.restore_best:
                state.params[:] = state.best_params
                state.statistics[:] = state.best_statistics
        self.network.params[:] = state.params
        self.network.statistics[:] = state.statistics
        self._rng_state[:] = state.rng_state
        self._optimizer_state[:] = state.optimizer_state
        self._counters[:] = state.counters
        return best_epoch

    def _finish(self, plan, outcome, best_epoch):
        """Record the fit in the network's metadata, keep its history, and raise or warn
        when it diverged, ended looking wrong (``FitWarning``) or was interrupted."""
        self.network.metadata["fits"].append(self._record(outcome))
        found = []
        if outcome.divergence is None and self._checks_result:
            losses = outcome.history[:, codes.LOSS]
            restored = best_epoch is not None and plan.restore_best
            visits = plan.n_samples * outcome.epochs
            found = fit_warnings(self.network, plan.X, losses, restored, visits)
        self.history = _history(
            outcome.history, plan.names, plan.validating, outcome, best_epoch, found
        )
        if outcome.divergence is not None:
            raise DivergenceError(*outcome.divergence, history=self.history)
        for sentence in found:
            warnings.warn(sentence, FitWarning, stacklevel=3)
        if outcome.interrupted:
            warnings.warn(
                f"fit interrupted after {outcome.epochs} of {plan.epochs} epochs; the network "
                "keeps the parameters trained so far and the history covers those epochs",
                FitInterruptedWarning,
                stacklevel=3,
            )
        return self.history

    def _optimizer_state_for(self, optimizer):
        """The optimizer's two state vectors, made afresh when the optimizer changed."""
        network = self.network
        if self._optimizer_state is None or self._optimizer_state_of != optimizer:
            self._optimizer_state = aligned_zeros(2 * network.params.size, network.dtype)
            if isinstance(optimizer, RPROP):
                self._optimizer_state[network.params.size :] = optimizer.step_initial
            self._optimizer_state_of = optimizer
            self._counters[codes.STEP_COUNT] = 0
        return self._optimizer_state

    def _record(self, outcome):
        """What ``network.metadata["fits"]`` keeps of a fit: settings, epochs, final loss."""
        record = _settings.record(self)
        record["epochs"] = outcome.epochs
        trained = outcome.history
        record["final_loss"] = float(trained[-1, codes.LOSS]) if outcome.epochs else None
        if outcome.interrupted:
            record["interrupted"] = True
        if outcome.divergence is not None:
            record["diverged_in_epoch"] = outcome.divergence[0]
        if outcome.stopped:
            record["stopped"] = True
        return record

    def __repr__(self):
        return f"Trainer({_settings.describe(self)})"


def _history(table, names, validating, outcome=None, best_epoch=None, found=()):
    """The ``History`` of the metrics ``names`` from the rows of a history table."""
    metrics = {name: table[:, METRICS[name]] for name in names}
    if validating:
        for name in names:
            metrics["val_" + name] = table[:, codes.VALIDATION + METRICS[name]]
    if outcome is None:
        return History(metrics)
    return History(
        metrics,
        interrupted=outcome.interrupted,
        stopped=outcome.stopped,
        best_epoch=best_epoch,
        warnings=found,
    )
