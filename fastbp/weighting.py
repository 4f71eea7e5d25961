"""Per-example weights from ``sample_weight`` and ``class_weight``, and the validation split."""

import math
import numbers

import numpy as np

from fastbp import _checks


def sample_weights(sample_weight, class_weight, Y, dtype):
    """The weight of each example (a 1-D array of ``dtype``), or None when all weigh 1."""
    n_samples = Y.shape[0]
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight)
        if weights.ndim != 1 or weights.shape[0] != n_samples:
            raise ValueError(
                f"sample_weight must be 1-D with one weight per sample ({n_samples}); got "
                f"shape {weights.shape}"
            )
        weights = _checks.as_inputs(weights.reshape(-1, 1), "sample_weight", dtype, 1)[:, 0]
        if (weights < 0).any():
            row = int(np.flatnonzero(weights < 0)[0])
            raise ValueError(f"sample_weight must be non-negative; got {weights[row]} at row {row}")
    if class_weight is not None:
        labels = classes(Y)
        n_classes = max(Y.shape[1], 2)
        per_class = _class_weights(class_weight, labels, n_classes)
        by_example = per_class[labels].astype(dtype)
        weights = by_example if weights is None else weights * by_example
    return None if weights is None else np.ascontiguousarray(weights, dtype=dtype)


def classes(Y):
    """Each example's class: the argmax of its target row, or target > 0.5 for one output."""
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.int64)
    return np.argmax(Y, axis=1)


def _class_weights(class_weight, labels, n_classes):
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be a dict or 'balanced'; got {class_weight!r}")
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        present = counts > 0
        weights = np.ones(n_classes)
        weights[present] = labels.shape[0] / (np.count_nonzero(present) * counts[present])
        return weights
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict or 'balanced'; got {class_weight!r}")
    weights = np.ones(n_classes)
    for label, weight in class_weight.items():
        if isinstance(label, bool) or not isinstance(label, numbers.Integral):
            raise TypeError(f"class_weight keys must be integer class labels; got {label!r}")
        if not 0 <= label < n_classes:
            raise ValueError(
                f"class_weight names class {label}; the classes are 0 to {n_classes - 1}"
            )
        weights[label] = _checks.check_real(weight, f"class_weight[{label}]", 0)
    return weights


def validation_split(X, Y, weights, fraction, seed):
    """``(X, Y, weights, X_val, Y_val)``: ``ceil(fraction * n)`` examples drawn with ``seed``
    held out, the rest kept in their order."""
    fraction = _checks.check_real(fraction, "validation_fraction", 0, 1, include_low=False)
    n_samples = X.shape[0]
    n_held = math.ceil(fraction * n_samples)
    if n_held >= n_samples:
        raise ValueError(
            f"validation_fraction {fraction} of {n_samples} samples leaves none to train on"
        )
    held = np.zeros(n_samples, dtype=bool)
    held[np.random.default_rng(seed).permutation(n_samples)[:n_held]] = True
    kept = None if weights is None else weights[~held]
    return X[~held], Y[~held], kept, X[held], Y[held]
