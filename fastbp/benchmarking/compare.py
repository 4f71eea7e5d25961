"""fastbp beside the NumPy reference, JAX, PyTorch and scikit-learn on the workloads W1-W4.

Every contender runs in one process per thread count, interleaved: each repeat times every
contender once, in turn, so that a change in the machine's load hits them all alike. The
JIT and the peers are warmed up first, and before anything is timed, fastbp's final weights
must equal the reference's on a shortened fit of each workload. Slow contenders (the
reference, PyTorch's and scikit-learn's Python loops) run shortened fits; every figure is
reported per example visited. Peers that are not installed are skipped (``pip install
"fastbp[peers]"``).

Threads are pinned: each thread count runs in a child process whose CPU affinity, BLAS,
OpenMP, XLA and PyTorch thread counts are all set to it before anything is imported.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PEERS = ("reference", "jax", "torch", "sklearn")
# Examples visited by one shortened fit of the slow contenders.
SHORT_FIT = {"W1": 2_000, "W2": 2_000, "W3": 3_000, "W4": 6_400}
SLOW = ("reference", "torch", "sklearn")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastbp bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--workloads", default="W1,W2,W3,W4", help="comma-separated, of W1 W2 W3 W4"
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated, of " + " ".join(PEERS)
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median reported)")
    parser.add_argument(
        "--threads", default="1", help="thread counts to run at, e.g. 1,2 (W4 only above 1)"
    )
    parser.add_argument("--quick", action="store_true", help="shortened fits for every contender")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workloads = _names(args.workloads, ("W1", "W2", "W3", "W4"), "--workloads")
    peers = _names(args.peers, PEERS, "--peers")
    if args.child:
        return _run(workloads, peers, args.repeats, args.child, args.quick)

    status = 0
    for threads in _names(args.threads, None, "--threads"):
        threads = int(threads)
        chosen = workloads if threads == 1 else [name for name in workloads if name == "W4"]
        if not chosen:
            continue
        command = [sys.executable, "-m", "fastbp.benchmarking.compare", "--child", str(threads)]
        command += ["--workloads", ",".join(chosen), "--peers", ",".join(peers)]
        command += ["--repeats", str(args.repeats)] + (["--quick"] if args.quick else [])
        status = max(status, subprocess.run(command, env=_pinned_environment(threads)).returncode)
    return status


def _names(text, valid, option):
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if valid is not None and name not in valid:
            raise SystemExit(f"fastbp bench: {option} takes {', '.join(valid)}; got {name!r}")
        if valid is None and not (name.isdigit() and int(name) >= 1):
            raise SystemExit(f"fastbp bench: {option} takes positive integers; got {name!r}")
    return names


def _pinned_environment(threads):
    environment = dict(os.environ)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[variable] = str(threads)
    environment["NUMBA_NUM_THREADS"] = str(threads)
    multi = "true" if threads > 1 else "false"
    environment["XLA_FLAGS"] = (
        f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
    )
    return environment


def _run(workload_names, peers, repeats, threads, quick):
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)

    import numpy as np

    from fastbp.benchmarking.peers import CONTENDERS
    from fastbp.benchmarking.workloads import WORKLOADS

    print(f"\n{threads} thread(s), CPUs {cpus}, median of {repeats} after a warm-up")
    print(f"{'workload':<10} {'contender':<10} {'ns/example':>12} {'x fastbp':>10}  examples")
    for name in workload_names:
        dtypes = (np.float64, np.float32) if name == "W4" else (np.float64,)
        for dtype in dtypes:
            workload = WORKLOADS[name].with_dtype(dtype)
            label = f"{name} {np.dtype(dtype).name.replace('float', 'f')}"
            _check_against_reference(workload.shortened(SHORT_FIT[name]), CONTENDERS)
            runs = {}
            for contender in ("fastbp", *peers):
                fitted = (
                    workload.shortened(SHORT_FIT[name]) if quick or contender in SLOW else workload
                )
                try:
                    run = CONTENDERS[contender](fitted, threads)
                except ImportError:
                    continue  # not installed
                if run is not None:
                    runs[contender] = (run, fitted.n_examples)
            times = {contender: [] for contender in runs}
            for _ in range(repeats):
                for contender, (run, n_examples) in runs.items():
                    started = time.perf_counter()
                    run()
                    times[contender].append((time.perf_counter() - started) / n_examples)
            fastbp_ns = statistics.median(times["fastbp"]) * 1e9
            for contender, seconds in times.items():
                ns = statistics.median(seconds) * 1e9
                ratio = "" if contender == "fastbp" else f"{ns / fastbp_ns:9.2f}x"
                print(f"{label:<10} {contender:<10} {ns:12.1f} {ratio:>10}  {runs[contender][1]}")
                print(
                    "RESULT "
                    + json.dumps(
                        {"workload": label, "threads": threads, "contender": contender, "ns": ns}
                    ),
                    file=sys.stderr,
                )
            sys.stdout.flush()
    return 0


def _check_against_reference(workload, contenders):
    """fastbp's weights after a shortened fit equal the reference's (to 1e-9 in float64; in
    float32, to the spread of two float32 orders of summation)."""
    import numpy as np

    tolerance = 1e-9 if workload.dtype == np.float64 else 1e-4
    fastbp_weights = contenders["fastbp"](workload, 1)()
    reference_weights = contenders["reference"](workload, 1)()
    for actual, wanted in zip(fastbp_weights, reference_weights, strict=True):
        np.testing.assert_allclose(
            actual,
            wanted,
            rtol=tolerance,
            atol=tolerance * np.abs(wanted).max(),
            err_msg=f"{workload.name}: fastbp's weights differ from the reference's",
        )


if __name__ == "__main__":
    sys.exit(main())
