"""asv benchmarks of the training kernels on the workloads W1-W4, beside the NumPy reference.

Timings are per fit; ``*_per_example`` variants divide by the examples visited so fastbp and
the (shortened) reference read on one scale. Data and networks are built once per parameter
set in ``setup``, where the JIT is also warmed up, so no timing includes compilation; that is
measured separately, in a fresh interpreter, in bench_compile.py.
"""

import os

# One BLAS thread, set before NumPy loads its BLAS: the dashboard tracks the kernels, not how
# many cores were free (OpenBLAS threads spinning on a busy machine slowed W4 twentyfold).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

from fastbp.benchmarking.peers import prepare_fastbp, prepare_reference  # noqa: E402
from fastbp.benchmarking.workloads import W1_MOMENTUM_L2, W3_FEATURES, WORKLOADS  # noqa: E402

# Examples visited by one shortened fit of the reference (its Python loop runs ~100 us each).
REFERENCE_EXAMPLES = {"W1": 2_000, "W2": 2_000, "W3": 3_000, "W4": 6_400}
DTYPES = {"float64": np.float64, "float32": np.float32}


class TimeTraining:
    """One complete fit of each workload by fastbp, and a shortened one by the reference."""

    params = (["W1", "W2", "W3", "W4"], ["float64", "float32"])
    param_names = ["workload", "dtype"]
    timeout = 300

    def setup(self, name, dtype):
        self.workload = WORKLOADS[name].with_dtype(DTYPES[dtype])
        self.short = self.workload.shortened(REFERENCE_EXAMPLES[name])
        self.fit_fastbp = prepare_fastbp(self.workload, 1)
        self.fit_reference = prepare_reference(self.short, 1)

    def time_fastbp(self, name, dtype):
        self.fit_fastbp()

    def time_reference_shortened(self, name, dtype):
        self.fit_reference()

    def track_fastbp_ns_per_example(self, name, dtype):
        return _ns_per_example(self.fit_fastbp, self.workload.n_examples)

    track_fastbp_ns_per_example.unit = "ns/example"

    def track_reference_ns_per_example(self, name, dtype):
        return _ns_per_example(self.fit_reference, self.short.n_examples)

    track_reference_ns_per_example.unit = "ns/example"


class TrackResults:
    """The final loss of each workload: a change in results shows on the dashboard."""

    params = (["W1", "W2", "W3", "W4"], ["float64", "float32"])
    param_names = ["workload", "dtype"]
    timeout = 300

    def setup(self, name, dtype):
        self.workload = WORKLOADS[name].with_dtype(DTYPES[dtype])

    def track_final_loss(self, name, dtype):
        X, Y = self.workload.data()
        network = self.workload.network()
        history = self.workload.trainer(network).fit(X, Y, epochs=self.workload.epochs)
        return float(history["loss"][-1])

    track_final_loss.unit = "loss"


class TimeFeatures:
    """W1 plain beside W1 with momentum and L2, the features the unrolled kernel runs: the
    features' cost per example (the issue's bound is 1.5x plain)."""

    params = ["W1", "W1-momentum-L2"]
    param_names = ["workload"]
    timeout = 300

    def setup(self, name):
        self.workload = W1_MOMENTUM_L2 if name == W1_MOMENTUM_L2.name else WORKLOADS[name]
        self.fit_fastbp = prepare_fastbp(self.workload, 1)

    def track_fastbp_ns_per_example(self, name):
        return _ns_per_example(self.fit_fastbp, self.workload.n_examples)

    track_fastbp_ns_per_example.unit = "ns/example"


class TimeW3Features:
    """W3 (64-128-10 per example) plain beside each training feature alone: each feature's
    cost per example (issue 12's bound is 1.3x plain SGD)."""

    params = ["W3", *W3_FEATURES]
    param_names = ["workload"]
    timeout = 300

    def setup(self, name):
        self.workload = W3_FEATURES.get(name, WORKLOADS["W3"])
        self.fit_fastbp = prepare_fastbp(self.workload, 1)

    def track_fastbp_ns_per_example(self, name):
        return _ns_per_example(self.fit_fastbp, self.workload.n_examples)

    track_fastbp_ns_per_example.unit = "ns/example"


class TimeThreads:
    """W4 at 1 and 2 threads (``Trainer(threads=...)``: the matrix kernel's BLAS threads)."""

    params = (["float64", "float32"], [1, 2])
    param_names = ["dtype", "threads"]
    timeout = 300

    def setup(self, dtype, threads):
        if threads > os.cpu_count():
            raise NotImplementedError("fewer cores than threads")  # asv skips the parameters
        self.workload = WORKLOADS["W4"].with_dtype(DTYPES[dtype])
        self.fit_fastbp = prepare_fastbp(self.workload, threads)

    def track_fastbp_ns_per_example(self, dtype, threads):
        return _ns_per_example(self.fit_fastbp, self.workload.n_examples)

    track_fastbp_ns_per_example.unit = "ns/example"


class MemoryW4:
    """Peak memory of a W4 fit (60,000 x 784 inputs: 376 MB in float64, 188 MB in float32)."""

    params = ["float64", "float32"]
    param_names = ["dtype"]
    timeout = 300

    def setup(self, dtype):
        self.workload = WORKLOADS["W4"].with_dtype(DTYPES[dtype])
        self.X, self.Y = self.workload.data()
        warm = self.workload.network()
        self.workload.trainer(warm).fit(self.X[:64], self.Y[:64])

    def peakmem_fit(self, dtype):
        network = self.workload.network()
        self.workload.trainer(network).fit(self.X, self.Y, epochs=1)


def _ns_per_example(fit, n_examples):
    import time

    started = time.perf_counter()
    fit()
    return (time.perf_counter() - started) / n_examples * 1e9
