"""The reference: fastbp's training semantics in plain NumPy, written to be obviously right.

This module is the oracle of the equivalence tests and the baseline of the benchmarks. It
shares no code with the kernels. A network here is a list of weight matrices (fan_in, fan_out),
a list of bias vectors (or None), and a list of activation names.

Per-example SGD is simply batches of one example. Every delta is computed with the weights
from before the batch's update; metrics come from the same forward pass, before the update.
"""

import numpy as np

from fastbp.errors import DivergenceError
from fastbp.history import History

METRIC_NAMES = ("loss", "sse", "mse", "mae", "accuracy")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": lambda z: np.where(z < 0, 0, z),
    "softmax": softmax,
}

# Derivatives written through the layer's output a = f(z), as the tutorials do.
DERIVATIVES = {
    "identity": lambda a: 1,
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a * a,
    "relu": lambda a: a > 0,
}


def predict(weights, biases, activations, X):
    """The network's outputs for the rows of ``X``."""
    return forward(weights, biases, activations, X)[-1]


def forward(weights, biases, activations, X):
    """Every layer's outputs, input first: ``[X, a_1, ..., a_L]``."""
    layers = [X]
    with np.errstate(over="ignore"):  # exp overflowing to inf gives the right limit, 0 or 1
        for W, b, name in zip(weights, biases, activations, strict=True):
            z = layers[-1] @ W
            if b is not None:
                z = z + b
            layers.append(ACTIVATIONS[name](z))
    return layers


def output_delta(O, T, activation, loss):
    """The delta of the output layer: dLoss/dz for each example."""
    E = O - T
    if loss == "cross_entropy":
        return E
    if activation == "softmax":
        # Squared error through softmax: the Jacobian applied to the error.
        return O * (E - np.sum(E * O, axis=1, keepdims=True))
    return E * DERIVATIVES[activation](O)


def gradients(weights, biases, activations, X, T, loss):
    """The summed gradient of a batch, and its forward pass.

    Returns ``(weight_gradients, bias_gradients, layers)``.
    """
    layers = forward(weights, biases, activations, X)
    delta = output_delta(layers[-1], T, activations[-1], loss)
    weight_grads = [None] * len(weights)
    bias_grads = [None] * len(weights)
    for l in reversed(range(len(weights))):
        weight_grads[l] = layers[l].T @ delta
        if biases[l] is not None:
            bias_grads[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ weights[l].T) * DERIVATIVES[activations[l - 1]](layers[l])
    return weight_grads, bias_grads, layers


def example_losses(O, T, activation, loss):
    """Each example's loss, computed in float64 from outputs in the network's dtype.

    Cross entropy clips the outputs to [eps, 1 - eps] of that dtype before the logarithm.
    """
    eps = np.finfo(O.dtype).eps
    O = O.astype(np.float64)
    T = T.astype(np.float64)
    if loss == "squared_error":
        return 0.5 * np.sum((O - T) ** 2, axis=1)
    P = np.clip(O, eps, 1 - eps)
    if activation == "sigmoid":
        return -np.sum(T * np.log(P) + (1 - T) * np.log(1 - P), axis=1)
    return -np.sum(T * np.log(P), axis=1)


def correct(O, T):
    """Per example: does the prediction name the target's class?"""
    if O.shape[1] == 1:
        return (O[:, 0] > 0.5) == (T[:, 0] > 0.5)
    return np.argmax(O, axis=1) == np.argmax(T, axis=1)


def fit(
    weights,
    biases,
    activations,
    X,
    Y,
    *,
    epochs,
    learning_rate,
    batch_size=None,
    reduction="sum",
    loss="squared_error",
    shuffle=False,
    seed=0,
):
    """Train copies of ``weights`` and ``biases``; return them and the history.

    ``batch_size`` None is full batch. Returns ``(weights, biases, history)`` where history
    maps each name in ``METRIC_NAMES`` to an array with one entry per epoch.

    The first epoch whose loss, or any parameter after its updates, is not finite raises
    ``DivergenceError``: its ``history`` holds the epochs before, and it carries the weights
    and biases from the end of the last finite epoch as ``weights`` and ``biases``.
    """
    dtype = X.dtype
    weights = [W.copy() for W in weights]
    biases = [None if b is None else b.copy() for b in biases]
    learning_rate = dtype.type(learning_rate)
    n_samples, n_outputs = Y.shape
    batch_size = n_samples if batch_size is None else batch_size
    generator = SplitMix64(seed)
    history = {name: [] for name in METRIC_NAMES}

    # Overflow and NaN are what divergence detection reports, once, below: no warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            finite_weights = [W.copy() for W in weights]
            finite_biases = [None if b is None else b.copy() for b in biases]
            order = epoch_order(n_samples, shuffle, generator)
            loss_sum = sse = sae = n_correct = 0.0
            for start in range(0, n_samples, batch_size):
                batch = order[start : start + batch_size]
                weight_grads, bias_grads, layers = gradients(
                    weights, biases, activations, X[batch], Y[batch], loss
                )
                O, T = layers[-1], Y[batch]
                E = (O - T).astype(np.float64)
                loss_sum += float(np.sum(example_losses(O, T, activations[-1], loss)))
                sse += float(np.sum(E**2))
                sae += float(np.sum(np.abs(E)))
                n_correct += float(np.sum(correct(O, T)))

                divisor = len(batch) if reduction == "mean" else 1
                for l in range(len(weights)):
                    weights[l] -= learning_rate * (weight_grads[l] / dtype.type(divisor))
                    if biases[l] is not None:
                        biases[l] -= learning_rate * (bias_grads[l] / dtype.type(divisor))
            history["loss"].append(loss_sum / n_samples)
            history["sse"].append(sse)
            history["mse"].append(sse / (n_samples * n_outputs))
            history["mae"].append(sae / (n_samples * n_outputs))
            history["accuracy"].append(n_correct / n_samples)
            layers = zip(weights, biases, strict=True)
            parameters = np.concatenate(
                [p.ravel() for W, b in layers for p in (W, b) if p is not None]
            )
            if not (np.isfinite(history["loss"][-1]) and np.isfinite(parameters).all()):
                loss_value = history["loss"][-1]
                metric, value = (
                    ("loss", loss_value)
                    if not np.isfinite(loss_value)
                    else ("params", parameters[~np.isfinite(parameters)][0])
                )
                before = {name: np.array(v[:-1]) for name, v in history.items()}
                error = DivergenceError(epoch, metric, float(value), History(before))
                error.weights, error.biases = finite_weights, finite_biases
                raise error
    return weights, biases, {name: np.array(v) for name, v in history.items()}


class SplitMix64:
    """The 64-bit generator behind shuffling (Steele, Lea and Flood, 2014)."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)


def epoch_order(n_samples, shuffle, generator):
    """0..n-1, shuffled by Fisher-Yates (from the last position down) when ``shuffle``."""
    order = list(range(n_samples))
    if shuffle:
        for i in range(n_samples - 1, 0, -1):
            j = generator.next() % (i + 1)
            order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)
