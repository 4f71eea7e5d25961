"""Peak memory of a fit on a large data set, as a multiple of the data's size.

Run as ``python -m fastbp.benchmarking.memory [--rows N] [--columns M]``, in a process of its
own, since a process's peak resident memory (``ru_maxrss``) only ever grows. The baseline is
the resident memory after imports and compilation, before the data is made; the figure
reported is ``(peak - baseline) / X.nbytes``: the data itself counts as 1.
"""

import argparse
import json
import resource

import numpy as np

from fastbp import Network, Trainer


def resident_bytes():
    """The process's current resident memory (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * resource.getpagesize()


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def measure(rows, columns):
    """Fit one epoch of a (columns)-16-1 network on standard normal data; return figures."""
    network = Network([columns, 16, 1], seed=0)
    Trainer(network, batch_size=32, seed=0).fit(np.zeros((64, columns)), np.zeros(64))
    baseline = resident_bytes()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, columns))  # allocated once, no temporaries
    y = X[:, 0] - 0.5 * X[:, 1]
    Trainer(network, batch_size=32, seed=0).fit(X, y, epochs=1)
    extra = peak_bytes() - baseline
    return {
        "rows": rows,
        "columns": columns,
        "data_mb": X.nbytes / 1e6,
        "peak_over_baseline_mb": extra / 1e6,
        "ratio": extra / X.nbytes,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=100)
    args = parser.parse_args(argv)
    figures = measure(args.rows, args.columns)
    print(
        f"{figures['rows']:,} x {figures['columns']} float64 ({figures['data_mb']:.0f} MB): "
        f"peak {figures['peak_over_baseline_mb']:.0f} MB above the baseline, "
        f"{figures['ratio']:.3f}x the data"
    )
    print("RESULT " + json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
