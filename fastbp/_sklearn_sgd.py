"""scikit-learn's stochastic solvers ("sgd" and "adam") on a fastbp ``Trainer``.

scikit-learn's ``_fit_stochastic`` does its bookkeeping between epochs: the order of the
examples (``sklearn.utils.shuffle`` from the estimator's random state), the learning rate
("invscaling" counts the samples seen, "adaptive" divides it by 5 when the loss stalls), the
stopping rule on ``tol`` and ``n_iter_no_change``, and early stopping's validation score. Here
that bookkeeping is the same Python as scikit-learn's, in the same order, drawing the same
random numbers, and each epoch is one call of fastbp's matrix kernel, given the epoch's order
of the examples rather than a copy of the rows in it (``fastbp._stepwise``; dense or CSR
rows alike). The batches run in that kernel: forward
pass, gradient, L2 term added to the summed gradient and divided with it by the batch's
summed sample weight, the optimizer's step, and each batch's loss with its L2 penalty.

Imported by ``fastbp.sklearn`` only, after it has checked that scikit-learn is installed.
"""

import contextlib
import dataclasses
import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from fastbp import _chunks, _sparse
from fastbp._stepwise import Stepwise
from fastbp.errors import DivergenceError
from fastbp.optimizers import SGD, Adam
from fastbp.trainer import Trainer

NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


@dataclasses.dataclass
class Run:
    """A fit in progress: the network it trains (a copy, committed when the fit succeeds),
    its solver, and what the estimator reports of its epochs (scikit-learn's attributes)."""

    network: object
    solver: object  # Solver, or None before the stochastic fit makes one
    n_iter: int
    t: int
    loss: float | None
    loss_curve: list
    best_loss: float | None
    validation_scores: list | None
    best_validation_score: float | None
    no_improvement_count: int
    best_params: np.ndarray  # early stopping's best epoch, as network.params


class Solver:
    """scikit-learn's ``SGDOptimizer`` or ``AdamOptimizer``: a ``Trainer``, which keeps the
    optimizer's state (velocities, moments, step count), and the learning rate.

    A ``fit`` makes a new one, as scikit-learn makes a new optimizer; ``partial_fit`` keeps
    the last one.
    """

    def __init__(self, estimator, network, regression, seed):
        if estimator.solver == "adam":
            optimizer = Adam(estimator.beta_1, estimator.beta_2, estimator.epsilon)
            self.schedule = "constant"  # Adam corrects its own step; the rate stays put
        else:
            momentum = float(estimator.momentum)
            nesterov = bool(estimator.nesterovs_momentum) and momentum > 0
            optimizer = SGD(momentum, nesterov)
            self.schedule = estimator.learning_rate
        self.learning_rate_init = float(estimator.learning_rate_init)
        self.learning_rate = self.learning_rate_init
        self.power_t = estimator.power_t
        self.trainer = Trainer(
            network,
            learning_rate=self.learning_rate,
            batch_size=1,  # set per fit
            reduction="weighted_mean",
            loss=_loss(estimator, regression),
            shuffle=False,  # the order comes from scikit-learn's random state
            seed=seed,  # of the dropout masks, if any: the order is given
            optimizer=optimizer,
            l2_divided=True,
            l2_in_loss=True,
            loss_output_mean=regression and _loss(estimator, regression) == "squared_error",
            dropout=estimator.dropout,
            clip_value=estimator.clip_value,
            clip_norm=estimator.clip_norm,
            threads=estimator.threads,
        )
        self.trainer._checks_result = False

    def moved_to(self, network):
        """A copy of this solver, its state included, training ``network``."""
        trainer = self.trainer
        copy = object.__new__(Solver)
        copy.__dict__.update(self.__dict__)
        copy.trainer = Trainer(network, **{name: getattr(trainer, name) for name in _SETTINGS})
        copy.trainer._checks_result = False
        for name in ("_rng_state", "_counters"):
            setattr(copy.trainer, name, getattr(trainer, name).copy())
        if trainer._optimizer_state is not None:
            copy.trainer._optimizer_state = trainer._optimizer_state.copy()
            copy.trainer._optimizer_state_of = trainer._optimizer_state_of
        return copy

    @contextlib.contextmanager
    def epochs(self, X, Y, sample_weight, batch_size, alpha):
        """The fit's epochs on ``(X, Y)``: yields ``train(order)``, which trains one epoch
        over the rows in ``order`` (None: as they are) and returns its loss, as
        scikit-learn's ``loss_curve_`` reports it (the L2 penalty of each batch included),
        and whether Ctrl-C interrupted it.

        ``X`` (dense, or CSR) is planned once and trained an epoch per kernel call, the rows
        visited in the given order (``fastbp._stepwise``).
        """
        trainer = self.trainer
        trainer.batch_size = batch_size
        trainer.l2 = alpha  # read when each batch runs, as scikit-learn reads self.alpha
        trainer.learning_rate = self.learning_rate
        with Stepwise(trainer, X, Y, sample_weight) as stepwise:
            every_row = np.arange(X.shape[0])

            def train(order):
                trainer.learning_rate = self.learning_rate
                given = every_row if order is None else order
                return stepwise.epoch(given, self.learning_rate), False

            yield train

    def iteration_ends(self, time_step):
        """scikit-learn's: "invscaling" sets the next epoch's rate from the samples seen."""
        if self.schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

    def trigger_stopping(self, message, verbose):
        """scikit-learn's: whether to stop when the loss (or score) has stalled; "adaptive"
        divides the learning rate by 5 instead, until it is at most 1e-6."""
        if self.schedule != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(message + f" Setting learning rate to {self.learning_rate:f}")
        return False


def _loss(estimator, regression):
    """fastbp's name of the estimator's loss: scikit-learn's regressors average their squared
    error over the outputs (``loss_output_mean``) and sum their Poisson deviance."""
    if not regression:
        return "cross_entropy"
    return "poisson" if estimator.loss == "poisson" else "squared_error"


# The Trainer settings a moved solver keeps (all of them but the network).
_SETTINGS = (
    "learning_rate",
    "batch_size",
    "reduction",
    "loss",
    "shuffle",
    "seed",
    "optimizer",
    "l2",
    "l2_divided",
    "l2_in_loss",
    "loss_output_mean",
    "dropout",
    "clip_value",
    "clip_norm",
    "threads",
)


def fit_stochastic(estimator, run, X, Y, sample_weight, random_state, incremental):
    """scikit-learn's ``_fit_stochastic`` for ``estimator``: train ``run.network`` on ``X``
    and the encoded targets ``Y`` (2-D, in the network's dtype) and update ``run``."""
    regression = not is_classifier(estimator)
    if not incremental or run.solver is None:
        # Dropout's masks come from a seed drawn from the random state (only with dropout:
        # it moves the random state on, so the shuffles and split are no longer scikit-learn's).
        seed = int(random_state.randint(2**31 - 1)) if estimator.dropout > 0 else 0
        run.solver = Solver(estimator, run.network, regression, seed)
    if estimator.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    split = _split(estimator, X, Y, sample_weight, random_state)
    batch_size = _batch_size(estimator.batch_size, split[0].shape[0])
    records = len(run.network.metadata["fits"])
    try:
        _epochs(estimator, run, split, batch_size, random_state, incremental)
    except KeyboardInterrupt:
        # scikit-learn's: Ctrl-C between two epochs keeps what was trained.
        warnings.warn("Training interrupted by user.", stacklevel=4)
    _merge_records(run.network, records, run.n_iter)
    if estimator.early_stopping:
        run.network.params[:] = run.best_params


def _epochs(estimator, run, split, batch_size, random_state, incremental):
    """scikit-learn's loop over the epochs, each trained by ``run.solver``; Ctrl-C is
    answered between two epochs, after the bookkeeping of the one it came in."""
    X_train, Y_train, weights_train, validation = split
    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=int)
    run.n_iter = 0
    epochs = run.solver.epochs(X_train, Y_train, weights_train, batch_size, float(estimator.alpha))
    diverged = False
    with _chunks._deferred_interrupt() as interrupt, epochs as train:
        for _ in range(estimator.max_iter):
            if estimator.shuffle:
                sample_idx = _shuffle(sample_idx, random_state)
            if diverged:  # scikit-learn's goes on with non-finite weights: its loss is NaN
                loss, interrupted = np.nan, False
            else:
                try:
                    loss, interrupted = train(sample_idx if estimator.shuffle else None)
                except DivergenceError as error:
                    if not estimator.early_stopping:
                        raise ValueError(NON_FINITE) from error
                    # scikit-learn's scores it NaN, and ends with the best epoch's weights.
                    diverged = True
                    loss, interrupted = (error.value if error.metric == "loss" else np.nan), False
            if interrupt.is_set():
                interrupt.clear()
                interrupted = True
            if _end_epoch(
                estimator, run, validation, loss, interrupted, n_samples, incremental, diverged
            ):
                break


def _end_epoch(estimator, run, validation, loss, interrupted, n_samples, incremental, diverged):
    """scikit-learn's bookkeeping after an epoch: whether the fit ends here. ``diverged``:
    the weights became non-finite (with early stopping, which scores them NaN)."""
    run.loss = loss
    run.n_iter += 1
    run.t += n_samples
    run.loss_curve.append(run.loss)
    if estimator.verbose:
        print(f"Iteration {run.n_iter:d}, loss = {run.loss:.8f}")
    _update_no_improvement_count(estimator, run, validation, diverged)
    run.solver.iteration_ends(run.t)
    if interrupted:
        raise KeyboardInterrupt  # after the epoch's bookkeeping, as between two epochs
    if run.no_improvement_count > estimator.n_iter_no_change:
        if run.solver.trigger_stopping(_stall_message(estimator), estimator.verbose):
            return True
        run.no_improvement_count = 0
    if incremental:
        return True
    if run.n_iter == estimator.max_iter:
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({estimator.max_iter:d}) reached and "
            "the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=6,
        )
    return False


def _shuffle(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=random_state)``: the same draws (its
    ``resample`` shuffles an ``arange`` in place and indexes with it) without its argument
    checks, which cost more than a small epoch's training."""
    indices = np.arange(sample_idx.shape[0])
    random_state.shuffle(indices)
    return sample_idx[indices]


def _split(estimator, X, Y, sample_weight, random_state):
    """The training data and, with early stopping, the validation data ``(X, y, weights)``
    (``y`` as labels for a classifier), held out as scikit-learn holds them out."""
    if not estimator.early_stopping:
        return X, Y, sample_weight, None
    # Stratified for a classifier of one output (binary), as scikit-learn does: its check
    # counts the binarized outputs, so multiclass and multilabel splits are not stratified.
    # As booleans, as scikit-learn's are: a class too small to split is named 'True'.
    stratify = Y.astype(bool) if is_classifier(estimator) and Y.shape[1] == 1 else None
    arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
    parts = train_test_split(
        *arrays,
        random_state=random_state,
        test_size=estimator.validation_fraction,
        stratify=stratify,
    )
    X_train, X_val, Y_train, Y_val = parts[:4]
    weights_train, weights_val = parts[4:] if sample_weight is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of "
            "your dataset."
        )
    y_val = estimator._decode(Y_val)
    if not _sparse.is_sparse(X_train):
        X_train = np.ascontiguousarray(X_train)
    Y_train = np.ascontiguousarray(Y_train)
    return X_train, Y_train, weights_train, (X_val, y_val, weights_val)


def _batch_size(batch_size, n_samples):
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
            stacklevel=5,
        )
    return int(np.clip(batch_size, 1, n_samples))


def _update_no_improvement_count(estimator, run, validation, diverged=False):
    """scikit-learn's: count the epochs without an improvement by ``tol`` of the validation
    score (early stopping, which keeps the best epoch's parameters; NaN once ``diverged``,
    which resets the count, as any comparison with NaN is false) or the training loss."""
    tol = estimator.tol
    if validation is not None:
        score = np.nan if diverged else estimator._validation_score(run.network, *validation)
        run.validation_scores.append(score)
        if estimator.verbose:
            print(f"Validation score: {score:f}")
        if score < run.best_validation_score + tol:
            run.no_improvement_count += 1
        else:
            run.no_improvement_count = 0
        if score > run.best_validation_score:
            run.best_validation_score = score
            run.best_params = run.network.params.copy()
        return
    if run.loss_curve[-1] > run.best_loss - tol:
        run.no_improvement_count += 1
    else:
        run.no_improvement_count = 0
    if run.loss_curve[-1] < run.best_loss:
        run.best_loss = run.loss_curve[-1]


def _stall_message(estimator):
    what = "Validation score" if estimator.early_stopping else "Training loss"
    return (
        f"{what} did not improve more than tol={estimator.tol:f} for "
        f"{estimator.n_iter_no_change:d} consecutive epochs."
    )


def _merge_records(network, first, n_epochs):
    """One record in ``network.metadata["fits"]`` for the fit's ``n_epochs`` epochs, in place
    of its Trainer fits' (one an epoch, or one a block of rows), those from index ``first``."""
    fits = network.metadata["fits"]
    if len(fits) <= first:
        return
    merged = dict(fits[-1])
    merged["epochs"] = n_epochs
    fits[first:] = [merged]
