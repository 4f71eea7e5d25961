"""fastbp beside the NumPy reference and the peers on W1-W4; the same as ``fastbp bench``.

Run ``python benchmarks/compare.py --help`` for the options (threads, repeats, peers).
"""

import sys

from fastbp.benchmarking.compare import main

if __name__ == "__main__":
    sys.exit(main())
