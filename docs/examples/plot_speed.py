"""
How fast: fastbp beside the NumPy reference and scikit-learn
============================================================

Measured as this page was built, on whatever machine built it, one fit of each after one to
warm up (``fastbp bench`` does it properly: interleaved repeats, pinned threads, every peer;
see the user guide's Speed page for its figures). Three fits: the streetlight 3-4-1 net per
example (W1, shortened), a 64-128-10 sigmoid net per example (W3, shortened), each beside
``fastbp.reference`` (plain NumPy, the same arithmetic), and the estimator's default fit on
digits beside scikit-learn's. Each ratio is the other's time over fastbp's; the shortened
fits leave fastbp's fixed cost per fit (checks, the kernel call: a fraction of a millisecond)
in its time, so their ratios sit below those of the full workloads.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn import neural_network
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import fastbp.sklearn
from fastbp import Network, Trainer, reference


def seconds(run):
    run()  # compiles or loads the kernels, fills the caches
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def beside_reference(sizes, activations, X, Y, epochs, learning_rate):
    """fastbp's per-example fit and the reference's, from the same start."""
    net = Network(sizes, activations=activations, bias=False, init="uniform", seed=1)
    start = [w.copy() for w in net.weights]

    def ours():
        net.params[:] = np.concatenate([w.ravel() for w in start])
        trainer = Trainer(net, learning_rate=learning_rate, batch_size=1, shuffle=False)
        trainer.fit(X, Y, epochs=epochs)

    def theirs():
        reference.fit(
            start, [None] * len(start), activations, X, Y, epochs=epochs,
            learning_rate=learning_rate, batch_size=1,
        )  # fmt: skip

    return seconds(theirs) / seconds(ours)


rng = np.random.default_rng(0)
streetlights = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=float)
walk = np.array([[1.0], [1.0], [0.0], [0.0]])
ratios = {
    "W1: 3-4-1 relu, per example": beside_reference(
        [3, 4, 1], ["relu", "identity"], streetlights, walk, 3000, 0.2
    ),
    "W3: 64-128-10 sigmoid, per example": beside_reference(
        [64, 128, 10], ["sigmoid", "sigmoid"], rng.random((300, 64)), rng.random((300, 10)), 1, 0.1
    ),
}

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    ours = seconds(lambda: fastbp.sklearn.MLPClassifier(random_state=0, max_iter=50).fit(X, y))
    theirs = seconds(lambda: neural_network.MLPClassifier(random_state=0, max_iter=50).fit(X, y))
ratios["MLPClassifier on digits, 50 epochs (scikit-learn)"] = theirs / ours
for name, ratio in ratios.items():
    print(f"{name}: {ratio:.1f}x fastbp's time")

# %%
fig, ax = plt.subplots(figsize=(7, 3))
names = list(ratios)
ax.barh(names, [ratios[name] for name in names])
ax.set_xscale("log")
ax.axvline(1.0, color="grey", linewidth=1)
ax.set_xlabel("the other's time / fastbp's (log scale; above 1: fastbp is faster)")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
