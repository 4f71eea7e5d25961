"""The estimator section of ``fastbp bench``: ``fastbp.sklearn.MLPClassifier`` beside
scikit-learn's own, the same parameters, in the same (pinned) child process.

- E0: scikit-learn's defaults on digits as ``load_digits`` returns it (adam, batches of
  ``min(200, n)``, relu, 100 hidden units, shuffled epochs, stopping on ``tol``), from
  ``random_state=0``: the fit a user switching the import line runs;
- E1-E5: the user workloads U1-U5 (``user_workloads``) through the estimators, with the
  settings of the user section's scikit-learn contender (batches in order, no L2, every
  epoch run).

Each workload is checked first: both estimators must train the same epochs to the same
``loss_curve_`` (relative 1e-9). Then both fits are timed interleaved, and reported per
epoch with scikit-learn's time as a multiple of fastbp's.
"""

import warnings

import numpy as np

from fastbp.benchmarking.timing import print_table, record, time_interleaved
from fastbp.benchmarking.user_peers import sklearn_settings
from fastbp.benchmarking.user_workloads import USER_WORKLOADS

WORKLOADS = ("E0", "E1", "E2", "E3", "E4", "E5")
QUICK_ROWS = 2_000
QUICK_EPOCHS = 2
E0_TITLE = "digits (raw), scikit-learn's defaults: adam, batch auto, relu, 100 units"


def workload(name, quick=False):
    """``(title, X, y, parameters)`` of an estimator workload."""
    if name == "E0":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        parameters = {"random_state": 0}
        if quick:
            parameters["max_iter"] = QUICK_EPOCHS
        return E0_TITLE, X, y, parameters
    user = USER_WORKLOADS["U" + name[1:]]
    if quick:
        user = user.shortened(QUICK_ROWS, min(user.epochs, QUICK_EPOCHS))
    X, y = user.data()
    return f"{user.name} through the estimators: {user.title}", X, y, sklearn_settings(user)


def estimator_classes():
    from sklearn.neural_network import MLPClassifier as SklearnClassifier

    from fastbp.sklearn import MLPClassifier

    return {"fastbp": MLPClassifier, "sklearn": SklearnClassifier}


def _fit(estimator, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def fitter(cls, X, y, parameters):
    """A function that fits a new ``cls(**parameters)`` on ``(X, y)`` and returns it."""
    return lambda: _fit(cls(**parameters), X, y)


def check(X, y, parameters):
    """Fit both once (which also compiles or loads fastbp's kernels): their epochs, and
    whether their loss curves agree."""
    fitted = {name: _fit(cls(**parameters), X, y) for name, cls in estimator_classes().items()}
    ours, theirs = fitted["fastbp"], fitted["sklearn"]
    same = ours.n_iter_ == theirs.n_iter_ and np.allclose(
        ours.loss_curve_, theirs.loss_curve_, rtol=1e-9, atol=0
    )
    verdict = "same loss_curve_ to 1e-9" if same else "LOSS CURVES DIFFER"
    return ours.n_iter_, f"{verdict} ({ours.n_iter_} and {theirs.n_iter_} epochs)"


def run_estimators(names, repeats, threads, quick, results_file):
    """Check and time each estimator workload in ``names``; print and record the results."""
    print(f"{'workload':<10} {'contender':<10} {'ms/epoch':>12} {'x fastbp':>10}  epochs")
    for name in names:
        title, X, y, parameters = workload(name, quick)
        epochs, verdict = check(X, y, parameters)
        print(f"{name}: {title}; check: {verdict}")
        runs = {
            contender: (fitter(cls, X, y, parameters), epochs)
            for contender, cls in estimator_classes().items()
        }
        medians = time_interleaved(runs, repeats)
        print_table(name, medians, 1e3, 3, dict.fromkeys(medians, epochs))
        for contender, seconds in medians.items():
            record(
                results_file,
                section="estimators",
                workload=name,
                title=title,
                threads=threads,
                contender=contender,
                value=seconds,
                unit="s/epoch",
            )
        print(flush=True)
