"""asv benchmarks of the latency a user sees: a first fit in a fresh interpreter.

``timeraw_`` benchmarks run their code in a new process: the first-fit cases of ``fastbp bench``
(``fastbp.benchmarking.first_fit``: W1 on the unrolled kernel, 64-128-10 per example with
momentum and plain, 784-256-10 with Adam in batches of 64, a softmax classifier with Adam,
the estimator on digits, the tutorials, the command). "cold" points Numba at an empty cache
folder with the prebuilt kernels left out, so the kernels compile; "installed" at an empty
one with them (a first fit after ``pip install``; as cold where the install has none);
"warm" at a folder ``setup`` filled. Each includes importing fastbp.
"""

import subprocess
import sys
import tempfile

from fastbp.benchmarking.first_fit import CASES, child_code


class FirstFit:
    params = (list(CASES), ["cold", "installed", "warm"])
    param_names = ["case", "cache"]
    number = 1
    repeat = 3
    timeout = 300

    def setup(self, case, cache):
        self.directory = tempfile.mkdtemp(prefix="fastbp-asv-cache-")
        if cache == "warm":
            code = child_code(case, self.directory, report=False)
            # Run beside the cache, not in a source checkout, whose fastbp/ (without its
            # kernels, which install as fastbp.kernels) would shadow the installed package.
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, cwd=self.directory
            )

    def timeraw_first_fit(self, case, cache):
        if cache == "warm":
            return child_code(case, self.directory, report=False)
        # A cache folder no earlier repeat has filled.
        empty = tempfile.mkdtemp(prefix=f"fastbp-asv-{cache}-")
        return child_code(case, empty, report=False, prebuilt=cache == "installed")
