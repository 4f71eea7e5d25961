"""Validation and conversion of user input, done once before any kernel runs.

Every failure is a TypeError (wrong kind of thing) or ValueError (wrong value) whose message
names the argument and says what was expected.
"""

import math
import numbers

import numpy as np

FINITE_CHECK_ROWS = 16384


def as_inputs(values, name, dtype, n_columns):
    """``values`` as a C-contiguous (n_samples, n_columns) array of ``dtype``.

    A 1-D array of ``n_columns`` values is taken as one example. No copy is made when the
    array already has that dtype and layout.
    """
    array = _numeric_array(values, name)
    if array.ndim == 1 and array.shape[0] == n_columns:
        array = array.reshape(1, n_columns)
    return _finish_matrix(array, name, dtype, n_columns, "(n_samples, n_inputs)")


def as_targets(values, name, dtype, n_columns, labels=False):
    """``values`` as a C-contiguous (n_samples, n_columns) array; 1-D is allowed for one output.

    With ``labels``, 1-D integer ``values`` for several outputs are class labels, one-hot
    encoded.
    """
    array = _numeric_array(values, name)
    if labels and array.ndim == 1 and n_columns > 1 and np.issubdtype(array.dtype, np.integer):
        return one_hot(array, name, dtype, n_columns)
    if array.ndim == 1:
        if n_columns != 1:
            raise ValueError(
                f"{name} is 1-D, but the network has {n_columns} outputs: expected shape "
                f"(n_samples, {n_columns})"
            )
        array = array.reshape(-1, 1)
    return _finish_matrix(array, name, dtype, n_columns, "(n_samples, n_outputs)")


def one_hot(labels, name, dtype, n_classes):
    """Integer class ``labels`` (1-D) as a (n_samples, n_classes) one-hot array of ``dtype``."""
    labels = np.asarray(labels)
    if labels.shape[0] == 0:
        raise ValueError(f"{name} has no samples: expected at least one label")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= n_classes:
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(
            f"{name} holds class labels, which must lie in [0, {n_classes}) for a network of "
            f"{n_classes} outputs; got {bad} at row {int(np.flatnonzero(labels == bad)[0])}"
        )
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def check_seed(seed, name, upper):
    """``seed`` as a Python int in [0, upper), or None."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an integer or None; got {seed!r}")
    if not 0 <= seed < upper:
        raise ValueError(f"{name} must be in [0, {upper}); got {seed}")
    return int(seed)


def check_positive_finite(value, name):
    """``value`` as a float, finite and greater than zero."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number greater than 0; got {value}")
    return value


def check_real(value, name, low=-np.inf, high=np.inf, include_low=True, include_high=False):
    """``value`` as a float in the interval from ``low`` to ``high`` (closed at each end where
    ``include_low`` / ``include_high``); infinities and NaN are never accepted."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    inside = (value >= low if include_low else value > low) and (
        value <= high if include_high else value < high
    )
    if not (math.isfinite(value) and inside):
        interval = "[" if include_low else "("
        interval += f"{low:g}, {high:g}" + ("]" if include_high else ")")
        raise ValueError(f"{name} must be a finite number in {interval}; got {value}")
    return value


def check_count(value, name, minimum):
    """``value`` as a Python int no smaller than ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _numeric_array(values, name):
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{name} must be a numeric array; could not convert it: {error}") from None
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real; got complex values ({array.dtype})")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be a numeric array; got dtype {array.dtype}")
    return array


def check_matrix_shape(shape, name, n_columns, expected):
    """Raise a ValueError unless ``shape`` is 2-D, with rows and ``n_columns`` columns."""
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D with shape {expected}; got shape {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} has no samples: expected at least one row")
    if shape[1] != n_columns:
        raise ValueError(
            f"{name} has {shape[1]} columns, but the network expects {n_columns}: "
            f"expected shape {expected}"
        )


def _finish_matrix(array, name, dtype, n_columns, expected):
    check_matrix_shape(array.shape, name, n_columns, expected)
    array = np.ascontiguousarray(array, dtype=dtype)
    # Checked in blocks of rows: a mask of the whole array would add an eighth of a float64
    # array's size to the fit's peak memory.
    for start in range(0, array.shape[0], FINITE_CHECK_ROWS):
        finite = np.isfinite(array[start : start + FINITE_CHECK_ROWS])
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            row += start
            raise ValueError(
                f"{name} must be finite; found {array[row, column]} at row {row}, column {column}"
                + (" (after conversion to float32)" if dtype == np.float32 else "")
            )
    return array
