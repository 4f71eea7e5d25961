"""The names users write, and the kernel codes they stand for."""

from fastbp.kernels import codes

ACTIVATIONS = {
    "identity": codes.IDENTITY,
    "linear": codes.IDENTITY,
    "sigmoid": codes.SIGMOID,
    "tanh": codes.TANH,
    "relu": codes.RELU,
    "softmax": codes.SOFTMAX,
}
ALIASES = {"linear": "identity"}

LOSSES = {"squared_error": codes.SQUARED_ERROR, "cross_entropy": codes.CROSS_ENTROPY}

REDUCTIONS = ("sum", "mean")

INITS = ("uniform", "normal", "glorot", "he")

METRICS = {
    "loss": codes.LOSS,
    "sse": codes.SSE,
    "mse": codes.MSE,
    "mae": codes.MAE,
    "accuracy": codes.ACCURACY,
}


def choose(name, valid, argument):
    """Return ``name`` if it is one of ``valid``, else raise a ValueError listing them."""
    if not isinstance(name, str):
        raise TypeError(f"{argument} must be a string, one of {_listing(valid)}; got {name!r}")
    if name not in valid:
        raise ValueError(f"{argument} must be one of {_listing(valid)}; got {name!r}")
    return name


def _listing(valid):
    return ", ".join(repr(v) for v in valid)
