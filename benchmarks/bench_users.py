"""asv benchmarks of the user workloads U1-U5 (``fastbp bench``'s user section), fastbp alone.

Each fits the workload as a user would (``Network``/``Trainer``: softmax output, cross
entropy, Adam or momentum, batches in order). ``setup`` builds the data and runs one whole fit
of the workload, so the kernel the timed fits run is compiled (or loaded) before any timing.
The peers' side of the comparison is ``fastbp bench --sections users``.
"""

import os

# One BLAS thread, set before NumPy loads its BLAS (as in bench_training.py).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import time  # noqa: E402

from fastbp.benchmarking.user_peers import prepare_fastbp  # noqa: E402
from fastbp.benchmarking.user_workloads import USER_WORKLOADS  # noqa: E402


class TimeUserWorkloads:
    params = list(USER_WORKLOADS)
    param_names = ["workload"]
    timeout = 600

    def setup(self, name):
        self.workload = USER_WORKLOADS[name]
        self.fit = prepare_fastbp(self.workload, 1)  # a whole fit: the JIT warmed up

    def time_fit(self, name):
        self.fit()

    def track_seconds_per_epoch(self, name):
        started = time.perf_counter()
        self.fit()
        return (time.perf_counter() - started) / self.workload.epochs

    track_seconds_per_epoch.unit = "s/epoch"


class TrackUserLoss:
    """The final training loss of each user workload: a change in results shows."""

    params = list(USER_WORKLOADS)
    param_names = ["workload"]
    timeout = 600

    def setup(self, name):
        self.fit = prepare_fastbp(USER_WORKLOADS[name], 1)

    def track_final_loss(self, name):
        return float(self.fit()[-1])

    track_final_loss.unit = "loss"
