"""asv benchmarks of sparse input: issue 27's cases, fastbp's estimator beside scikit-learn's.

Each figure is one fit in a fresh interpreter pinned to one core
(``fastbp.benchmarking.sparse_section``): its seconds, and the process's peak resident
memory. fastbp's kernels are compiled in ``setup``, in an earlier process. scikit-learn's
per-example fits (S2, S3) take about three minutes each.
"""

import os
import tempfile

from fastbp.benchmarking import sparse_section


class SparseFit:
    params = (list(sparse_section.CASES), list(sparse_section.CONTENDERS))
    param_names = ["case", "contender"]
    number = 1
    repeat = 1
    timeout = 600

    def setup(self, case, contender):
        cache = tempfile.mkdtemp(prefix="fastbp-asv-sparse-")
        self.environment = {**os.environ, "NUMBA_CACHE_DIR": cache}
        if contender == "fastbp":
            sparse_section._run(sparse_section.child_code(case, "fastbp", 300), self.environment)
        self.figures = sparse_section._run(
            sparse_section.child_code(case, contender), self.environment
        )

    def track_fit_seconds(self, case, contender):
        return self.figures["fit"]

    track_fit_seconds.unit = "s"

    def track_peak_memory(self, case, contender):
        return self.figures["peak_mb"]

    track_peak_memory.unit = "MB"
