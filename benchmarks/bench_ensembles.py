"""asv benchmarks of ``fastbp.Ensemble``: N1-N2 (``fastbp bench``'s ensembles section) and
the README's example.

Per member-example visited: the ensemble at 1 and 2 threads, fastbp's loop of single fits
(N1 shortened to 200 epochs: its Python time per fit does not shrink with the epochs), and
the loop's time as a multiple of the ensemble's, the two interleaved in one run. ``setup``
runs one whole fit of each first, so no timing includes compilation.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import time  # noqa: E402

from fastbp.benchmarking.ensemble_section import (  # noqa: E402
    ENSEMBLE_WORKLOADS,
    prepare_ensemble,
    prepare_loop,
)

LOOP_EPOCHS = {"N1": 200, "N2": 3}


class TimeEnsembles:
    params = (["N1", "N2"], [1, 2])
    param_names = ["workload", "threads"]
    timeout = 300

    def setup(self, name, threads):
        self.workload = ENSEMBLE_WORKLOADS[name]
        self.fit_ensemble = prepare_ensemble(self.workload, threads)

    def time_ensemble(self, name, threads):
        self.fit_ensemble()

    def track_ensemble_ns_per_member_example(self, name, threads):
        return _ns(self.fit_ensemble, self.workload.units)

    track_ensemble_ns_per_member_example.unit = "ns/member-example"


class TrackLoopRatio:
    """fastbp's loop of single fits as a multiple of the ensemble's time (one thread)."""

    params = ["N1", "N2"]
    param_names = ["workload"]
    timeout = 300

    def setup(self, name):
        workload = ENSEMBLE_WORKLOADS[name]
        self.short = workload.with_epochs(LOOP_EPOCHS[name])
        self.fit_ensemble = prepare_ensemble(workload, 1)
        self.fit_loop = prepare_loop(self.short, 1)
        self.units = workload.units

    def track_loop_over_ensemble(self, name):
        ensemble = min(_ns(self.fit_ensemble, self.units) for _ in range(3))
        loop = min(_ns(self.fit_loop, self.short.units) for _ in range(3))
        return loop / ensemble

    track_loop_over_ensemble.unit = "x"


def _ns(run, units):
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) / units * 1e9


class TimeXorSeeds:
    """The README's ensemble example: the 11-line tutorial's XOR net from 100 seeds, full
    batch, 60,000 epochs, one thread (the written-out lanes whose forward pass calls exp)."""

    timeout = 300

    def setup(self):
        from fastbp import Ensemble, Trainer

        X = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
        y = [0, 1, 1, 0]

        def fit():
            ensemble = Ensemble.from_seeds(
                [3, 4, 1], seeds=range(100), activations="sigmoid", bias=False, init="uniform"
            )
            trainer = Trainer(
                ensemble, learning_rate=1.0, batch_size=None, reduction="sum", shuffle=False
            )
            trainer.fit(X, y, epochs=60_000, metrics=["mae"])

        self.fit = fit
        fit()  # compiles (or loads) the kernel outside the timing

    def time_fit(self):
        self.fit()

    def track_ns_per_member_example(self):
        return _ns(self.fit, 100 * 4 * 60_000)

    track_ns_per_member_example.unit = "ns/member-example"
