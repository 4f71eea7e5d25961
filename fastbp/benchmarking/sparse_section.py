"""The sparse section of ``fastbp bench``: text-like CSR input, ``fastbp.sklearn`` beside
scikit-learn's ``MLPClassifier`` (issue 27's cases).

S1 is a CSR matrix of 100,000 rows by 50,000 columns with 1,000,000 stored values (uniform in
[0, 1), at random places) and binary targets, fitted by
``MLPClassifier(hidden_layer_sizes=(32,), max_iter=2, random_state=0)``; S2 its first 10,000
rows by per-example SGD (``solver="sgd", momentum=0, batch_size=1, max_iter=1``) with
``alpha=0``, S3 the same with the default alpha. Each fit runs in a fresh interpreter pinned
to one core (a process's peak memory only grows): its seconds and its peak resident memory
(``ru_maxrss``, the whole process's, imports included). fastbp's kernels are compiled in an
earlier process, so the timed one loads them, as every fit after a first does.
"""

import sys
import tempfile

from fastbp.benchmarking.timing import child_result, record

_PER_EXAMPLE = {"solver": "sgd", "momentum": 0.0, "batch_size": 1, "max_iter": 1}
# id: (title, rows, the estimator's parameters beside hidden_layer_sizes and random_state)
CASES = {
    "S1": ("CSR 100,000 x 50,000, 1,000,000 stored values, max_iter=2", 100_000, {"max_iter": 2}),
    "S2": (
        "its first 10,000 rows, per-example SGD, alpha=0",
        10_000,
        {**_PER_EXAMPLE, "alpha": 0.0},
    ),
    "S3": ("its first 10,000 rows, per-example SGD, default alpha", 10_000, _PER_EXAMPLE),
}
CONTENDERS = {"fastbp": "fastbp.sklearn", "scikit-learn": "sklearn.neural_network"}

_CHILD = """
import json, os, resource, time, warnings
os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
import numpy as np
import scipy.sparse
from {module} import MLPClassifier
rng = np.random.default_rng(0)
n_rows, n_columns, stored = 100_000, 50_000, 1_000_000
X = scipy.sparse.csr_matrix(
    (rng.random(stored), (rng.integers(0, n_rows, stored), rng.integers(0, n_columns, stored))),
    shape=(n_rows, n_columns),
)
y = rng.integers(0, 2, n_rows)
X, y = X[:{rows}], y[:{rows}]
warnings.simplefilter("ignore")  # max_iter ends each fit: a ConvergenceWarning
model = MLPClassifier(hidden_layer_sizes=(32,), random_state=0, **{params!r})
started = time.perf_counter()
model.fit(X, y)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({{"fit": seconds, "peak_mb": peak, "loss": model.loss_}}))
"""


def child_code(case, contender, rows=None):
    """The code of a fresh interpreter fitting ``case`` with ``contender``'s estimator (on
    its first ``rows`` rows, where given)."""
    _, case_rows, params = CASES[case]
    rows = case_rows if rows is None else rows
    return _CHILD.format(module=CONTENDERS[contender], rows=rows, params=params)


def run_sparse(names, environment, results_file):
    """Fit each case with each contender in fresh processes; print and record the seconds,
    the peak memory and the ratios (scikit-learn's over fastbp's)."""
    print(f"{'case':<5} {'contender':<13} {'fit s':>8} {'peak MB':>8} {'loss':>10}")
    with tempfile.TemporaryDirectory(prefix="fastbp-sparse-") as cache:
        environment = {**environment, "NUMBA_CACHE_DIR": cache}
        for name in names:
            title = CASES[name][0]
            _run(child_code(name, "fastbp", rows=300), environment)  # compiles the kernels
            figures = {who: _run(child_code(name, who), environment) for who in CONTENDERS}
            print(f"{name}: {title}")
            for who, figure in figures.items():
                print(
                    f"{name:<5} {who:<13} {figure['fit']:8.2f} {figure['peak_mb']:8.0f} "
                    f"{figure['loss']:10.6f}"
                )
                for key, unit in (("fit", "s"), ("peak_mb", "MB")):
                    record(
                        results_file, section="sparse", workload=name, title=title, threads=1,
                        contender=f"{who} {key}", value=figure[key], unit=unit,
                    )  # fmt: skip
            ours, theirs = figures["fastbp"], figures["scikit-learn"]
            print(
                f"      scikit-learn's time {theirs['fit'] / ours['fit']:.1f}x fastbp's; "
                f"fastbp's peak memory {ours['peak_mb'] / theirs['peak_mb']:.2f}x scikit-learn's"
            )
            sys.stdout.flush()


def _run(code, environment):
    return child_result(code, environment, "a sparse fit failed")
