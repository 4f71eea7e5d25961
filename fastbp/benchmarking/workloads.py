"""The four benchmark workloads, W1 to W4, built the same way for every contender.

Each workload fixes an architecture, its training settings and its data; weights are drawn
uniform in [-1, 1) from a fixed seed (the tutorials' ``2 * random_sample - 1``), so every
contender starts from the same parameters.
"""

from dataclasses import dataclass, replace

import numpy as np

from fastbp.network import Network
from fastbp.optimizers import SGD, Adam
from fastbp.trainer import Trainer

WEIGHT_SEED = 1
DATA_SEED = 0

STREETLIGHTS = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float64)
WALK_VS_STOP = np.array([[1.0], [1.0], [0.0], [0.0]])
XOR_INPUTS = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
XOR_TARGETS = np.array([[0.0], [1.0], [1.0], [0.0]])


@dataclass(frozen=True)
class Workload:
    """One benchmark: a network, its training settings and the size of its data.

    ``n_samples`` examples are drawn (or taken from the tutorial) and trained on for
    ``epochs`` passes, in order (no shuffling, so every contender sees the same sequence).
    ``batch_size`` None is full batch.
    """

    name: str
    title: str
    sizes: tuple
    activations: tuple
    bias: bool
    batch_size: int | None
    reduction: str
    learning_rate: float
    n_samples: int
    epochs: int
    dtype: type = np.float64
    features: tuple = ()  # (name, value) pairs of Trainer arguments beyond plain SGD
    weighted: bool = False  # fit with seeded sample weights (``sample_weights``)

    @property
    def n_examples(self):
        """Examples visited by one fit: the unit of the per-example timings."""
        return self.n_samples * self.epochs

    def with_dtype(self, dtype):
        return replace(self, dtype=np.dtype(dtype).type)

    def shortened(self, n_examples):
        """The same workload cut to about ``n_examples`` (fewer epochs, else fewer samples).

        Tiny data sets keep their samples and lose epochs; large ones keep one epoch of a
        prefix of the data, in whole batches.
        """
        if n_examples >= self.n_examples:
            return self
        if self.n_samples <= 64:
            return replace(self, epochs=max(1, n_examples // self.n_samples))
        batch = self.batch_size or 1
        n_samples = max(batch, n_examples // batch * batch)
        return replace(self, n_samples=min(n_samples, self.n_samples), epochs=1)

    def data(self):
        """``(X, Y)`` in the workload's dtype, C-contiguous."""
        if self.name.startswith("W1"):
            X, Y = STREETLIGHTS, WALK_VS_STOP
        elif self.name == "W2":
            X, Y = XOR_INPUTS, XOR_TARGETS
        else:
            X, Y = random_classification(self.sizes[0], self.sizes[-1], self.n_samples)
        return (
            np.ascontiguousarray(X[: self.n_samples], dtype=self.dtype),
            np.ascontiguousarray(Y[: self.n_samples], dtype=self.dtype),
        )

    def sample_weights(self):
        """Seeded weights in [0.5, 1.5) for the fits of a ``weighted`` workload, else None."""
        if not self.weighted:
            return None
        return np.random.default_rng(DATA_SEED + 1).uniform(0.5, 1.5, self.n_samples)

    def network(self):
        """The workload's network with its fixed initial weights."""
        return Network(
            list(self.sizes),
            activations=list(self.activations),
            bias=self.bias,
            init="uniform",
            seed=WEIGHT_SEED,
            dtype=self.dtype,
        )

    def trainer(self, network, threads=1):
        return Trainer(
            network,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            reduction=self.reduction,
            shuffle=False,
            threads=threads,
            **dict(self.features),
        )


def random_classification(n_inputs, n_classes, n_samples):
    """Inputs uniform in [0, 1) and one-hot targets of uniformly drawn classes (float64)."""
    rng = np.random.default_rng(DATA_SEED)
    X = rng.random((n_samples, n_inputs))
    Y = np.zeros((n_samples, n_classes))
    Y[np.arange(n_samples), rng.integers(n_classes, size=n_samples)] = 1.0
    return X, Y


W1 = Workload(
    name="W1",
    title="streetlight 3-4-1 relu/identity, no bias, per-example SGD",
    sizes=(3, 4, 1),
    activations=("relu", "identity"),
    bias=False,
    batch_size=1,
    reduction="sum",
    learning_rate=0.2,
    n_samples=4,
    epochs=50_000,
)
W2 = Workload(
    name="W2",
    title="XOR 3-4-1 sigmoid/sigmoid, no bias, full batch (sum)",
    sizes=(3, 4, 1),
    activations=("sigmoid", "sigmoid"),
    bias=False,
    batch_size=None,
    reduction="sum",
    learning_rate=1.0,
    n_samples=4,
    epochs=60_000,
)
W3 = Workload(
    name="W3",
    title="64-128-10 sigmoid/sigmoid with biases, per-example SGD",
    sizes=(64, 128, 10),
    activations=("sigmoid", "sigmoid"),
    bias=True,
    batch_size=1,
    reduction="sum",
    learning_rate=0.1,
    n_samples=20_000,
    epochs=3,
)
W4 = Workload(
    name="W4",
    title="784-256-10 relu/identity with biases, mini-batch 64 (mean)",
    sizes=(784, 256, 10),
    activations=("relu", "identity"),
    bias=True,
    batch_size=64,
    reduction="mean",
    learning_rate=1e-3,
    n_samples=60_000,
    epochs=1,
)
WORKLOADS = {workload.name: workload for workload in (W1, W2, W3, W4)}

# W1 with the training features its kernel runs besides plain SGD: it should cost little more
# than W1 (the bound is 1.5x).
W1_MOMENTUM_L2 = replace(
    W1,
    name="W1-momentum-L2",
    title="W1 with momentum 0.9 and L2 1e-4",
    features=(("optimizer", SGD(momentum=0.9)), ("l2", 1e-4)),
)

# W3 (64-128-10 per example) with each training feature alone: issue 12 bounds each at 1.3x
# plain SGD per example. Dropout draws from the trainer's seed.
W3_FEATURES = {
    f"W3-{label}": replace(W3, name=f"W3-{label}", title=f"W3 with {label}", **changes)
    for label, changes in {
        "momentum": {"features": (("optimizer", SGD(momentum=0.9)),)},
        "nesterov": {"features": (("optimizer", SGD(momentum=0.9, nesterov=True)),)},
        "adam": {"features": (("optimizer", Adam()),)},
        "l2": {"features": (("l2", 1e-4),)},
        "dropout": {"features": (("dropout", 0.1), ("seed", 0))},
        "clip-value": {"features": (("clip_value", 0.5),)},
        "clip-norm": {"features": (("clip_norm", 1.0),)},
        "sample-weights": {"weighted": True},
    }.items()
}
