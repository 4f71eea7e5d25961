"""``fastbp compile``: compile the kernels of the common kinds of fit ahead, into Numba's cache.

A kind of fit's first run in a fresh environment compiles its kernels (seconds); every later
run, in any process that shares the cache, loads them (milliseconds). Compiling ahead moves
that wait to a moment the user chooses: once after installing, in a container image's build
(so every container starts warm), or before a Dask or joblib search (so no worker compiles).

Each case below is a small fit of one common kind, run in a worker process: the same
settings, network kinds and dtypes as the real fits, so the real fits choose the same
kernels and find them in the cache. A kernel's choice never depends on the cache: compiling
ahead changes only when the compiling happens.

Workers run side by side, one per core by default. Numba saves a function's compiled
versions under one index file per function, rewritten whole on each save, so two processes
saving versions of one function at once could each drop the other's entry, or point it at
the other's file; the workers take turns at that step (a lock file), and compile in parallel.
"""

import contextlib
import io
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import numpy as np

from fastbp._kernels import usable_cpus

try:
    import fcntl

    _CAN_LOCK = True
except ImportError:  # Windows
    _CAN_LOCK = False

# A network is "wide" when its largest layer has at least fastbp._kernels.MATRIX_MIN_WEIGHTS
# weights (the matrix kernel's), "narrow" otherwise (the generic kernel's).
_WIDE_INPUTS = 64
_NARROW_INPUTS = 8


def _data(n_inputs, n_examples=240, classes=None, seed=0):
    """Standard-normal inputs, and targets: class labels 0..classes-1, or two regression
    columns when ``classes`` is None."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_examples, n_inputs))
    if classes is None:
        return X, X[:, :2] @ [[1.0, 0.5], [-0.5, 1.0]]
    return X, rng.integers(0, classes, n_examples)


def _estimators(*variants):
    """The estimators with each of ``variants`` (parameters beside their defaults): a
    multiclass classifier and a one-output regressor (whose loss the kernel tallies per
    output), on wide and on narrow inputs. The kernels differ by solver, optimizer, L2 or
    none, batch size 1 or more, validation and dtype; activations and losses are read at
    run time."""
    from fastbp.sklearn import MLPClassifier, MLPRegressor

    for variant in variants:
        params = {"max_iter": 3, "random_state": 0, **variant}
        for n_inputs in (_WIDE_INPUTS, _NARROW_INPUTS):
            MLPClassifier(**params).fit(*_data(n_inputs, classes=10))
            X, y = _data(n_inputs)
            MLPRegressor(**params).fit(X, y[:, 0])


def _sparse_estimators(*variants):
    """The estimators with each of ``variants`` on sparse (CSR) inputs, which every solver
    trains on the matrix path whatever the network's width."""
    import scipy.sparse

    from fastbp.sklearn import MLPClassifier, MLPRegressor

    for variant in variants:
        params = {"max_iter": 3, "random_state": 0, **variant}
        X, labels = _data(_WIDE_INPUTS, classes=10)
        X = scipy.sparse.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
        MLPClassifier(**params).fit(X, labels)
        MLPRegressor(**params).fit(X, X[:, 0].toarray().ravel())


def _trainer(batch_size, dtype=np.float64, **settings):
    """``Trainer``'s defaults but ``batch_size`` and ``settings``: a softmax classifier and a
    regression, on a wide and on a narrow network; and ``predict`` on each size."""
    from fastbp import Network, Trainer

    for n_inputs in (_WIDE_INPUTS, _NARROW_INPUTS):
        X, labels = _data(n_inputs, classes=10)
        net = Network([n_inputs, 100, 10], activations=["relu", "softmax"], seed=0, dtype=dtype)
        Trainer(net, batch_size=batch_size, loss="cross_entropy", seed=0, **settings).fit(
            X, labels, epochs=2
        )
        net.predict(X[:2])  # predict's kernel for the network's size
        X, y = _data(n_inputs)
        net = Network([n_inputs, 100, 2], activations=["relu", "identity"], seed=0, dtype=dtype)
        Trainer(net, batch_size=batch_size, seed=0, **settings).fit(X, y, epochs=2)


def _tutorials():
    """Each seed tutorial's network as ``fastbp train --dataset NAME`` trains it."""
    from fastbp import cli, datasets

    for name in datasets.TUTORIALS:
        with contextlib.redirect_stdout(io.StringIO()):
            cli.main(["train", "--dataset", name, "--quiet"])


def _first_fits():
    """The cases of ``fastbp bench``'s first-fit section (F1-F6), as they are written."""
    from fastbp.benchmarking import first_fit

    for case in first_fit.PATH_CASES:
        code = first_fit.child_code(case, report=False, pinned=False)
        exec(compile(code, f"<first fit {case}>", "exec"), {})


# name: (what it compiles, the function that runs it, its arguments: a list of positional
# ones or a dict of keywords)
CASES = {
    "estimators": (
        "fastbp.sklearn's MLPClassifier and MLPRegressor at their defaults (adam)",
        _estimators,
        [{}],
    ),
    "estimators-variants": (
        "the estimators with alpha=0, and with batch_size=1",
        _estimators,
        [{"alpha": 0.0}, {"batch_size": 1}],
    ),
    "estimators-sgd": (
        "the estimators with solver='sgd': Nesterov's momentum, momentum, none; alpha=0",
        _estimators,
        [
            {"solver": "sgd"},
            {"solver": "sgd", "nesterovs_momentum": False},
            {"solver": "sgd", "momentum": 0.0},
            {"solver": "sgd", "alpha": 0.0},
        ],
    ),
    "estimators-lbfgs": ("the estimators with solver='lbfgs'", _estimators, [{"solver": "lbfgs"}]),
    "estimators-early-stopping": (
        "the estimators with early_stopping=True",
        _estimators,
        [{"early_stopping": True}],
    ),
    "estimators-sparse": (
        "the estimators on sparse (CSR) input: at their defaults, and per-example SGD",
        _sparse_estimators,
        [{}, {"solver": "sgd", "momentum": 0.0, "batch_size": 1}],
    ),
    "estimators-float32": (
        "the estimators at their defaults in float32",
        _estimators,
        [{"dtype": "float32"}],
    ),
    "trainer": ("Trainer's defaults: mini-batches of 32, SGD", _trainer, {"batch_size": 32}),
    "trainer-adam": (
        "Trainer in mini-batches with Adam",
        _trainer,
        {"batch_size": 32, "optimizer": "adam"},
    ),
    "trainer-float32": (
        "Trainer's defaults in float32",
        _trainer,
        {"batch_size": 32, "dtype": np.float32},
    ),
    "per-example": ("per-example SGD (batch_size=1)", _trainer, {"batch_size": 1}),
    "full-batch": ("full batch (batch_size=None)", _trainer, {"batch_size": None}),
    "tutorials": (
        "the seed tutorials' networks, as `fastbp train --dataset` trains them",
        _tutorials,
        {},
    ),
    "first-fits": ("the cases of `fastbp bench`'s first-fit section (F1-F6)", _first_fits, {}),
}


def compile_kernels(cases=None, workers=None, progress=True, stream=None):
    """Compile the kernels of the common kinds of fit into Numba's cache, ahead of the fits.

    Parameters
    ----------
    cases : list of str, optional
        Names of ``CASES`` (``fastbp compile --list`` shows them); every case by default.
    workers : int, optional
        Worker processes, each compiling one case at a time; by default one per CPU this
        process may use, at most one per case. With 1, the cases run in this process.
    progress : bool, default True
        Write a line to ``stream`` as each case ends.
    stream : file, default sys.stderr

    Returns
    -------
    dict
        The seconds each case took, by name.
    """
    names = list(CASES) if cases is None else list(cases)
    unknown = [name for name in names if name not in CASES]
    if unknown:
        raise ValueError(f"cases must be among {', '.join(CASES)}; got {', '.join(unknown)}")
    if workers is None:
        workers = usable_cpus()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    workers = min(workers, len(names))
    if not _CAN_LOCK:
        workers = 1  # no file locks to take turns at Numba's cache with (Windows)
    stream = sys.stderr if stream is None else stream
    report = _Report(len(names), progress, stream)
    report.start(workers)
    seconds = {}
    if workers == 1:  # in this process: a Dask worker, say, which may not start processes
        for name in names:
            seconds[name] = _run_case(name)
            report.case(name, seconds[name])
        return seconds
    with tempfile.TemporaryDirectory(prefix="fastbp-compile-") as directory:
        lock = os.path.join(directory, "cache.lock")
        with ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(lock,)
        ) as pool:
            running = {pool.submit(_run_case, name): name for name in names}
            for done in as_completed(running):
                seconds[running[done]] = done.result()
                report.case(running[done], seconds[running[done]])
    return {name: seconds[name] for name in names}


# The kinds of fit compiled into fastbp's wheel as it is built (``prebuild``): every case but
# float32's and sparse input's, which would add half again to the compile time of every
# ``pip install`` (18 s of CPU for the sparse case alone) for kinds that few first fits use
# (``fastbp compile`` compiles them, as any kind, on request).
PREBUILT_CASES = tuple(name for name in CASES if not name.endswith(("float32", "sparse")))


def prebuild(workers=None):
    """Compile ``PREBUILT_CASES`` into this package's prebuilt kernels, for a wheel being built.

    Run by ``fastbp._build`` in the built package, with an empty ``NUMBA_CACHE_DIR`` and
    the prebuilt kernels switched off: the cases compile into a fresh cache folder
    (``fastbp.kernels.cache.directory()``), whose compiled kernels are then copied to
    ``fastbp.kernels.cache.PREBUILT``, from which every fresh cache folder of this version is
    seeded. The estimators' cases are left out where scikit-learn is not installed.
    """
    import importlib.util
    import shutil

    from fastbp.kernels import cache

    names = [
        name
        for name in PREBUILT_CASES
        if importlib.util.find_spec("sklearn") or not name.startswith("estimators")
    ]
    compile_kernels(names, workers)
    shutil.rmtree(os.path.dirname(cache.PREBUILT), ignore_errors=True)  # an earlier build's
    os.makedirs(cache.PREBUILT)
    compiled = cache.directory()
    for name in os.listdir(compiled):
        if name.endswith((".nbi", ".nbc")):  # not the generated sources: a fit writes them
            shutil.copyfile(os.path.join(compiled, name), os.path.join(cache.PREBUILT, name))


class _Report:
    """A line per case done: a bar of the cases done, the case and its seconds."""

    WIDTH = 24

    def __init__(self, total, enabled, stream):
        self.total, self.enabled, self.stream, self.done = total, enabled, stream, 0

    def start(self, workers):
        from fastbp._compile_notice import cache_location

        where = f"on {workers} workers" if workers > 1 else "in this process"
        kinds = "kind" if self.total == 1 else "kinds"
        self._write(f"fastbp compile: {self.total} {kinds} of fit {where}, into {cache_location()}")

    def case(self, name, seconds):
        self.done += 1
        filled = self.WIDTH * self.done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        count = f"{self.done:>{len(str(self.total))}}/{self.total}"
        self._write(f"[{bar}] {count}  {name} ({seconds:.1f} s)")

    def _write(self, line):
        if self.enabled:
            self.stream.write(line + "\n")
            self.stream.flush()


def _start_worker(lock):
    """Set up a worker process, once: it takes turns at Numba's cache with the others
    (``lock``), and gives no compile notice (the command reports progress itself)."""
    from fastbp import _compile_notice

    _take_turns_saving(lock)
    _compile_notice.enable(False)


def _run_case(name):
    """Run the case called ``name`` in this process; its seconds."""
    from fastbp import _compile_notice

    _, run, arguments = CASES[name]
    notice = _compile_notice.enabled()
    _compile_notice.enable(False)  # the progress lines say what compiles
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a 3-iteration fit has not converged, and says so
            run(**arguments) if isinstance(arguments, dict) else run(*arguments)
    finally:
        _compile_notice.enable(notice)  # as it was (`fastbp train --quiet` turns it off)
    return time.perf_counter() - started


def _take_turns_saving(lock):
    """Make this process hold the file lock ``lock`` while Numba saves to its cache."""
    if not _CAN_LOCK:
        return
    from numba.core import caching

    save = caching.IndexDataCacheFile.save

    def save_in_turn(self, key, data):
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                return save(self, key, data)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    caching.IndexDataCacheFile.save = save_in_turn
