"""asv benchmarks of ``fastbp.sklearn.MLPClassifier`` beside scikit-learn's own
(``fastbp bench --sections estimators``): E0, scikit-learn's defaults on digits, and E1-E5,
the user workloads U1-U5 through the estimators, with the same parameters.

``setup`` fits once (compiling or loading the kernels). ``TrackEstimatorSpeedup`` times both
contenders interleaved in one run, so the ratio it tracks is taken under one load. Skipped
where scikit-learn is not installed.
"""

import os

# One BLAS thread, set before NumPy loads its BLAS (as in bench_training.py): both contenders.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from fastbp.benchmarking import timing  # noqa: E402  (time_* names are benchmarks to asv)
from fastbp.benchmarking.estimator_section import (  # noqa: E402
    WORKLOADS,
    estimator_classes,
    fitter,
    workload,
)

REPEATS = 3


def _prepared(name, contenders):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise NotImplementedError("scikit-learn is not installed") from None
    _, X, y, parameters = workload(name)
    classes = estimator_classes()
    fits = {contender: fitter(classes[contender], X, y, parameters) for contender in contenders}
    for fit in fits.values():
        fit()  # compiles (or loads) the kernels this very fit runs
    return fits


class TimeEstimators:
    """One complete fit of each estimator workload by each contender."""

    params = (list(WORKLOADS), ["fastbp", "sklearn"])
    param_names = ["workload", "contender"]
    timeout = 900

    def setup(self, name, contender):
        self.fit = _prepared(name, [contender])[contender]

    def time_fit(self, name, contender):
        self.fit()


class TrackEstimatorSpeedup:
    """scikit-learn's time per fit as a multiple of fastbp.sklearn's, the two interleaved
    (median of ``REPEATS``)."""

    params = list(WORKLOADS)
    param_names = ["workload"]
    timeout = 1800

    def setup(self, name):
        self.fits = _prepared(name, ["fastbp", "sklearn"])

    def track_speedup(self, name):
        runs = {contender: (fit, 1) for contender, fit in self.fits.items()}
        medians = timing.time_interleaved(runs, REPEATS)
        return medians["sklearn"] / medians["fastbp"]

    track_speedup.unit = "x"
