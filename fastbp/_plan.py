"""Planning a fit: every argument checked and converted, the kernel chosen and its vectors
encoded, before anything runs (``Trainer.fit`` then runs the plan and finishes it)."""

import dataclasses

import numpy as np

from fastbp import _checks, _kernels, _settings, _sparse, optimizers
from fastbp._names import METRICS, choose
from fastbp.kernels import codes
from fastbp.weighting import sample_weights, validation_split


@dataclasses.dataclass
class FitPlan:
    """A checked fit, ready to run."""

    X: np.ndarray  # or a CSR matrix (fastbp._sparse)
    Y: np.ndarray
    weights: np.ndarray | None  # per example, or None when all weigh 1
    X_val: np.ndarray  # empty for no validation data; or a CSR matrix
    Y_val: np.ndarray
    order: np.ndarray | None  # int64 (epochs, n_samples): the examples of each epoch, or None
    epochs: int
    names: list  # the history's metrics: "loss" first
    progress: bool | None
    batch_size: int
    patience: int | None
    restore_best: bool
    callbacks: list
    callback_every: int
    features: list  # the training features beyond plain SGD, by name
    kernel_name: str
    kernel: object  # the compiled function
    scratch_size: int
    settings: np.ndarray
    options: np.ndarray

    @property
    def validating(self):
        return self.X_val.shape[0] > 0

    @property
    def n_samples(self):
        return self.X.shape[0]


# The features a fit's arguments (not the Trainer's settings) turn on.
_FIT_FEATURES = {
    "sample_weight": lambda plan, network: plan["weights"] is not None,
    "validation": lambda plan, network: plan["X_val"].shape[0] > 0,
    "patience": lambda plan, network: plan["patience"] is not None,
    "batch_norm": lambda plan, network: any(network.batch_norm),
    "order": lambda plan, network: plan["order"] is not None,
    "exp": lambda plan, network: "exp" in network.activations,
    "sparse": lambda plan, network: (
        _sparse.is_sparse(plan["X"]) or _sparse.is_sparse(plan["X_val"])
    ),
}


def plan_fit(trainer, X, y, epochs, metrics, progress, fit_options):
    """The ``FitPlan`` of ``trainer.fit(X, y, epochs, metrics, progress, **fit_options)``."""
    plan = check_fit(trainer, X, y, epochs, metrics, progress, fit_options)
    network = trainer.network
    if trainer.kernel == "auto":
        n_visits = plan["X"].shape[0] * plan["epochs"]
        name = _kernels.choose(network, plan["batch_size"], n_visits, plan["features"])
    else:
        name = trainer.kernel
        _kernels.check_runs(name, plan["features"])
    kernel, scratch_size = _kernels.kernel_and_scratch(
        name, network, plan["settings"], plan["options"], plan["features"]
    )
    return FitPlan(**plan, kernel_name=name, kernel=kernel, scratch_size=scratch_size)


def check_fit(trainer, X, y, epochs, metrics, progress, fit_options):
    """Every argument of a fit checked and converted, its settings encoded and its features
    listed, as a dict of ``FitPlan``'s fields but the kernel's (an ``Ensemble``'s fit
    chooses its own kernel)."""
    _settings.check(trainer)  # the settings are public attributes: check them again
    network = trainer.network
    X = network.inputs(X, sparse=True)
    Y = targets(network, trainer.loss, y, X.shape[0])
    plan = {
        "epochs": _checks.check_count(epochs, "epochs", minimum=0),
        "names": _check_metrics(metrics),
        "progress": None if progress is None else _checks.check_flag(progress, "progress"),
    }
    plan.update(_split(trainer, X, Y, fit_options))
    plan.update(_check_stopping(fit_options))
    plan["order"] = _check_order(fit_options["order"], plan["epochs"], plan["X"].shape[0])
    plan["batch_size"] = _batch_size(trainer, plan["X"].shape[0])
    settings, options = _settings.encode(trainer, plan["X"].shape[0], plan["batch_size"])
    options[codes.PATIENCE] = plan["patience"] or 0
    settings[codes.MIN_DELTA] = plan.pop("min_delta")
    plan["features"] = _settings.features(trainer) + [
        name for name, used in _FIT_FEATURES.items() if used(plan, network)
    ]
    if "dropout" in plan["features"] and plan["batch_size"] > 1:
        # A batch draws its masks layer by layer over its rows: a kernel that passes example
        # by example cannot draw them in that order.
        plan["features"].append("dropout_in_batches")
    plan["settings"], plan["options"] = settings, options
    return plan


def _split(trainer, X, Y, fit_options):
    """The training and validation data and the example weights, checked and converted."""
    network = trainer.network
    weights = sample_weights(
        fit_options["sample_weight"], fit_options["class_weight"], Y, network.dtype
    )
    validation_data = fit_options["validation_data"]
    fraction = fit_options["validation_fraction"]
    if validation_data is not None and fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    if fraction is not None:
        X, Y, weights, X_val, Y_val = validation_split(X, Y, weights, fraction, trainer.seed)
    elif validation_data is None:
        X_val = np.empty((0, network.n_inputs), network.dtype)
        Y_val = np.empty((0, network.n_outputs), network.dtype)
    else:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val = network.inputs(validation_data[0], "validation_data[0]", sparse=True)
        Y_val = targets(
            network, trainer.loss, validation_data[1], X_val.shape[0], "validation_data[1]"
        )
    if weights is not None and not weights.any():
        given = [
            name for name in ("sample_weight", "class_weight") if fit_options[name] is not None
        ]
        held_out = " left for training" if fraction is not None else ""
        raise ValueError(
            f"{' times '.join(given)} is 0 for every sample{held_out}: the fit would train "
            "nothing; give at least one sample a positive weight"
        )
    return {"X": X, "Y": Y, "weights": weights, "X_val": X_val, "Y_val": Y_val}


def targets(network, loss, y, n_samples, name="y"):
    """``y`` checked against ``network`` and ``loss``; class labels one-hot encoded."""
    n_outputs = network.n_outputs
    Y = _checks.as_targets(y, name, network.dtype, n_outputs, labels=loss == "cross_entropy")
    if Y.shape[0] != n_samples:
        inputs = "X" if name == "y" else "validation_data[0]"
        raise ValueError(
            f"{inputs} and {name} must hold the same number of samples; got {n_samples} "
            f"and {Y.shape[0]}"
        )
    if loss == "cross_entropy" and (Y.min() < 0 or Y.max() > 1):
        raise ValueError(
            f"{name} must lie in [0, 1] for loss 'cross_entropy' (one-hot or probabilities), "
            f"or be integer class labels in [0, {n_outputs}); got values from {Y.min()} to "
            f"{Y.max()}"
        )
    if loss == "poisson" and Y.min() < 0:
        raise ValueError(
            f"{name} must be non-negative for loss 'poisson' (counts or rates); got "
            f"{Y.min()} at row {int(np.argmin(Y.min(axis=1)))}"
        )
    return Y


def _check_stopping(fit_options):
    """Early stopping's and the callbacks' arguments, checked."""
    patience = fit_options["patience"]
    if patience is not None:
        patience = _checks.check_count(patience, "patience", minimum=1)
    callbacks = fit_options["callbacks"]
    if callable(callbacks):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"callbacks must be callables; got {callback!r}")
    return {
        "patience": patience,
        "min_delta": _checks.check_real(fit_options["min_delta"], "min_delta", 0),
        "restore_best": _checks.check_flag(fit_options["restore_best"], "restore_best"),
        "callbacks": callbacks,
        "callback_every": _checks.check_count(
            fit_options["callback_every"], "callback_every", minimum=1
        ),
    }


def _check_order(order, epochs, n_samples):
    """``Trainer.fit``'s ``order``, checked: int64 (epochs, n_samples), each row a
    permutation of the training examples, or None."""
    if order is None:
        return None
    order = np.asarray(order)
    if order.dtype.kind not in "iu":
        raise TypeError(f"order must hold integer example indices; got dtype {order.dtype}")
    if order.shape != (epochs, n_samples):
        raise ValueError(
            f"order must have shape (epochs, n_samples) = ({epochs}, {n_samples}), a row of "
            f"example indices per epoch; got {order.shape}"
        )
    if n_samples and not (np.sort(order, axis=1) == np.arange(n_samples)).all():
        raise ValueError(
            f"each row of order must be a permutation of 0..{n_samples - 1} (every training "
            "example once)"
        )
    return np.ascontiguousarray(order, dtype=np.int64)


def _check_metrics(metrics):
    if isinstance(metrics, str):
        metrics = [metrics]
    names = ["loss"]
    for name in metrics:
        choose(name, METRICS, "metrics")
        if name not in names:
            names.append(name)
    return names


def _batch_size(trainer, n_samples):
    """The fit's batch size, checked against batch normalization's and RPROP's rules."""
    batch_size = n_samples if trainer.batch_size is None else min(trainer.batch_size, n_samples)
    if any(trainer.network.batch_norm) and (batch_size < 2 or n_samples % batch_size == 1):
        raise ValueError(
            "batch normalization needs batches of 2 or more examples; with batch_size="
            f"{trainer.batch_size} on {n_samples} samples, "
            + (
                "every batch holds 1"
                if batch_size < 2
                else "the last batch of each epoch holds 1 (choose a batch_size that does "
                "not leave one example over)"
            )
        )
    if isinstance(trainer.optimizer, optimizers.RPROP) and batch_size != n_samples:
        raise ValueError(
            "optimizer RPROP trains on the full batch: use batch_size=None (this fit's "
            f"batches hold {batch_size} of {n_samples} examples)"
        )
    return batch_size
