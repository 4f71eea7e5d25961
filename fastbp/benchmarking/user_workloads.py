"""The user workloads U1-U5: the networks tabular users train, as they would set them up.

Each is a classifier (softmax output, cross entropy) trained with the same network, optimizer,
batch size and in-order batches by every contender: fastbp through ``Network``/``Trainer``,
scikit-learn's ``MLPClassifier`` and a plain PyTorch loop (``fastbp.benchmarking.user_peers``).
Digits and breast cancer are the copies bundled with scikit-learn, standardized column by
column as a user would; U4 is seeded random data. Timings are reported per epoch.
"""

from dataclasses import dataclass, replace

import numpy as np

from fastbp.network import Network
from fastbp.optimizers import SGD, Adam
from fastbp.scaling import Standardization
from fastbp.trainer import Trainer

WEIGHT_SEED = 0
DATA_SEED = 0


@dataclass(frozen=True)
class UserWorkload:
    """One user workload.

    ``optimizer`` is ``"adam"`` (the defaults of fastbp, scikit-learn and PyTorch alike:
    betas 0.9 and 0.999, epsilon 1e-8) or ``"momentum"`` (plain momentum 0.9, no Nesterov).
    ``epochs`` is the length of fastbp's timed fit, ``peer_epochs`` that of the peers' (fewer
    where a peer is ten times slower or more: PyTorch's loop on one-example batches).
    """

    name: str
    title: str
    dataset: str  # "digits", "breast_cancer" or "random"
    hidden: tuple
    activation: str
    optimizer: str
    batch_size: int
    learning_rate: float
    epochs: int
    peer_epochs: int
    n_samples: int | None = None  # None: the whole data set
    dtype: type = np.float64

    def with_dtype(self, dtype):
        return replace(self, dtype=np.dtype(dtype).type)

    def with_epochs(self, epochs):
        return replace(self, epochs=epochs)

    def shortened(self, n_samples, epochs):
        """The same workload on at most ``n_samples`` rows (whole batches) for ``epochs``."""
        rows = min(n_samples // self.batch_size * self.batch_size, len(self.data()[1]))
        return replace(self, n_samples=max(self.batch_size, rows), epochs=epochs)

    def data(self):
        """``(X, labels)``: inputs in the workload's dtype (C-contiguous) and int64 classes."""
        X, labels = _load(self.dataset)
        n = len(labels) if self.n_samples is None else self.n_samples
        return np.ascontiguousarray(X[:n], dtype=self.dtype), labels[:n]

    @property
    def n_classes(self):
        return 2 if self.dataset == "breast_cancer" else 10

    def sizes(self):
        return [self.data()[0].shape[1], *self.hidden, self.n_classes]

    def network(self):
        """fastbp's network with its seeded Glorot initial weights (the peers copy them)."""
        return Network(
            self.sizes(),
            activations=[self.activation] * len(self.hidden) + ["softmax"],
            init="glorot",
            seed=WEIGHT_SEED,
            dtype=self.dtype,
        )

    def trainer(self, network, threads=1):
        optimizer = Adam() if self.optimizer == "adam" else SGD(momentum=0.9)
        return Trainer(
            network,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            reduction="mean",
            loss="cross_entropy",
            shuffle=False,
            optimizer=optimizer,
            threads=threads,
        )


def one_hot(labels, n_classes, dtype):
    targets = np.zeros((len(labels), n_classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1
    return targets


_CACHE = {}


def _load(dataset):
    if dataset not in _CACHE:
        if dataset == "random":
            # 20,000 x 784 inputs uniform in [0, 1) (MNIST's shape and range), 10 classes.
            rng = np.random.default_rng(DATA_SEED)
            X = rng.random((20_000, 784))
            labels = rng.integers(10, size=20_000)
        else:
            X, labels = _sklearn_bunch(dataset)
            X = Standardization.of(X).apply(X, np.float64)
        _CACHE[dataset] = (X, labels.astype(np.int64))
    return _CACHE[dataset]


def _sklearn_bunch(dataset):
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(
            f"the user workloads' {dataset} data is scikit-learn's bundled copy: "
            'pip install ".[peers]" (or ".[datasets]") in a clone of fastbp'
        ) from None
    bunch = getattr(datasets, f"load_{dataset}")()
    return bunch.data.astype(np.float64), bunch.target


U1 = UserWorkload(
    name="U1",
    title="digits 64-100-10 relu/softmax, Adam, batch 200",
    dataset="digits",
    hidden=(100,),
    activation="relu",
    optimizer="adam",
    batch_size=200,
    learning_rate=1e-3,
    epochs=20,
    peer_epochs=20,
)
U2 = replace(U1, name="U2", title="digits 64-100-10 relu/softmax, Adam, batch 32", batch_size=32)
U3 = UserWorkload(
    name="U3",
    title="breast cancer 30-64-64-2 tanh/softmax, momentum 0.9, batch 16",
    dataset="breast_cancer",
    hidden=(64, 64),
    activation="tanh",
    optimizer="momentum",
    batch_size=16,
    learning_rate=1e-2,
    epochs=30,
    peer_epochs=10,
)
U4 = UserWorkload(
    name="U4",
    title="20,000 x 784 random, 784-256-10 relu/softmax, Adam, batch 128",
    dataset="random",
    hidden=(256,),
    activation="relu",
    optimizer="adam",
    batch_size=128,
    learning_rate=1e-3,
    epochs=1,
    peer_epochs=1,
)
U5 = UserWorkload(
    name="U5",
    title="digits 64-32-10 relu/softmax, momentum 0.9, batch 1",
    dataset="digits",
    hidden=(32,),
    activation="relu",
    optimizer="momentum",
    batch_size=1,
    learning_rate=1e-3,
    epochs=5,
    peer_epochs=1,
)
USER_WORKLOADS = {workload.name: workload for workload in (U1, U2, U3, U4, U5)}
