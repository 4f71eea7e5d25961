"""The names users write, and the kernel codes they stand for."""

from fastbp.kernels import codes

ACTIVATIONS = {
    "identity": codes.IDENTITY,
    "linear": codes.IDENTITY,
    "sigmoid": codes.SIGMOID,
    "tanh": codes.TANH,
    "relu": codes.RELU,
    "softmax": codes.SOFTMAX,
    "exp": codes.EXP,
}
ALIASES = {"linear": "identity"}

LOSSES = {
    "squared_error": codes.SQUARED_ERROR,
    "cross_entropy": codes.CROSS_ENTROPY,
    "poisson": codes.POISSON,
}

REDUCTIONS = ("sum", "mean", "weighted_mean")

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


def resolve(value, names, classes, argument):
    """``value`` if it is an instance of one of ``classes``, a default instance of the class
    ``names`` maps the name ``value`` to, else a ValueError listing both."""
    if isinstance(value, classes):
        return value
    if isinstance(value, str) and value in names:
        return names[value]()
    module = classes[0].__module__
    kinds = [kind.__name__ for kind in classes]
    raise ValueError(
        f"{argument} must be {_listing(names)} or an instance of "
        f"{module}.{', '.join(kinds[:-1])} or {kinds[-1]}; got {value!r}"
    )


def _listing(valid):
    return ", ".join(repr(v) for v in valid)
