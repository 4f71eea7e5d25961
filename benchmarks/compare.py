"""fastbp beside the NumPy reference on the Grokking streetlight net, in one process.

Run: ``python benchmarks/compare.py``. The JIT is warmed up first, the two are timed
interleaved, and the median of the repeats is reported per example along with the ratio.
Before timing, fastbp's weights after a short fit must equal the reference's.

(The asv suite and the peers, PyTorch, JAX and scikit-learn, are the benchmarks issue's.)
"""

import argparse
import statistics
import time

import numpy as np

from fastbp import Network, Trainer, reference

STREETLIGHTS = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=float)
WALK_VS_STOP = np.array([[1.0], [1.0], [0.0], [0.0]])


def streetlight_network():
    return Network([3, 4, 1], activations=["relu", "identity"], bias=False, init="uniform", seed=1)


def fit_fastbp(epochs):
    net = streetlight_network()
    Trainer(net, learning_rate=0.2, batch_size=1, shuffle=False).fit(
        STREETLIGHTS, WALK_VS_STOP, epochs=epochs
    )
    return net


def fit_reference(epochs):
    net = streetlight_network()
    weights, _, _ = reference.fit(
        list(net.weights),
        [None, None],
        ["relu", "identity"],
        STREETLIGHTS,
        WALK_VS_STOP,
        epochs=epochs,
        learning_rate=0.2,
        batch_size=1,
    )
    return weights


def seconds_per_example(fit, epochs):
    start = time.perf_counter()
    fit(epochs)
    return (time.perf_counter() - start) / (epochs * len(STREETLIGHTS))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=50000, help="fastbp's epochs per fit")
    parser.add_argument("--reference-epochs", type=int, default=500)
    args = parser.parse_args(argv)

    for net_weights, wanted in zip(fit_fastbp(60).weights, fit_reference(60), strict=True):
        np.testing.assert_allclose(net_weights, wanted, rtol=1e-9)

    fastbp_times, reference_times = [], []
    for _ in range(args.repeats):
        fastbp_times.append(seconds_per_example(fit_fastbp, args.epochs))
        reference_times.append(seconds_per_example(fit_reference, args.reference_epochs))
    fastbp_ns = statistics.median(fastbp_times) * 1e9
    reference_ns = statistics.median(reference_times) * 1e9
    print(f"streetlight 3-4-1, relu/identity, per-example SGD, float64 (median of {args.repeats})")
    print(f"  fastbp     {fastbp_ns:10.1f} ns/example")
    print(f"  reference  {reference_ns:10.1f} ns/example   {reference_ns / fastbp_ns:6.0f}x fastbp")


if __name__ == "__main__":
    main()
