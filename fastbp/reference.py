"""The reference: fastbp's training semantics in plain NumPy, written to be obviously right.

This module is the oracle of the equivalence tests and the baseline of the benchmarks. It
shares no code with the kernels. A network here is a list of weight matrices (fan_in, fan_out),
a list of bias vectors (or None), and a list of activation names.

Per-example SGD is simply batches of one example. Every delta is computed with the weights
from before the batch's update; metrics come from the same forward pass, before the update.
"""

import math

import numpy as np

from fastbp import optimizers, schedules
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
    "exp": np.exp,
}

# Derivatives written through the layer's output a = f(z), as the tutorials do.
DERIVATIVES = {
    "identity": lambda a: 1,
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a * a,
    "relu": lambda a: a > 0,
    "exp": lambda a: a,
}


class BatchNorm:
    """One layer's batch normalization: scale ``gamma``, shift ``beta``, running ``mean`` and
    ``var``, updated in place by training."""

    def __init__(self, gamma, beta, mean, var, epsilon=1e-5, momentum=0.1):
        dtype = gamma.dtype.type
        self.gamma, self.beta = gamma.copy(), beta.copy()
        self.mean, self.var = mean.copy(), var.copy()
        self.epsilon, self.momentum = dtype(epsilon), dtype(momentum)

    def copy(self):
        return BatchNorm(self.gamma, self.beta, self.mean, self.var, self.epsilon, self.momentum)

    def inference(self, z):
        """With the running statistics, as ``predict`` normalizes."""
        return (z - self.mean) / np.sqrt(self.var + self.epsilon) * self.gamma + self.beta

    def training(self, z):
        """With the batch's statistics; moves the running ones towards them. Returns the
        output, the normalized ``z`` and each unit's deviation (for the backward pass)."""
        n = z.dtype.type(z.shape[0])
        mean = z.mean(axis=0)
        var = z.var(axis=0)
        deviation = np.sqrt(var + self.epsilon)
        normed = (z - mean) / deviation
        m = self.momentum
        self.mean = (1 - m) * self.mean + m * mean
        self.var = (1 - m) * self.var + m * (var * n / (n - 1))
        return normed * self.gamma + self.beta, normed, deviation

    def backward(self, delta, normed, deviation):
        """``delta`` with respect to the output -> with respect to ``z``, and the gradients of
        gamma and beta."""
        n = delta.dtype.type(delta.shape[0])
        scale_gradient = (delta * normed).sum(axis=0)
        shift_gradient = delta.sum(axis=0)
        d_normed = delta * self.gamma
        delta = (n * d_normed - d_normed.sum(axis=0) - normed * (d_normed * normed).sum(axis=0)) / (
            n * deviation
        )
        return delta, scale_gradient, shift_gradient


def predict(weights, biases, activations, X, norms=None):
    """The network's outputs for the rows of ``X``."""
    return forward(weights, biases, activations, X, norms)[-1]


def forward(weights, biases, activations, X, norms=None):
    """Every layer's outputs, input first: ``[X, a_1, ..., a_L]``; ``norms`` holds a
    ``BatchNorm`` (used with its running statistics) or None per layer."""
    norms = norms or [None] * len(weights)
    layers = [X]
    with np.errstate(over="ignore"):  # exp overflowing to inf gives the right limit, 0 or 1
        for W, b, name, norm in zip(weights, biases, activations, norms, strict=True):
            z = layers[-1] @ W
            if b is not None:
                z = z + b
            if norm is not None:
                z = norm.inference(z)
            layers.append(ACTIVATIONS[name](z))
    return layers


def output_delta(O, T, activation, loss):
    """The delta of the output layer: dLoss/dz for each example."""
    E = O - T
    if loss in ("cross_entropy", "poisson"):  # each on its canonical output
        return E
    if activation == "softmax":
        # Squared error through softmax: the Jacobian applied to the error.
        return O * (E - np.sum(E * O, axis=1, keepdims=True))
    return E * DERIVATIVES[activation](O)


def gradients(
    weights,
    biases,
    activations,
    X,
    T,
    loss,
    sample_weight=None,
    clip_value=None,
    dropout=None,
    norms=None,
):
    """The summed gradient of a batch, and its forward pass.

    ``sample_weight`` scales each example's output delta; ``clip_value`` clips every delta
    as soon as it is computed (with batch normalization, the delta of its output);
    ``dropout`` is a pair ``(rate, generator)`` for inverted dropout on the hidden layers;
    ``norms`` a ``BatchNorm`` or None per layer, trained on the batch's statistics.
    Returns ``(weight_gradients, bias_gradients, layers, norm_gradients)``, the last a pair
    (gamma's, beta's) or None per layer.
    """
    norms = norms or [None] * len(weights)
    layers, undropped, masks, caches = training_forward(
        weights, biases, activations, X, dropout, norms
    )
    delta = output_delta(layers[-1], T, activations[-1], loss)
    if sample_weight is not None:
        delta = delta * sample_weight[:, None]
    delta = clip(delta, clip_value)
    weight_grads = [None] * len(weights)
    bias_grads = [None] * len(weights)
    norm_grads = [None] * len(weights)
    for l in reversed(range(len(weights))):
        if norms[l] is not None:
            delta, scale_gradient, shift_gradient = norms[l].backward(delta, *caches[l])
            norm_grads[l] = (scale_gradient, shift_gradient)
        weight_grads[l] = layers[l].T @ delta
        if biases[l] is not None:
            bias_grads[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ weights[l].T) * DERIVATIVES[activations[l - 1]](undropped[l])
            if masks[l] is not None:
                delta = delta * masks[l]
            delta = clip(delta, clip_value)
    return weight_grads, bias_grads, layers, norm_grads


def training_forward(weights, biases, activations, X, dropout=None, norms=None):
    """``forward`` as training runs it: batch-normalized layers (``norms``) on the batch's
    statistics, and inverted dropout on the hidden layers when ``dropout`` is a pair
    ``(rate, generator)``: each unit of each row is kept when a uniform draw (layer by layer,
    row by row, unit by unit) is at least ``rate``, and scaled by ``1 / (1 - rate)``.

    Returns the layers as the next layer sees them, the layers before dropout, the masks
    (None where nothing is dropped), and per layer the normalization's ``(normed,
    deviation)`` or None.
    """
    norms = norms or [None] * len(weights)
    dtype = X.dtype
    rate, generator = dropout or (0.0, None)
    scale = dtype.type(1 / (1 - rate))
    layers, undropped, masks, caches = [X], [X], [None], []
    with np.errstate(over="ignore"):
        for l, (W, b, name) in enumerate(zip(weights, biases, activations, strict=True)):
            z = layers[-1] @ W
            if b is not None:
                z = z + b
            caches.append(None)
            if norms[l] is not None:
                z, *caches[-1] = norms[l].training(z)
            a = ACTIVATIONS[name](z)
            undropped.append(a)
            if dropout is not None and l < len(weights) - 1:
                draws = np.array([generator.uniform() for _ in range(a.size)]).reshape(a.shape)
                masks.append(np.where(draws >= rate, scale, dtype.type(0)).astype(dtype))
                a = a * masks[-1]
            else:
                masks.append(None)
            layers.append(a)
    return layers, undropped, masks, caches


def clip(values, limit):
    return values if limit is None else np.clip(values, -limit, limit)


def example_losses(O, T, activation, loss):
    """Each example's loss, computed in float64 from outputs in the network's dtype.

    Cross entropy clips the outputs to [eps, 1 - eps] of that dtype before the logarithm.
    """
    eps = np.finfo(O.dtype).eps
    O = O.astype(np.float64)
    T = T.astype(np.float64)
    if loss == "squared_error":
        return 0.5 * np.sum((O - T) ** 2, axis=1)
    if loss == "poisson":  # half the deviance: scikit-learn's xlogy(t, t / o) - t + o
        with np.errstate(divide="ignore", invalid="ignore"):
            deviance = np.where(T == 0, 0.0, T * np.log(T / O))
        return np.sum(deviance - T + O, axis=1)
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
    optimizer=None,
    schedule=None,
    l2=0.0,
    l2_biases=False,
    l2_divided=False,
    l2_in_loss=False,
    loss_output_mean=False,
    dropout=0.0,
    clip_value=None,
    clip_norm=None,
    sample_weight=None,
    validation_data=None,
    patience=None,
    min_delta=0.0,
    restore_best=True,
    norms=None,
    order=None,
):
    """Train copies of ``weights`` and ``biases``; return them and the history.

    ``batch_size`` None is full batch. ``optimizer`` and ``schedule`` are objects of
    ``fastbp.optimizers`` and ``fastbp.schedules`` (plain SGD and a constant rate when None);
    the other arguments mean what they mean to ``Trainer`` and ``Trainer.fit``. Returns
    ``(weights, biases, history)`` where history maps each name in ``METRIC_NAMES`` (and,
    with validation data, each with a ``val_`` prefix) to an array with one entry per epoch.
    With ``norms`` (a ``BatchNorm`` or None per layer), trained copies of them come fourth.
    ``order`` (a row of example indices per epoch) replaces the epochs' order and shuffle.

    The first epoch whose loss, or any parameter after its updates, is not finite raises
    ``DivergenceError``: its ``history`` holds the epochs before, and it carries the weights
    and biases from the end of the last finite epoch as ``weights`` and ``biases``.
    """
    optimizer = optimizers.SGD() if optimizer is None else optimizer
    schedule = schedules.Constant() if schedule is None else schedule
    dtype = X.dtype
    weights = [W.copy() for W in weights]
    biases = [None if b is None else b.copy() for b in biases]
    learning_rate = dtype.type(learning_rate)
    n_samples, n_outputs = Y.shape
    outputs = n_outputs if loss_output_mean else 1
    batch_size = n_samples if batch_size is None else batch_size
    generator = SplitMix64(seed)
    names = METRIC_NAMES + (tuple("val_" + n for n in METRIC_NAMES) if validation_data else ())
    history = {name: [] for name in names}
    given_norms = norms is not None
    norms = [None if n is None else n.copy() for n in norms] if given_norms else None
    update = Update(optimizer, weights, biases, l2, l2_biases, clip_norm, dtype, norms, l2_divided)
    plateau = {"rate": float(learning_rate), "best": np.inf, "wait": 0}
    best = {"loss": np.inf, "weights": None, "biases": None, "wait": 0}

    # Overflow and NaN are what divergence detection reports, once, below: no warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            finite_weights = [W.copy() for W in weights]
            finite_biases = [None if b is None else b.copy() for b in biases]
            rate = epoch_learning_rate(schedule, learning_rate, epoch, plateau["rate"])
            visit = epoch_order(n_samples, shuffle, generator) if order is None else order[epoch]
            tallies = np.zeros(4)
            for start in range(0, n_samples, batch_size):
                batch = visit[start : start + batch_size]
                batch_weight = None if sample_weight is None else sample_weight[batch]
                weight_grads, bias_grads, layers, norm_grads = gradients(
                    weights,
                    biases,
                    activations,
                    X[batch],
                    Y[batch],
                    loss,
                    batch_weight,
                    clip_value,
                    (dropout, generator) if dropout else None,
                    norms,
                )
                divisor = batch_divisor(reduction, len(batch), batch_weight, dtype)
                scale = loss_scale(reduction, len(batch), divisor, outputs)
                penalty = update.penalty(weights, biases, divisor) if l2_in_loss else 0.0
                tallies += scores(layers[-1], Y[batch], activations[-1], loss, batch_weight, scale)
                tallies[0] += len(batch) * penalty  # each example adds its batch's penalty
                update(weights, biases, weight_grads, bias_grads, divisor, rate, norm_grads)
            record(history, "", tallies, n_samples, n_outputs)
            monitored = history["loss"][-1]
            if validation_data:
                X_val, Y_val = validation_data
                O = predict(weights, biases, activations, X_val, norms)
                tallies = scores(O, Y_val, activations[-1], loss, scale=1.0 / outputs)
                record(history, "val_", tallies, X_val.shape[0], n_outputs)
                monitored = history["val_loss"][-1]
            check_finite(epoch, history, weights, biases, finite_weights, finite_biases)

            if isinstance(schedule, schedules.Plateau):
                threshold = float(dtype.type(schedule.threshold))
                if monitored < plateau["best"] * (1.0 - threshold):
                    plateau["best"], plateau["wait"] = monitored, 0
                else:
                    plateau["wait"] += 1
                    if plateau["wait"] > schedule.patience:
                        plateau["rate"] *= float(dtype.type(schedule.factor))
                        plateau["wait"] = 0
            if patience is not None:
                if monitored < best["loss"] - float(dtype.type(min_delta)):
                    best["loss"], best["wait"] = monitored, 0
                    best["weights"] = [W.copy() for W in weights]
                    best["biases"] = [None if b is None else b.copy() for b in biases]
                    best["norms"] = [None if n is None else n.copy() for n in norms or ()]
                else:
                    best["wait"] += 1
                    if best["wait"] >= patience:
                        break
    if patience is not None and restore_best and best["weights"] is not None:
        weights, biases = best["weights"], best["biases"]
        norms = best["norms"] if given_norms else None
    history = {name: np.array(v) for name, v in history.items()}
    if given_norms:
        return weights, biases, history, norms
    return weights, biases, history


def batch_divisor(reduction, n_rows, batch_weight, dtype):
    """What a batch's summed gradient is divided by: 1 ("sum"), its size ("mean"), or its
    summed sample weight ("weighted_mean"; its size when unweighted)."""
    if reduction == "sum":
        return dtype.type(1)
    if reduction == "weighted_mean" and batch_weight is not None:
        return dtype.type(np.sum(batch_weight))
    return dtype.type(n_rows)


def loss_scale(reduction, n_rows, divisor, outputs):
    """What a batch's summed (weighted) loss counts for in the history: "weighted_mean"
    weighs the batch's weighted mean loss by its size; each example's loss is divided by
    ``outputs`` (the output count with ``loss_output_mean``, else 1)."""
    scale = n_rows / float(divisor) if reduction == "weighted_mean" else 1.0
    return scale / outputs


def scores(O, T, activation, loss, sample_weight=None, scale=1.0):
    """The tallies of a batch: summed (weighted) loss times ``scale`` (see ``loss_scale``),
    squared and absolute errors, and the number of examples classified correctly."""
    E = (O - T).astype(np.float64)
    losses = example_losses(O, T, activation, loss)
    if sample_weight is not None:
        losses = sample_weight.astype(np.float64) * losses
    summed = np.sum(losses) * scale
    return np.array([summed, np.sum(E**2), np.sum(np.abs(E)), np.sum(correct(O, T))])


def record(history, prefix, tallies, n_samples, n_outputs):
    loss_sum, sse, sae, n_correct = tallies
    history[prefix + "loss"].append(loss_sum / n_samples)
    history[prefix + "sse"].append(sse)
    history[prefix + "mse"].append(sse / (n_samples * n_outputs))
    history[prefix + "mae"].append(sae / (n_samples * n_outputs))
    history[prefix + "accuracy"].append(n_correct / n_samples)


def check_finite(epoch, history, weights, biases, finite_weights, finite_biases):
    """Raise ``DivergenceError`` if the epoch's loss or any parameter is not finite."""
    parameters = np.concatenate(
        [p.ravel() for W, b in zip(weights, biases, strict=True) for p in (W, b) if p is not None]
    )
    loss_value = history["loss"][-1]
    if np.isfinite(loss_value) and np.isfinite(parameters).all():
        return
    metric, value = (
        ("loss", loss_value)
        if not np.isfinite(loss_value)
        else ("params", parameters[~np.isfinite(parameters)][0])
    )
    before = {name: np.array(v[:-1]) for name, v in history.items() if name in METRIC_NAMES}
    error = DivergenceError(epoch, metric, float(value), History(before))
    error.weights, error.biases = finite_weights, finite_biases
    raise error


def epoch_learning_rate(schedule, learning_rate, epoch, plateau_rate):
    """The schedule's learning rate for ``epoch`` (from 0), computed in float64 and rounded
    to the dtype of ``learning_rate``."""
    dtype = type(learning_rate)
    if isinstance(schedule, schedules.InverseScaling):
        return dtype(float(learning_rate) / (epoch + 1.0) ** float(dtype(schedule.power)))
    if isinstance(schedule, schedules.Step):
        factor = float(dtype(schedule.factor))
        return dtype(float(learning_rate) * factor ** math.floor(epoch / schedule.every))
    if isinstance(schedule, schedules.Plateau):
        return dtype(plateau_rate)
    return learning_rate


class Update:
    """The step of a batch on the flat vector of all parameters (each layer's weights, then
    its bias): divide, add the L2 gradient, clip the norm, then the optimizer's rule."""

    def __init__(
        self, optimizer, weights, biases, l2, l2_biases, clip_norm, dtype, norms=None, divided=False
    ):
        self.optimizer = optimizer
        self.divided = divided  # the L2 term joins the summed gradient before the division
        self.dtype = dtype
        self.l2 = dtype.type(l2)
        self.clip_norm = clip_norm
        self.norms = norms or [None] * len(weights)
        decayed = []
        for W, b, norm in zip(weights, biases, self.norms, strict=True):
            decayed.append(np.full(W.size, l2 != 0))
            if b is not None:
                decayed.append(np.full(b.size, l2 != 0 and l2_biases))
            if norm is not None:
                decayed.append(np.full(2 * norm.gamma.size, False))
        self.decayed = np.concatenate(decayed)
        size = self.decayed.size
        self.first = np.zeros(size, dtype)  # velocity, first moment, or previous gradient
        self.second = np.zeros(size, dtype)  # second moment, or RPROP's step sizes
        if isinstance(optimizer, optimizers.RPROP):
            self.second[:] = optimizer.step_initial
        self.steps = 0

    def __call__(self, weights, biases, weight_grads, bias_grads, divisor, rate, norm_grads):
        norm_params = [None if n is None else (n.gamma, n.beta) for n in self.norms]
        params = flatten(weights, biases, norm_params)
        g = flatten(weight_grads, bias_grads, norm_grads)
        if self.divided:
            g = np.where(self.decayed, g + self.l2 * params, g) / divisor
        else:
            g = np.where(self.decayed, g / divisor + self.l2 * params, g / divisor)
        if self.clip_norm is not None:
            norm = np.sqrt(np.sum(g.astype(np.float64) ** 2))
            if norm > self.clip_norm:
                g = g * self.dtype.type(self.clip_norm / norm)
        self.steps += 1
        params = self.step(params, g, rate)
        unflatten(params, weights, biases, norm_params)

    def penalty(self, weights, biases, divisor):
        """``0.5 * l2 * ||w||**2`` over the parameters L2 covers, in float64, divided by the
        batch's ``divisor`` as the L2 term of the gradient is."""
        norm_params = [None if n is None else (n.gamma, n.beta) for n in self.norms]
        decayed = flatten(weights, biases, norm_params)[self.decayed].astype(np.float64)
        penalty = 0.5 * float(self.l2) * np.sum(decayed**2)
        return penalty / float(divisor) if self.divided else penalty

    def step(self, w, g, rate):
        optimizer, setting = self.optimizer, self.dtype.type
        if isinstance(optimizer, optimizers.SGD) and optimizer.momentum == 0:
            return w - rate * g
        if isinstance(optimizer, optimizers.SGD):
            momentum = setting(optimizer.momentum)
            self.first = momentum * self.first - rate * g
            if optimizer.nesterov:
                return w + (momentum * self.first - rate * g)
            return w + self.first
        if isinstance(optimizer, optimizers.Adam):
            beta_1, beta_2 = setting(optimizer.beta_1), setting(optimizer.beta_2)
            t = self.steps
            corrected = float(rate) * math.sqrt(1.0 - float(beta_2) ** t)
            step_size = setting(corrected / (1.0 - float(beta_1) ** t))
            self.first = beta_1 * self.first + (1 - beta_1) * g
            self.second = beta_2 * self.second + (1 - beta_2) * (g * g)
            return w - step_size * self.first / (np.sqrt(self.second) + setting(optimizer.epsilon))
        # iRPROP-
        agreement = g * self.first
        grown = np.minimum(self.second * setting(optimizer.increase), setting(optimizer.step_max))
        shrunk = np.maximum(self.second * setting(optimizer.decrease), setting(optimizer.step_min))
        self.second = np.where(agreement > 0, grown, np.where(agreement < 0, shrunk, self.second))
        g = np.where(agreement < 0, setting(0), g)
        self.first = g
        return w - np.sign(g) * self.second


def flatten(weights, biases, norms):
    """One vector in the layout of ``Network.params``: per layer the weights, the bias, and
    batch normalization's pair (scale, shift)."""
    return np.concatenate([p.ravel() for p in _in_layout(weights, biases, norms)])


def unflatten(vector, weights, biases, norms):
    """Write ``vector`` back into the arrays ``flatten`` took it from, in place."""
    at = 0
    for p in _in_layout(weights, biases, norms):
        p[...] = vector[at : at + p.size].reshape(p.shape)
        at += p.size


def _in_layout(weights, biases, norms):
    for W, b, norm in zip(weights, biases, norms, strict=True):
        yield W
        if b is not None:
            yield b
        if norm is not None:
            yield from norm


class SplitMix64:
    """The 64-bit generator behind shuffling (Steele, Lea and Flood, 2014)."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def uniform(self):
        """A float in [0, 1): the top 53 bits of the next output."""
        return (self.next() >> 11) * 2.0**-53

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
