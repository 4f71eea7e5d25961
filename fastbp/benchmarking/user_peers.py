"""The contenders on the user workloads: fastbp, scikit-learn's MLPClassifier, a PyTorch loop.

Each is a function ``prepare(workload, threads, initial=None) -> run`` that does conversion and
warm-up up front; ``run()`` performs one complete fit and returns its per-epoch losses (the
epoch's mean cross entropy, measured before each batch's update, as fastbp and scikit-learn
record it), or None for PyTorch's timed loop, which records nothing a plain loop would not.
``initial`` is a list of ``(weights (fan_in, fan_out), biases)`` to start from; None is each
contender's own start (fastbp's Glorot draw, copied into the PyTorch modules; scikit-learn
draws its own).

All three run the same settings: the network, Adam (betas 0.9 and 0.999, epsilon 1e-8) or
plain momentum 0.9, the batch size, batches in order, the mean over a batch, no L2, a constant
learning rate, and (scikit-learn) no early stopping or tolerance stop.
"""

import warnings

import numpy as np

from fastbp.benchmarking.user_workloads import one_hot


def initial_parameters(workload):
    """fastbp's initial weights and biases for the workload, as copies."""
    network = workload.network()
    return [(w.copy(), b.copy()) for w, b in zip(network.weights, network.biases, strict=True)]


def prepare_fastbp(workload, threads, initial=None):
    X, labels = workload.data()
    Y = one_hot(labels, workload.n_classes, workload.dtype)
    network = workload.network()
    if initial is not None:
        _set_fastbp_parameters(network, initial)
    start = network.params.copy()

    def run():
        network.params[:] = start
        history = workload.trainer(network, threads).fit(X, Y, epochs=workload.epochs)
        return np.asarray(history["loss"], dtype=np.float64)

    run()  # compiles (or loads) the kernel this very fit runs
    return run


def _set_fastbp_parameters(network, initial):
    for w, b, (w0, b0) in zip(network.weights, network.biases, initial, strict=True):
        w[:] = w0
        b[:] = b0


def prepare_sklearn(workload, threads, initial=None):
    """``MLPClassifier`` with the workload's settings. With ``initial`` it starts from those
    weights: a one-epoch fit sets up the estimator, its coefficients are overwritten, and a
    warm-started fit (which builds a fresh optimizer) trains from them. scikit-learn gives a
    two-class problem a single logistic output, so ``initial`` applies only to 3 classes or
    more."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, labels = workload.data()
    settings = sklearn_settings(workload)

    def fit(model):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, labels)
        return model

    def run():
        return np.asarray(fit(MLPClassifier(**settings)).loss_curve_, dtype=np.float64)

    if initial is None:
        run()  # its first fit pays one-off import and set-up costs
        return run
    if workload.n_classes < 3:
        raise ValueError("scikit-learn's binary classifier has one output: no shared start")

    def run_from_initial():
        model = fit(MLPClassifier(**{**settings, "max_iter": 1}))
        model.coefs_ = [w.astype(workload.dtype, copy=True) for w, _ in initial]
        model.intercepts_ = [b.astype(workload.dtype, copy=True) for _, b in initial]
        model.set_params(warm_start=True, max_iter=workload.epochs)
        return np.asarray(fit(model).loss_curve_[1:], dtype=np.float64)

    return run_from_initial


WEIGHT_SEED_SKLEARN = 0


def sklearn_settings(workload):
    """``MLPClassifier``'s parameters for the workload (fastbp.sklearn's estimator takes the
    same): its network, optimizer, batches in order, no L2, no stopping before its epochs."""
    return dict(
        hidden_layer_sizes=workload.hidden,
        activation=workload.activation,
        solver="adam" if workload.optimizer == "adam" else "sgd",
        alpha=0.0,
        batch_size=workload.batch_size,
        learning_rate="constant",
        learning_rate_init=workload.learning_rate,
        momentum=0.9,
        nesterovs_momentum=False,
        shuffle=False,
        # tol must be >= 0 here; a stop needs n_iter_no_change epochs without improvement,
        # more than the fit has, so every fit runs all its epochs.
        tol=0.0,
        n_iter_no_change=workload.epochs + 1,
        early_stopping=False,
        max_iter=workload.epochs,
        random_state=WEIGHT_SEED_SKLEARN,
    )


def prepare_torch(workload, threads, initial=None, record=False):
    """A plain PyTorch training loop: ``torch.nn.Linear`` layers, ``torch.optim``, batches
    sliced in order, ``CrossEntropyLoss`` on the logits (softmax and cross entropy in one).
    With ``record`` it also returns the per-epoch losses, for the equivalence check only."""
    import torch

    torch.set_num_threads(threads)
    dtype = {np.float64: torch.float64, np.float32: torch.float32}[workload.dtype]
    X, labels = workload.data()
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    initial = initial_parameters(workload) if initial is None else initial
    layers = []
    for position, (w, _) in enumerate(initial):
        layers.append(torch.nn.Linear(w.shape[0], w.shape[1], dtype=dtype))
        if position < len(initial) - 1:
            layers.append(torch.nn.ReLU() if workload.activation == "relu" else torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
    start = [
        (torch.tensor(w.T.copy(), dtype=dtype), torch.tensor(b, dtype=dtype)) for w, b in initial
    ]
    loss_function = torch.nn.CrossEntropyLoss()
    n, batch = len(labels), workload.batch_size
    clip = float(np.finfo(workload.dtype).eps)

    def run():
        with torch.no_grad():
            for linear, (w, b) in zip(linears, start, strict=True):
                linear.weight.copy_(w)
                linear.bias.copy_(b)
        optimizer = _torch_optimizer(torch, workload, model.parameters())
        losses = []
        for _ in range(workload.epochs):
            total = 0.0
            for begin in range(0, n, batch):
                x, y = X[begin : begin + batch], labels[begin : begin + batch]
                optimizer.zero_grad()
                logits = model(x)
                loss = loss_function(logits, y)
                loss.backward()
                optimizer.step()
                if record:
                    total += _clipped_loss_sum(torch, logits.detach(), y, clip)
            losses.append(total / n)
        return np.asarray(losses) if record else None

    run()  # the first call pays PyTorch's one-off start-up costs
    return run


def _clipped_loss_sum(torch, logits, labels, clip):
    """The batch's summed cross entropy as fastbp and scikit-learn tally it: each example's
    probability of its class clipped to ``[clip, 1 - clip]`` (the dtype's epsilon) before the
    log, in float64. (Unclipped, one float32 digits example of U5 whose class starts below
    float32's epsilon moved the epoch's loss 0.2%.)"""
    p = torch.softmax(logits, dim=1).double().gather(1, labels[:, None])
    return float(-torch.log(p.clamp(clip, 1.0 - clip)).sum())


def _torch_optimizer(torch, workload, parameters):
    # PyTorch's defaults (on the CPU its single-tensor implementations): foreach=True and
    # fused=True measured no faster on U2 and U3 here, within the noise of a few percent.
    if workload.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=workload.learning_rate)
    return torch.optim.SGD(parameters, lr=workload.learning_rate, momentum=0.9, nesterov=False)


CONTENDERS = {"fastbp": prepare_fastbp, "sklearn": prepare_sklearn, "torch": prepare_torch}
