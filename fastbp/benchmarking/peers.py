"""The contenders: fastbp, the NumPy reference, and the peers when they are installed.

Each contender is a function ``prepare(workload, threads) -> run`` that does all conversion and
compilation up front; ``run()`` performs one complete fit of the workload and returns the
final weights as a list of NumPy arrays, ``(fan_in, fan_out)`` (or None where a peer's
weights are its own: scikit-learn's). The
peers implement the same semantics as fastbp: squared error ``0.5 * sum((o - t)**2)`` per
example, the batch gradient summed or averaged as the workload says, plain SGD steps.
"""

import warnings

import numpy as np

from fastbp import reference
from fastbp.benchmarking.jax_peer import prepare_jax


def prepare_fastbp(workload, threads):
    X, Y = workload.data()

    weights = workload.sample_weights()

    def run():
        network = workload.network()
        workload.trainer(network, threads).fit(X, Y, epochs=workload.epochs, sample_weight=weights)
        return list(network.weights)

    # One whole fit compiles (or loads) outside the timing the very kernel the fit runs: a
    # one-example warm-up would pick the generic kernel, not the unrolled one of a long fit.
    run()
    return run


def prepare_reference(workload, threads):
    X, Y = workload.data()
    initial = workload.network()
    biases = [None if b is None else b.copy() for b in initial.biases]

    def run():
        weights, _, _ = reference.fit(
            [w.copy() for w in initial.weights],
            [None if b is None else b.copy() for b in biases],
            list(workload.activations),
            X,
            Y,
            epochs=workload.epochs,
            learning_rate=workload.learning_rate,
            batch_size=workload.batch_size,
            reduction=workload.reduction,
        )
        return weights

    return run


def prepare_torch(workload, threads):
    """PyTorch eager: autograd for the gradient, a manual SGD step, a Python loop of batches."""
    import torch

    torch.set_num_threads(threads)
    dtype = {np.float64: torch.float64, np.float32: torch.float32}[workload.dtype]
    activations = {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}
    functions = [activations[name] for name in workload.activations]
    initial = workload.network()
    X, Y = (torch.from_numpy(a) for a in workload.data())
    batch = workload.batch_size or workload.n_samples
    learning_rate = workload.learning_rate

    def run():
        params = []
        for w, b in zip(initial.weights, initial.biases, strict=True):
            params.append(torch.tensor(w, dtype=dtype, requires_grad=True))
            if b is not None:
                params.append(torch.tensor(b, dtype=dtype, requires_grad=True))
        layers, position = [], 0
        for b in initial.biases:
            layers.append((params[position], params[position + 1] if b is not None else None))
            position += 1 if b is None else 2
        for _ in range(workload.epochs):
            for start in range(0, workload.n_samples, batch):
                x, y = X[start : start + batch], Y[start : start + batch]
                a = x
                for (w, b), f in zip(layers, functions, strict=True):
                    z = a @ w
                    a = f(z if b is None else z + b)
                divisor = x.shape[0] if workload.reduction == "mean" else 1
                loss = 0.5 * torch.sum((a - y) ** 2) / divisor
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for p, g in zip(params, grads, strict=True):
                        p.sub_(learning_rate * g)
        return [w.detach().numpy() for w, _ in layers]

    run()  # the first call pays PyTorch's one-off start-up costs
    return run


def prepare_sklearn(workload, threads):
    """scikit-learn's MLPRegressor (sgd, momentum 0): only identity outputs and one hidden
    layer; it always has biases and draws its own weights, so its weights are not checked."""
    if workload.activations[-1] != "identity" or len(workload.sizes) != 3:
        return None
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    X, Y = workload.data()
    hidden = {"relu": "relu", "sigmoid": "logistic"}[workload.activations[0]]

    def run():
        model = MLPRegressor(
            hidden_layer_sizes=(workload.sizes[1],),
            activation=hidden,
            solver="sgd",
            # Its loss is averaged over outputs too: scaling the rate makes the same step.
            learning_rate_init=workload.learning_rate * workload.sizes[-1],
            momentum=0.0,
            alpha=0.0,
            batch_size=workload.batch_size or workload.n_samples,
            shuffle=False,
            max_iter=workload.epochs,
            tol=0.0,
            n_iter_no_change=workload.epochs + 1,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, Y[:, 0] if Y.shape[1] == 1 else Y)
        return None

    return run


CONTENDERS = {
    "fastbp": prepare_fastbp,
    "reference": prepare_reference,
    "jax": prepare_jax,
    "torch": prepare_torch,
    "sklearn": prepare_sklearn,
}
