"""asv benchmarks of the latency a user sees: the first W1 fit in a fresh interpreter.

``timeraw_`` benchmarks run their code in a new process. "cold" points Numba at an empty
cache directory, so the kernel compiles; "warm" fills a cache directory in ``setup`` and then
loads from it. Both include importing fastbp.
"""

import subprocess
import sys
import tempfile

FIRST_FIT = """
import os
os.environ["NUMBA_CACHE_DIR"] = {cache!r}
from fastbp.benchmarking.workloads import W1
X, Y = W1.data()
network = W1.network()
W1.trainer(network).fit(X, Y, epochs=W1.epochs)
"""


class FirstFit:
    params = ["cold", "warm"]
    param_names = ["cache"]
    number = 1
    repeat = 3
    timeout = 120

    def setup(self, cache):
        self.directory = tempfile.mkdtemp(prefix="fastbp-asv-cache-")
        if cache == "warm":
            code = FIRST_FIT.format(cache=self.directory)
            subprocess.run([sys.executable, "-c", code], check=True)

    def timeraw_first_w1_fit(self, cache):
        if cache == "warm":
            return FIRST_FIT.format(cache=self.directory)
        # A cache directory no earlier repeat has filled.
        return FIRST_FIT.format(cache=tempfile.mkdtemp(prefix="fastbp-asv-cold-"))
