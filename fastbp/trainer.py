"""``Trainer``: validates once, picks a kernel, runs the whole fit in one call, records it."""

import warnings

import numpy as np

from fastbp import _checks, _chunks, _kernels
from fastbp._memory import aligned_zeros
from fastbp._names import LOSSES, METRICS, REDUCTIONS, choose
from fastbp.errors import DivergenceError, FitInterruptedWarning
from fastbp.history import History
from fastbp.kernels import codes
from fastbp.kernels.unrolled import MAX_WEIGHTS as MAX_UNROLLED_WEIGHTS
from fastbp.kernels.unrolled import supports as unrolled_supports
from fastbp.network import Network
from fastbp.progress import ProgressBar

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
    kernel : {"auto", "unrolled", "matrix", "generic"}, default "auto"
        Which compiled kernel runs the fit; all give the same results. ``"unrolled"`` is
        compiled for the network's exact shape (networks of at most 64 weights, no softmax);
        ``"matrix"`` calls BLAS once per layer and batch (batches of 2 or more); ``"generic"``
        runs any network. ``"auto"`` picks the fastest that applies: unrolled on fits of
        100,000 example visits or more (on shorter ones its compile time does not pay), else
        matrix for batches of 8 or more on a network with a layer of 4096 weights or more,
        else generic. Each kernel compiles on first use (seconds) and is cached on disk after.

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
        kernel="auto",
    ):
        self.network = network
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.reduction = reduction
        self.loss = loss
        self.shuffle = shuffle
        self.kernel = kernel
        self._check_settings()
        self.seed = _checks.check_seed(seed, "seed", upper=2**64)
        initial_state = self.seed
        if initial_state is None:
            initial_state = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self._rng_state = np.array([initial_state], dtype=np.uint64)
        self.history = None

    def fit(self, X, y, epochs=1, metrics=(), progress=None):
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

        Returns
        -------
        History
            One entry per epoch trained for ``"loss"`` and each requested metric.

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

        n_samples = X.shape[0]
        batch_size = n_samples if self.batch_size is None else min(self.batch_size, n_samples)
        settings = self._settings(n_samples, batch_size, network.dtype)
        options = np.zeros(codes.OPTIONS_SIZE, dtype=np.int64)
        options[codes.LOSS_CODE] = LOSSES[self.loss]
        options[codes.BATCH_SIZE] = batch_size
        options[codes.SHUFFLE] = self.shuffle
        kernel_name = self.kernel
        if kernel_name == "auto":
            kernel_name = _kernels.choose(network, batch_size, n_samples * epochs)
        elif kernel_name == "matrix" and batch_size < 2:
            raise ValueError(
                f"kernel 'matrix' needs batches of 2 or more; this fit's batches hold {batch_size}"
            )
        kernel, scratch_size = _kernels.kernel_and_scratch(kernel_name, network, batch_size)

        if not network._fit_lock.acquire(blocking=False):
            raise RuntimeError(
                "this network is already being fitted in another thread; fit a copy "
                "(network.copy()) to train two at once"
            )
        bar = ProgressBar(epochs, progress)
        try:
            params = aligned_zeros(network.params.size, network.dtype)
            params[:] = network.params
            rng_state = self._rng_state.copy()
            table = np.zeros((epochs, codes.HISTORY_COLUMNS))
            scratch = aligned_zeros(scratch_size, network.dtype)
            layout = network.layout

            def train_chunk(rows, check_every):
                options[codes.CHECK_EVERY] = check_every
                return kernel(params, layout, X, Y, settings, options, scratch, rng_state, rows)

            def on_chunk(done):
                bar.update(done, table[done - 1, codes.LOSS])

            outcome = _chunks.run(train_chunk, params, rng_state, table, n_samples, on_chunk)
            network.params[:] = params
            self._rng_state[:] = rng_state
        finally:
            network._fit_lock.release()
            bar.close()

        trained = table[: outcome.epochs]
        network.metadata["fits"].append(self._record(outcome, trained))
        self.history = History(
            {name: trained[:, METRICS[name]] for name in names}, interrupted=outcome.interrupted
        )
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

    def _record(self, outcome, trained):
        """What ``network.metadata["fits"]`` keeps of a fit: settings, epochs, final loss."""
        record = {
            name: getattr(self, name)
            for name in ("learning_rate", "batch_size", "reduction", "loss", "shuffle", "seed")
        }
        record["epochs"] = outcome.epochs
        record["final_loss"] = float(trained[-1, codes.LOSS]) if outcome.epochs else None
        if outcome.interrupted:
            record["interrupted"] = True
        if outcome.divergence is not None:
            record["diverged_in_epoch"] = outcome.divergence[0]
        return record

    def _targets(self, y, n_samples):
        """``y`` checked against the network and loss; class labels one-hot encoded."""
        network = self.network
        n_outputs = network.n_outputs
        labels = self.loss == "cross_entropy"
        Y = _checks.as_targets(y, "y", network.dtype, n_outputs, labels=labels)
        if Y.shape[0] != n_samples:
            raise ValueError(
                f"X and y must hold the same number of samples; got {n_samples} and {Y.shape[0]}"
            )
        if self.loss == "cross_entropy" and (Y.min() < 0 or Y.max() > 1):
            raise ValueError(
                "y must lie in [0, 1] for loss 'cross_entropy' (one-hot or probabilities), or "
                f"be integer class labels in [0, {n_outputs}); got values from {Y.min()} to "
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
        self.kernel = choose(self.kernel, _kernels.CHOICES, "kernel")
        if self.kernel == "unrolled" and not unrolled_supports(network.layout):
            raise ValueError(
                "kernel 'unrolled' is for networks of at most "
                f"{MAX_UNROLLED_WEIGHTS} weights without softmax; use 'auto' or 'generic'"
            )

    def _settings(self, n_samples, batch_size, dtype):
        settings = np.zeros(codes.SETTINGS_SIZE, dtype=dtype)
        settings[codes.LEARNING_RATE] = self.learning_rate
        if self.reduction == "mean":
            settings[codes.BATCH_DIVISOR] = batch_size
            settings[codes.LAST_BATCH_DIVISOR] = n_samples % batch_size or batch_size
        else:
            settings[codes.BATCH_DIVISOR] = settings[codes.LAST_BATCH_DIVISOR] = 1
        settings[codes.LOG_CLIP] = np.finfo(dtype).eps
        return settings

    def __repr__(self):
        return (
            f"Trainer(learning_rate={self.learning_rate}, batch_size={self.batch_size}, "
            f"reduction={self.reduction!r}, loss={self.loss!r}, shuffle={self.shuffle}, "
            f"seed={self.seed}, kernel={self.kernel!r})"
        )


def _check_metrics(metrics):
    if isinstance(metrics, str):
        metrics = [metrics]
    names = ["loss"]
    for name in metrics:
        choose(name, METRICS, "metrics")
        if name not in names:
            names.append(name)
    return names
