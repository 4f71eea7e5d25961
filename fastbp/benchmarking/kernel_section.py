"""The kernels section of ``fastbp bench``: W1-W4, fastbp beside the reference and the peers.

Runs in a pinned child process (``compare``). Before anything is timed, fastbp's final weights
and those of JAX and PyTorch must equal the reference's on a shortened fit of each workload.
Slow contenders (the reference, PyTorch's and scikit-learn's Python loops) run shortened fits;
every figure is per example visited.
"""

import numpy as np

from fastbp.benchmarking.peers import CONTENDERS
from fastbp.benchmarking.timing import print_table, record, time_interleaved
from fastbp.benchmarking.workloads import W3_FEATURES, WORKLOADS

# Examples visited by one shortened fit of the slow contenders.
SHORT_FIT = {"W1": 2_000, "W2": 2_000, "W3": 3_000, "W4": 6_400}
SLOW = ("reference", "torch", "sklearn")
# The peers whose weights are checked (scikit-learn draws its own).
CHECKED = ("jax", "torch")


def run_kernels(names, dtypes, peers, repeats, threads, quick, results_file):
    print(f"{'workload':<10} {'contender':<10} {'ns/example':>12} {'x fastbp':>10}  examples")
    for name in names:
        for dtype in dtypes[name]:
            workload = WORKLOADS[name].with_dtype(dtype)
            label = f"{name} {np.dtype(dtype).name.replace('float', 'f')}"
            short = workload.shortened(SHORT_FIT[name])
            _check_against_reference(short, peers)
            runs = {}
            for contender in ("fastbp", *peers):
                fitted = short if quick or contender in SLOW else workload
                try:
                    run = CONTENDERS[contender](fitted, threads)
                except ImportError:
                    continue  # not installed
                if run is not None:
                    runs[contender] = (run, fitted.n_examples)
            medians = time_interleaved(runs, repeats)
            print_table(label, medians, 1e9, 1, {c: n for c, (_, n) in runs.items()})
            for contender, seconds in medians.items():
                record(
                    results_file,
                    section="kernels",
                    workload=label,
                    title=workload.title,
                    threads=threads,
                    contender=contender,
                    value=seconds * 1e9,
                    unit="ns/example",
                )
            print(flush=True)


def run_features(names, repeats, results_file):
    """fastbp on W3 (64-128-10 per example) with each feature in ``names`` beside plain SGD,
    interleaved; a feature's figure is its time as a multiple of plain SGD's."""
    print(f"{'workload':<10} {'feature':<14} {'ns/example':>12} {'x plain':>9}")
    runs = {"plain": (CONTENDERS["fastbp"](WORKLOADS["W3"], 1), WORKLOADS["W3"].n_examples)}
    for name in names:
        workload = W3_FEATURES[name]
        runs[name.removeprefix("W3-")] = (CONTENDERS["fastbp"](workload, 1), workload.n_examples)
    medians = time_interleaved(runs, repeats)
    for feature, seconds in medians.items():
        ratio = "" if feature == "plain" else f"{seconds / medians['plain']:8.2f}x"
        print(f"{'W3 f64':<10} {feature:<14} {seconds * 1e9:12.1f} {ratio:>9}")
        record(
            results_file,
            section="features",
            workload="W3 f64",
            title=WORKLOADS["W3"].title,
            threads=1,
            contender="fastbp" if feature == "plain" else feature,
            value=seconds * 1e9,
            unit="ns/example",
        )
    print(flush=True)


def _check_against_reference(workload, peers):
    """fastbp's weights after a shortened fit equal the reference's, and so do those of the
    installed peers that train the same parameters (to 1e-9 in float64; in float32, to the
    spread of two float32 orders of summation)."""
    tolerance = 1e-9 if workload.dtype == np.float64 else 1e-4
    reference_weights = CONTENDERS["reference"](workload, 1)()
    for contender in ("fastbp", *(peer for peer in peers if peer in CHECKED)):
        try:
            weights = CONTENDERS[contender](workload, 1)()
        except ImportError:
            continue
        for actual, wanted in zip(weights, reference_weights, strict=True):
            np.testing.assert_allclose(
                actual,
                wanted,
                rtol=tolerance,
                atol=tolerance * np.abs(wanted).max(),
                err_msg=f"{workload.name}: {contender}'s weights differ from the reference's",
            )
