"""fastbp beside the NumPy reference, JAX, PyTorch and scikit-learn, and its first-fit latency.

Seven sections, each selectable (``--sections``) and each made of workloads that can be picked
one by one (``--workloads W4,U1,F2``):

- kernels (W1-W4): ns per example visited, beside the reference, JAX, PyTorch and
  scikit-learn; every peer's weights checked against the reference's first
  (``kernel_section``);
- features (W3-momentum ... W3-sample-weights): fastbp on W3 (64-128-10 per example) with each
  training feature, as a multiple of plain SGD's time (``kernel_section.run_features``);
- users (U1-U5): seconds per epoch on what tabular users train, beside scikit-learn's
  MLPClassifier and a plain PyTorch loop; same losses from the same start checked first
  (``user_section``);
- estimators (E0-E5): ``fastbp.sklearn.MLPClassifier`` beside scikit-learn's, seconds per
  epoch, on scikit-learn's defaults on digits (E0) and on U1-U5 (E1-E5); the same loss
  curves checked first (``estimator_section``);
- ensembles (N1-N2): many networks of one shape trained at once, ``fastbp.Ensemble`` beside
  fastbp's loop of single fits and JAX's ``vmap`` of a whole-fit ``jit``, per member-example
  (``ensemble_section``);
- first-fit (F1-F10): seconds of a first fit in a fresh process, cold, installed and warm
  Numba cache, and where the cold one's compiling went; scikit-learn's own fit beside the
  estimator's cases (``first_fit``);
- sparse (S1-S3): ``fastbp.sklearn.MLPClassifier`` beside scikit-learn's on text-like CSR
  input, seconds and peak memory, each fit in a fresh process (``sparse_section``).

Every contender of a thread count runs in one child process, interleaved: each repeat times
every contender once, in turn, so a change in the machine's load hits them all alike. Threads
are pinned alike for all: the child's CPU affinity and its BLAS, OpenMP, Numba, XLA and
PyTorch thread counts are set to the count before anything is imported. Peers that are not
installed are skipped (``pip install ".[peers]"`` in a clone of fastbp). ``--plot PATH``
draws the results, ``--json PATH`` saves them.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from fastbp.benchmarking.timing import read_records
from fastbp.benchmarking.workloads import W3_FEATURES

PEERS = ("reference", "jax", "torch", "sklearn")
SECTIONS = {
    "kernels": ("W1", "W2", "W3", "W4"),
    "features": tuple(W3_FEATURES),
    "users": ("U1", "U2", "U3", "U4", "U5"),
    "estimators": ("E0", "E1", "E2", "E3", "E4", "E5"),
    "ensembles": ("N1", "N2"),
    "first-fit": ("F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10"),
    "sparse": ("S1", "S2", "S3"),
}
# Above one thread, unless --workloads names others: the FLOP-bound workloads.
MULTI_THREAD_DEFAULT = ("W4", "U4", "E4", "N1")
DTYPES = ("float64", "float32")
# Variables some machines set to make older OpenBLAS builds pick a safe, older kernel.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def main(argv=None):
    args = _parser().parse_args(argv)
    sections, workloads = _selection(args.sections, args.workloads)
    peers = _names(args.peers, PEERS, "--peers")
    dtypes = _names(args.dtypes, DTYPES, "--dtypes") if args.dtypes else None
    if args.child:
        return _child(args, sections, workloads, peers, dtypes)
    if args.repeats < 1 or args.first_fit_repeats < 1:
        raise SystemExit("fastbp bench: --repeats and --first-fit-repeats take at least 1")
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (before a long run, not after it)
        except ImportError:
            raise SystemExit(
                'fastbp bench: --plot needs matplotlib: pip install ".[plot]" in a clone of fastbp'
            ) from None
    dropped = [f"{v}={os.environ[v]}" for v in OPENBLAS_OVERRIDES if v in os.environ]
    if dropped:
        print("Unset for the benchmarks (see _pinned_environment):", ", ".join(dropped))
    with tempfile.TemporaryDirectory(prefix="fastbp-bench-") as directory:
        results_file = os.path.join(directory, "results.jsonl")
        status = _run_children(args, sections, workloads, results_file)
        if "first-fit" in sections:
            from fastbp.benchmarking.first_fit import run_first_fits

            print("\nFirst fit, fresh interpreter on one core, median of", args.first_fit_repeats)
            run_first_fits(
                workloads["first-fit"],
                args.first_fit_repeats,
                _pinned_environment(1),
                results_file,
            )
        if "sparse" in sections:
            from fastbp.benchmarking.sparse_section import run_sparse

            print("\nSparse input, each fit in a fresh interpreter on one core")
            run_sparse(workloads["sparse"], _pinned_environment(1), results_file)
        records = read_records(results_file) if os.path.exists(results_file) else []
    if args.json:
        with open(args.json, "w") as file:
            json.dump(records, file, indent=1)
    if args.plot:
        from fastbp.benchmarking.plot import plot_results

        plot_results(records, args.plot)
        print(f"plot written to {args.plot}")
    return status


def _parser():
    parser = argparse.ArgumentParser(prog="fastbp bench", description=__doc__.splitlines()[0])
    every = [name for names in SECTIONS.values() for name in names]
    parser.add_argument(
        "--sections", help="comma-separated, of " + " ".join(SECTIONS) + " (default: all)"
    )
    parser.add_argument(
        "--workloads",
        help="comma-separated, of " + " ".join(every) + " (default: all of the sections)",
    )
    parser.add_argument(
        "--peers", default=",".join(PEERS), help="comma-separated, of " + " ".join(PEERS)
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median reported)")
    parser.add_argument(
        "--first-fit-repeats", type=int, default=1, help="fresh-process repeats of a first fit"
    )
    parser.add_argument(
        "--threads",
        default="1",
        help="thread counts to run at, e.g. 1,2 (above 1: "
        f"{', '.join(MULTI_THREAD_DEFAULT)} unless --workloads names others)",
    )
    parser.add_argument(
        "--dtypes",
        help="comma-separated, of float64 float32 (default: both for W4, float64 elsewhere)",
    )
    parser.add_argument("--quick", action="store_true", help="shortened fits for every contender")
    parser.add_argument("--plot", metavar="PATH", help="draw the results as bar charts (PNG, SVG)")
    parser.add_argument("--json", metavar="PATH", help="save the results as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    return parser


def _names(text, valid, option):
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if valid is not None and name not in valid:
            raise SystemExit(f"fastbp bench: {option} takes {', '.join(valid)}; got {name!r}")
        if valid is None and not (name.isdigit() and int(name) >= 1):
            raise SystemExit(f"fastbp bench: {option} takes positive integers; got {name!r}")
    return names


def _selection(sections_text, workloads_text):
    """The sections to run and, for each, its chosen workloads, in the sections' order.

    Named workloads choose their sections; named sections without workloads run all of
    theirs; both named, a section runs the named workloads it holds.
    """
    every = [name for names in SECTIONS.values() for name in names]
    chosen = _names(workloads_text, every, "--workloads") if workloads_text else None
    if sections_text:
        sections = _names(sections_text, tuple(SECTIONS), "--sections")
    elif chosen:
        sections = [s for s, names in SECTIONS.items() if any(n in names for n in chosen)]
    else:
        sections = list(SECTIONS)
    workloads = {}
    for section in SECTIONS:
        if section in sections:
            names = [n for n in SECTIONS[section] if chosen is None or n in chosen]
            if names:
                workloads[section] = names
    if not workloads:
        raise SystemExit("fastbp bench: no workload of --workloads is in --sections")
    return list(workloads), workloads


def _run_children(args, sections, workloads, results_file):
    status = 0
    for threads in (int(t) for t in _names(args.threads, None, "--threads")):
        chosen = []
        for section in ("kernels", "features", "users", "estimators", "ensembles"):
            names = workloads.get(section, [])
            if threads > 1 and (section == "features" or not args.workloads):
                names = [n for n in names if n in MULTI_THREAD_DEFAULT]
            chosen += names
        if not chosen:
            continue
        command = [sys.executable, "-m", "fastbp.benchmarking.compare", "--child", str(threads)]
        command += ["--workloads", ",".join(chosen), "--peers", args.peers]
        command += ["--repeats", str(args.repeats), "--results", results_file]
        command += ["--dtypes", args.dtypes] if args.dtypes else []
        command += ["--quick"] if args.quick else []
        status = max(status, subprocess.run(command, env=_pinned_environment(threads)).returncode)
    return status


def _pinned_environment(threads):
    """The environment of a child pinned to ``threads``: the same count for every library.

    OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are dropped, both together. Some machines set them
    so that older OpenBLAS builds, which crash or compute wrongly on their processor, pick an
    older, safe kernel; NumPy's and SciPy's current OpenBLAS (0.3.30 and later) detect the
    processor themselves, and under the override run a slower kernel than a user's install
    would. The child prints which kernel OpenBLAS runs (threadpoolctl), and the checks before
    the timings (weights against the reference, losses against scikit-learn's) catch a wrong
    result. Tests and CI keep the variables as they are.
    """
    environment = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[variable] = str(threads)
    environment["NUMBA_NUM_THREADS"] = str(threads)
    multi = "true" if threads > 1 else "false"
    # Read by XLA when JAX is first imported: it must be in the environment before that.
    environment["XLA_FLAGS"] = (
        f"--xla_cpu_multi_thread_eigen={multi} intra_op_parallelism_threads={threads}"
    )
    return environment


def _child(args, sections, workloads, peers, dtypes):
    threads = args.child
    cpus = sorted(os.sched_getaffinity(0))[:threads]
    os.sched_setaffinity(0, cpus)

    import numpy as np

    print(f"\n{threads} thread(s), CPUs {cpus}, median of {args.repeats} after a warm-up")
    print(_blas_line(threads))

    def dtypes_of(name):
        if dtypes:
            return [np.dtype(d).type for d in dtypes]
        return [np.float64, np.float32] if name == "W4" else [np.float64]

    if "kernels" in workloads:
        from fastbp.benchmarking.kernel_section import run_kernels

        names = workloads["kernels"]
        run_kernels(
            names,
            {n: dtypes_of(n) for n in names},
            peers,
            args.repeats,
            threads,
            args.quick,
            args.results,
        )
    if "features" in workloads:
        from fastbp.benchmarking.kernel_section import run_features

        run_features(workloads["features"], args.repeats, args.results)
    if "users" in workloads:
        from fastbp.benchmarking.user_section import run_users

        names = workloads["users"]
        run_users(
            names,
            {n: dtypes_of(n) for n in names},
            peers,
            args.repeats,
            threads,
            args.quick,
            args.results,
        )
    if "estimators" in workloads:
        from fastbp.benchmarking.estimator_section import run_estimators

        run_estimators(workloads["estimators"], args.repeats, threads, args.quick, args.results)
    if "ensembles" in workloads:
        from fastbp.benchmarking.ensemble_section import run_ensembles

        run_ensembles(
            workloads["ensembles"], peers, args.repeats, threads, args.quick, args.results
        )
    return 0


def _blas_line(threads):
    """Which BLAS kernels and how many threads NumPy and scikit-learn run (threadpoolctl,
    which scikit-learn brings)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: threadpoolctl not installed (it comes with scikit-learn)"
    import numpy  # noqa: F401  (loads its BLAS, for threadpoolctl to see)

    pools = [
        f"{pool['internal_api']} {pool.get('version')} {pool.get('architecture', '')} "
        f"x{pool['num_threads']} ({pool['prefix']})"
        for pool in threadpool_info()
    ]
    return "BLAS and OpenMP pools: " + "; ".join(pools)


if __name__ == "__main__":
    sys.exit(main())
