"""``Trainer``: validates once, picks a kernel, runs the whole fit in one call, records it."""

import warnings

import numpy as np

from fastbp import _checks, _chunks, _kernels, optimizers, schedules
from fastbp._memory import aligned_zeros
from fastbp._names import LOSSES, METRICS, REDUCTIONS, choose
from fastbp.errors import DivergenceError, FitInterruptedWarning
from fastbp.history import History
from fastbp.kernels import codes
from fastbp.kernels.unrolled import MAX_WEIGHTS as MAX_UNROLLED_WEIGHTS
from fastbp.kernels.unrolled import supports as unrolled_supports
from fastbp.network import Network
from fastbp.progress import ProgressBar
from fastbp.weighting import sample_weights, validation_split

_CROSS_ENTROPY_OUTPUTS = ("sigmoid", "softmax")


class Trainer:
    """Trains a ``Network`` by backpropagation with (mini-)batch gradient descent.

    Parameters
    ----------
    network : Network
        The network to train; its parameters are updated in place when a fit succeeds.
    learning_rate : float, default 0.01
        Step size: every update is ``params -= learning_rate * gradient``. (The tutorials call
        it ``alpha``.)
    batch_size : int or None, default 32
        ``1`` is per-example SGD (an update after every example), ``None`` is full batch, ``k``
        is mini-batches of ``k`` examples; the last batch of an epoch may be shorter.
    reduction : {"mean", "sum"}, default "mean"
        Whether a batch's gradient is the mean or the sum of its examples' gradients. A short
        last batch is divided by its actual size. The tutorials' full-batch updates are "sum".
    loss : {"squared_error", "cross_entropy"}, default "squared_error"
        ``0.5 * sum((o - t)**2)`` per example, or cross entropy, which needs a softmax output
        (or sigmoid outputs for binary targets) and targets in [0, 1]; its output delta is
        ``o - t``.
    shuffle : bool, default True
        Visit the examples of each epoch in a fresh random order drawn from ``seed``;
        otherwise in the order given.
    seed : int, optional
        Seed of the shuffling. Successive fits continue the same random stream, so two fits of
        10 epochs give the same result as one of 20. ``None`` draws fresh entropy.
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
        batch_size=k)`` decays as ``l2 = a / k`` with reduction "mean" here.
    l2_biases : bool, default False
        Whether the L2 penalty covers the biases.
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
        compiled for the network's exact shape (networks of at most 64 weights, no softmax)
        and runs plain SGD, momentum and L2; ``"matrix"`` calls BLAS once per layer and
        batch and runs every feature; ``"generic"`` runs plain SGD on any network. ``"auto"``
        picks the fastest that applies: unrolled on fits of 100,000 example visits or more
        (on shorter ones its compile time does not pay), else matrix for batches of 8 or
        more on a network with a layer of 4096 weights or more or for any fit with a feature
        the generic kernel lacks, else generic. Each kernel compiles on first use (seconds)
        and is cached on disk after.

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
        dropout=0.0,
        clip_value=None,
        clip_norm=None,
        norm_momentum=0.1,
        kernel="auto",
    ):
        self.network = network
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.reduction = reduction
        self.loss = loss
        self.shuffle = shuffle
        self.optimizer = optimizer
        self.schedule = schedule
        self.l2 = l2
        self.l2_biases = l2_biases
        self.dropout = dropout
        self.clip_value = clip_value
        self.clip_norm = clip_norm
        self.norm_momentum = norm_momentum
        self.kernel = kernel
        self._check_settings()
        self.seed = _checks.check_seed(seed, "seed", upper=2**64)
        initial_state = self.seed
        if initial_state is None:
            initial_state = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self._rng_state = np.array([initial_state], dtype=np.uint64)
        self._moments = None  # the optimizer's state, made by the first fit
        self._moments_of = None  # the optimizer it belongs to
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
    ):
        """Train the network for ``epochs`` passes over ``(X, y)``.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_inputs)
            Inputs, converted once to the network's dtype (not copied when they already are
            a C-contiguous array of it).
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
        sample_weight : array_like of shape (n_samples,), optional
            Non-negative weight of each example: its loss, and so its gradient, is multiplied
            by it. A batch's mean still divides by the number of examples in it (as Keras
            does), and the history's ``loss`` is the weighted mean over all examples; the
            other metrics are unweighted.
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
        self._check_settings()  # the settings are public attributes: check them again
        network = self.network
        X = network.inputs(X)
        Y = self._targets(y, X.shape[0])
        epochs = _checks.check_count(epochs, "epochs", minimum=0)
        names = _check_metrics(metrics)
        if progress is not None:
            progress = _checks.check_flag(progress, "progress")
        weights = sample_weights(sample_weight, class_weight, Y, network.dtype)
        X, Y, weights, X_val, Y_val = self._validation(
            X, Y, weights, validation_data, validation_fraction
        )
        validating = X_val.shape[0] > 0
        if patience is not None:
            patience = _checks.check_count(patience, "patience", minimum=1)
        min_delta = _checks.check_real(min_delta, "min_delta", 0)
        restore_best = _checks.check_flag(restore_best, "restore_best")
        callbacks, callback_every = _check_callbacks(callbacks, callback_every)

        n_samples = X.shape[0]
        batch_size = n_samples if self.batch_size is None else min(self.batch_size, n_samples)
        if any(network.batch_norm) and (batch_size < 2 or n_samples % batch_size == 1):
            raise ValueError(
                "batch normalization needs batches of 2 or more examples; with batch_size="
                f"{self.batch_size} on {n_samples} samples, "
                + (
                    "every batch holds 1"
                    if batch_size < 2
                    else "the last batch of each epoch holds 1 (choose a batch_size that does "
                    "not leave one example over)"
                )
            )
        if isinstance(self.optimizer, optimizers.RPROP) and batch_size != n_samples:
            raise ValueError(
                "optimizer RPROP trains on the full batch: use batch_size=None (this fit's "
                f"batches hold {batch_size} of {n_samples} examples)"
            )
        settings, options = self._settings(n_samples, batch_size, network.dtype)
        options[codes.PATIENCE] = patience or 0
        settings[codes.MIN_DELTA] = min_delta
        fit_features = {
            "sample_weight": weights is not None,
            "validation": validating,
            "patience": patience is not None,
            "batch_norm": any(network.batch_norm),
        }
        features = self._features([name for name, used in fit_features.items() if used])
        needs = _kernels.needs(features)
        kernel_name = self.kernel
        if kernel_name == "auto":
            kernel_name = _kernels.choose(network, batch_size, n_samples * epochs, needs)
        elif needs not in _kernels.RUNS[kernel_name]:
            raise ValueError(
                f"kernel {kernel_name!r} does not run this fit's features "
                f"({', '.join(features)}); use kernel='auto' or 'matrix'"
            )
        update = None
        if kernel_name == "unrolled" and needs != _kernels.PLAIN:
            update = (self.optimizer.code, self.l2 != 0, self.l2_biases)
        kernel, scratch_size = _kernels.kernel_and_scratch(kernel_name, network, batch_size, update)
        moments = self._optimizer_state()
        counters = self._counters
        if self.schedule.code == codes.PLATEAU and counters[codes.RATE] == 0:
            counters[codes.RATE] = settings[codes.LEARNING_RATE]
        counters[[codes.BEST_LOSS, codes.BEST_EPOCH, codes.WAIT, codes.STOPPED]] = np.inf, -1, 0, 0
        first_epoch = int(counters[codes.EPOCH])

        if not network._fit_lock.acquire(blocking=False):
            raise RuntimeError(
                "this network is already being fitted in another thread; fit a copy "
                "(network.copy()) to train two at once"
            )
        bar = ProgressBar(epochs, progress)
        try:
            params = aligned_zeros(network.params.size, network.dtype)
            params[:] = network.params
            best_params = params.copy()
            statistics = network.statistics.copy()
            best_statistics = statistics.copy()
            working = [
                params,
                self._rng_state.copy(),
                moments.copy(),
                counters.copy(),
                statistics,
            ]
            # The validation columns only when there is validation data: on a 4-example data
            # set the table is most of a fit's memory traffic.
            columns = codes.HISTORY_COLUMNS if validating else codes.VALIDATION
            table = np.zeros((epochs, columns))
            scratch = aligned_zeros(scratch_size, network.dtype)
            data = (X, Y, np.empty(0, network.dtype) if weights is None else weights)
            validation = (X_val, Y_val)
            state = (working[2], working[3], best_params, statistics, best_statistics)

            def train_chunk(rows, check_every):
                options[codes.CHECK_EVERY] = check_every
                return kernel(
                    params,
                    network.layout,
                    data,
                    validation,
                    settings,
                    options,
                    scratch,
                    state,
                    working[1],
                    rows,
                )

            def on_chunk(done):
                bar.update(done, table[done - 1, codes.LOSS])
                if not callbacks or (done % callback_every and done < epochs):
                    return False
                so_far = self._history(table[:done], names, validating)
                return any([bool(callback(done, so_far)) for callback in callbacks])

            outcome = _chunks.run(
                train_chunk,
                working,
                table,
                n_samples,
                on_chunk,
                callback_every if callbacks else max(epochs, 1),
                early_stopped=lambda: working[3][codes.STOPPED] != 0,
            )
            if kernel_name != "matrix":
                # Only the matrix kernel counts; the others run no feature that reads a count.
                working[3][codes.EPOCH] += outcome.epochs
                working[3][codes.STEP_COUNT] += outcome.epochs * -(-n_samples // batch_size)
            best_epoch = None
            if patience is not None and working[3][codes.BEST_EPOCH] >= 0:
                best_epoch = int(working[3][codes.BEST_EPOCH]) - first_epoch
                if restore_best:
                    params[:] = best_params
                    statistics[:] = best_statistics
            network.params[:] = params
            network.statistics[:] = statistics
            self._rng_state[:] = working[1]
            moments[:] = working[2]
            counters[:] = working[3]
        finally:
            network._fit_lock.release()
            bar.close()

        trained = table[: outcome.epochs]
        network.metadata["fits"].append(self._record(outcome, trained))
        self.history = self._history(trained, names, validating, outcome, best_epoch)
        if outcome.divergence is not None:
            raise DivergenceError(*outcome.divergence, history=self.history)
        if outcome.interrupted:
            warnings.warn(
                f"fit interrupted after {outcome.epochs} of {epochs} epochs; the network keeps "
                "the parameters trained so far and the history covers those epochs",
                FitInterruptedWarning,
                stacklevel=2,
            )
        return self.history

    @staticmethod
    def _history(table, names, validating, outcome=None, best_epoch=None):
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
        )

    def _validation(self, X, Y, weights, validation_data, validation_fraction):
        """The training data and the validation data (empty arrays for none)."""
        network = self.network
        if validation_data is not None and validation_fraction is not None:
            raise ValueError("give validation_data or validation_fraction, not both")
        if validation_fraction is not None:
            return validation_split(X, Y, weights, validation_fraction, self.seed)
        if validation_data is None:
            empty = np.empty((0, network.n_inputs), network.dtype)
            return X, Y, weights, empty, np.empty((0, network.n_outputs), network.dtype)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val = network.inputs(validation_data[0], "validation_data[0]")
        Y_val = self._targets(validation_data[1], X_val.shape[0], "validation_data[1]")
        return X, Y, weights, X_val, Y_val

    def _optimizer_state(self):
        """The optimizer's two state vectors, made afresh when the optimizer changed."""
        network = self.network
        if self._moments is None or self._moments_of != self.optimizer:
            self._moments = aligned_zeros(2 * network.params.size, network.dtype)
            if isinstance(self.optimizer, optimizers.RPROP):
                self._moments[network.params.size :] = self.optimizer.step_initial
            self._moments_of = self.optimizer
            self._counters[codes.STEP_COUNT] = 0
        return self._moments

    def _features(self, fit_features):
        """The training features of a fit beyond plain SGD: each name, and whether it is one
        of those the unrolled kernel runs too (momentum, Nesterov, L2); ``fit_features``
        names those ``fit`` was given."""
        optimizer = self.optimizer
        features = dict.fromkeys(fit_features, False)
        if optimizer != optimizers.SGD():
            features[f"optimizer {optimizer}"] = isinstance(optimizer, optimizers.SGD)
        if self.schedule != schedules.Constant():
            features[f"schedule {self.schedule}"] = False
        if self.l2:
            features["l2"] = True
        for name in ("dropout", "clip_value", "clip_norm"):
            if getattr(self, name):
                features[name] = False
        return features

    def _record(self, outcome, trained):
        """What ``network.metadata["fits"]`` keeps of a fit: settings, epochs, final loss."""
        record = {
            name: getattr(self, name)
            for name in (
                "learning_rate",
                "batch_size",
                "reduction",
                "loss",
                "shuffle",
                "seed",
                "l2",
                "l2_biases",
                "dropout",
                "clip_value",
                "clip_norm",
                "norm_momentum",
            )
        }
        record["optimizer"] = repr(self.optimizer)
        record["schedule"] = repr(self.schedule)
        record["epochs"] = outcome.epochs
        record["final_loss"] = float(trained[-1, codes.LOSS]) if outcome.epochs else None
        if outcome.interrupted:
            record["interrupted"] = True
        if outcome.divergence is not None:
            record["diverged_in_epoch"] = outcome.divergence[0]
        if outcome.stopped:
            record["stopped"] = True
        return record

    def _targets(self, y, n_samples, name="y"):
        """``y`` checked against the network and loss; class labels one-hot encoded."""
        network = self.network
        n_outputs = network.n_outputs
        labels = self.loss == "cross_entropy"
        Y = _checks.as_targets(y, name, network.dtype, n_outputs, labels=labels)
        if Y.shape[0] != n_samples:
            inputs = "X" if name == "y" else "validation_data[0]"
            raise ValueError(
                f"{inputs} and {name} must hold the same number of samples; got {n_samples} "
                f"and {Y.shape[0]}"
            )
        if self.loss == "cross_entropy" and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                f"{name} must lie in [0, 1] for loss 'cross_entropy' (one-hot or probabilities), "
                f"or be integer class labels in [0, {n_outputs}); got values from {Y.min()} to "
                f"{Y.max()}"
            )
        return Y

    def _check_settings(self):
        """Validate (and normalize) the public settings; raise before any kernel runs."""
        network = self.network
        if not isinstance(network, Network):
            raise TypeError(f"network must be a fastbp.Network; got {type(network).__name__}")
        self.learning_rate = _checks.check_positive_finite(self.learning_rate, "learning_rate")
        if self.batch_size is not None:
            self.batch_size = _checks.check_count(self.batch_size, "batch_size", minimum=1)
        self.reduction = choose(self.reduction, REDUCTIONS, "reduction")
        self.loss = choose(self.loss, LOSSES, "loss")
        if self.loss == "cross_entropy" and network.activations[-1] not in _CROSS_ENTROPY_OUTPUTS:
            raise ValueError(
                "loss 'cross_entropy' needs a 'softmax' or 'sigmoid' output layer; the network's "
                f"output activation is {network.activations[-1]!r}"
            )
        self.shuffle = _checks.check_flag(self.shuffle, "shuffle")
        self.optimizer = optimizers.resolve(self.optimizer)
        self.schedule = schedules.resolve(self.schedule)
        self.l2 = _checks.check_real(self.l2, "l2", 0)
        self.l2_biases = _checks.check_flag(self.l2_biases, "l2_biases")
        self.dropout = _checks.check_real(self.dropout, "dropout", 0, 1)
        self.norm_momentum = _checks.check_real(
            self.norm_momentum, "norm_momentum", 0, 1, include_high=True
        )
        for name in ("clip_value", "clip_norm"):
            if getattr(self, name) is not None:
                setattr(self, name, _checks.check_positive_finite(getattr(self, name), name))
        self.kernel = choose(self.kernel, _kernels.CHOICES, "kernel")
        if self.kernel == "unrolled" and not unrolled_supports(network.layout):
            raise ValueError(
                "kernel 'unrolled' is for networks of at most "
                f"{MAX_UNROLLED_WEIGHTS} weights without softmax; use 'auto' or 'generic'"
            )

    def _settings(self, n_samples, batch_size, dtype):
        """The kernels' settings (``dtype``) and options (int64) vectors for this fit."""
        settings = np.zeros(codes.SETTINGS_SIZE, dtype=dtype)
        options = np.zeros(codes.OPTIONS_SIZE, dtype=np.int64)
        settings[codes.LEARNING_RATE] = self.learning_rate
        if self.reduction == "mean":
            settings[codes.BATCH_DIVISOR] = batch_size
            settings[codes.LAST_BATCH_DIVISOR] = n_samples % batch_size or batch_size
        else:
            settings[codes.BATCH_DIVISOR] = settings[codes.LAST_BATCH_DIVISOR] = 1
        settings[codes.LOG_CLIP] = np.finfo(dtype).eps
        settings[codes.L2] = self.l2
        settings[codes.CLIP_VALUE] = self.clip_value or 0
        settings[codes.CLIP_NORM] = self.clip_norm or 0
        settings[codes.DROPOUT] = self.dropout
        settings[codes.DROPOUT_SCALE] = 1 / (1 - self.dropout)
        settings[codes.NORM_MOMENTUM] = self.norm_momentum
        settings[codes.NORM_EPSILON] = self.network.norm_epsilon
        self.optimizer.fill(settings)
        self.schedule.fill(settings, options)
        options[codes.LOSS_CODE] = LOSSES[self.loss]
        options[codes.BATCH_SIZE] = batch_size
        options[codes.SHUFFLE] = self.shuffle
        options[codes.OPTIMIZER] = self.optimizer.code
        options[codes.L2_BIASES] = self.l2_biases
        options[codes.SCHEDULE] = self.schedule.code
        return settings, options

    def __repr__(self):
        return (
            f"Trainer(learning_rate={self.learning_rate}, batch_size={self.batch_size}, "
            f"reduction={self.reduction!r}, loss={self.loss!r}, shuffle={self.shuffle}, "
            f"seed={self.seed}, optimizer={self.optimizer}, schedule={self.schedule}, "
            f"l2={self.l2}, l2_biases={self.l2_biases}, dropout={self.dropout}, "
            f"clip_value={self.clip_value}, clip_norm={self.clip_norm}, "
            f"norm_momentum={self.norm_momentum}, kernel={self.kernel!r})"
        )


def _check_callbacks(callbacks, every):
    if callable(callbacks):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"callbacks must be callables; got {callback!r}")
    return callbacks, _checks.check_count(every, "callback_every", minimum=1)


def _check_metrics(metrics):
    if isinstance(metrics, str):
        metrics = [metrics]
    names = ["loss"]
    for name in metrics:
        choose(name, METRICS, "metrics")
        if name not in names:
            names.append(name)
    return names
