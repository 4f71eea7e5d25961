"""``Standardization``: the input scaling a network can carry, saved with it and applied by it."""

import numpy as np


class Standardization:
    """Inputs scaled as ``(X - mean) / scale``, column by column.

    Set as ``network.scaling``, it becomes part of the network: ``Network.predict`` and
    ``Trainer.fit`` apply it to the raw inputs they are given (a scaled copy of ``X``), and
    ``Network.save`` stores it.

    Parameters
    ----------
    mean, scale : array_like of shape (n_inputs,)
        Finite; every ``scale`` greater than zero.

    Examples
    --------
    >>> scaling = Standardization.of([[1.0, 10.0], [3.0, 10.0]])
    >>> scaling.mean, scaling.scale
    (array([ 2., 10.]), array([1., 1.]))
    """

    def __init__(self, mean, scale):
        self.mean = _vector(mean, "mean")
        self.scale = _vector(scale, "scale")
        if self.mean.shape != self.scale.shape:
            raise ValueError(
                f"mean and scale must have the same length; got {self.mean.size} and "
                f"{self.scale.size}"
            )
        if np.any(self.scale <= 0):
            raise ValueError("scale must be greater than 0 in every column")

    @classmethod
    def of(cls, X):
        """The standardization of the columns of ``X``: their mean and standard deviation
        (1 for a constant column, which is then only centred)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must be 2-D with at least one row; got shape {X.shape}")
        scale = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(scale > 0, scale, 1.0))

    @property
    def n_inputs(self):
        return self.mean.size

    def apply(self, X, dtype):
        """``(X - mean) / scale`` as a new C-contiguous array of ``dtype`` (computed in float64)."""
        return np.ascontiguousarray((X - self.mean) / self.scale, dtype=dtype)

    def __eq__(self, other):
        return (
            isinstance(other, Standardization)
            and np.array_equal(self.mean, other.mean)
            and np.array_equal(self.scale, other.scale)
        )

    __hash__ = None

    def __repr__(self):
        return f"Standardization(mean={self.mean.tolist()}, scale={self.scale.tolist()})"


def fold_target_scaling(network, scaling):
    """Rescale ``network``'s identity output layer to output ``mean + scale * o`` where it
    output ``o``: a network trained on targets standardized by ``scaling`` then predicts in
    the targets' own units, as ``a @ (W * scale) + (b * scale + mean)``, in place.

    A network without an output bias takes a ``scaling`` whose means are all 0.
    """
    if network.activations[-1] != "identity":
        raise ValueError(
            "only an identity output layer can take the targets' scaling back; this network's "
            f"is {network.activations[-1]}"
        )
    weights, bias = network.weights[-1], network.biases[-1]
    if bias is None and np.any(scaling.mean != 0):
        raise ValueError("a network without an output bias cannot add the targets' means back")
    weights[:] = weights * scaling.scale
    if bias is not None:
        bias[:] = bias * scaling.scale + scaling.mean


def _vector(values, name):
    try:
        vector = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of numbers; got {values!r}") from None
    if vector.ndim != 1 or vector.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {vector.shape}")
    if not np.isfinite(vector).all():
        raise ValueError(f"{name} must be finite")
    vector.flags.writeable = False
    return vector
