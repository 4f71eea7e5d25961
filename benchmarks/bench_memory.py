"""Peak memory of a fit on a 1,000,000 x 100 float64 data set (800 MB), as a multiple of it.

The fit must not copy X (already float64 and C-contiguous) nor build whole-array temporaries:
the target is a peak under 1.3x the data. Measured in a fresh process
(fastbp.benchmarking.memory), because a process's peak memory never goes down.
"""

import json
import subprocess
import sys


class LargeData:
    timeout = 600

    def track_peak_memory_over_data_size(self):
        result = subprocess.run(
            [sys.executable, "-m", "fastbp.benchmarking.memory"],
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
        return json.loads(line.removeprefix("RESULT "))["ratio"]

    track_peak_memory_over_data_size.unit = "x data"
