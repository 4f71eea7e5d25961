"""The user section of ``fastbp bench``: U1-U5, fastbp beside scikit-learn and PyTorch.

Runs in a pinned child process (``compare``). Each workload is first checked
(``user_checks``: the same losses from the same start, and falling ones); then every contender
is timed interleaved, per epoch. The peers fit ``peer_epochs`` (fewer on U5, where PyTorch's
loop on one-example batches is 40 times slower); ``--quick`` shortens every fit.
"""

import numpy as np

from fastbp.benchmarking.timing import print_table, record, time_interleaved
from fastbp.benchmarking.user_checks import check_user_workload
from fastbp.benchmarking.user_peers import CONTENDERS
from fastbp.benchmarking.user_workloads import USER_WORKLOADS

PEERS = ("sklearn", "torch")
QUICK_ROWS = 5_000
QUICK_EPOCHS = 2


def run_users(names, dtypes, peers, repeats, threads, quick, results_file):
    peers = [peer for peer in peers if peer in PEERS]
    print(f"{'workload':<10} {'contender':<10} {'ms/epoch':>12} {'x fastbp':>10}  epochs")
    for name in names:
        for dtype in dtypes[name]:
            workload = USER_WORKLOADS[name].with_dtype(dtype)
            if quick:
                workload = workload.shortened(QUICK_ROWS, min(workload.epochs, QUICK_EPOCHS))
            label = f"{name} {np.dtype(dtype).name.replace('float', 'f')}"
            print(f"{label}: {workload.title}; check: {check_user_workload(workload, peers)}")
            runs = {}
            for contender in ("fastbp", *peers):
                epochs = workload.epochs if contender == "fastbp" else workload.peer_epochs
                fitted = workload.with_epochs(min(epochs, workload.epochs))
                try:
                    runs[contender] = (CONTENDERS[contender](fitted, threads), fitted.epochs)
                except ImportError:
                    continue  # not installed
            medians = time_interleaved(runs, repeats)
            print_table(label, medians, 1e3, 3, {c: n for c, (_, n) in runs.items()})
            for contender, seconds in medians.items():
                record(
                    results_file,
                    section="users",
                    workload=label,
                    title=workload.title,
                    threads=threads,
                    contender=contender,
                    value=seconds,
                    unit="s/epoch",
                )
            print(flush=True)
