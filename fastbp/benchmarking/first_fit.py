"""The first-fit section of ``fastbp bench``: the wait a user sees before a first fit ends.

Each case is one fit as a user writes it, run in fresh interpreters pinned to one core, each
with a Numba cache folder of its own: "cold" with an empty one and the prebuilt kernels
switched off (the kernels compile from nothing: what a fit of a kind nothing prebuilt covers
waits, and what every first fit waited before fastbp's wheel carried them); "installed" with an
empty one and the prebuilt kernels on (the first fit after ``pip install``); "warm" in a
second interpreter with the cache the "installed" one left (every later session). The
figures are the seconds of the ``fit`` call itself and of importing fastbp before it, and
the functions the cold run spent longest compiling (Numba's compile events). F1-F6 cover the
kernel paths a user hits, on small data, so compiling or loading is nearly all of it; F7-F10
are what a new user runs first (the estimator on digits, with scikit-learn's own fit beside
it; the tutorials; the command).
"""

import importlib.util
import os
import statistics
import sys
import tempfile

from fastbp.benchmarking.timing import child_result, record
from fastbp.kernels import cache as kernel_cache

_SETUP = """
import os, time
{cache}{prebuilt}{pin}started = time.perf_counter()
import numpy as np
from fastbp import Network, Trainer
from fastbp.optimizers import SGD, Adam
imported = time.perf_counter()
rng = np.random.default_rng(0)
"""
# Each compiled function's own compile seconds (Numba's ``numba:compile`` events, nested ones
# taken out), by its module's last part and qualified name (Numba's own overloads are all
# ``<locals>.impl``): where a cold fit's wait goes.
_COMPILE_EVENTS = """
from numba.core import event as _event
compiled = {}
class _Compiles(_event.Listener):
    def __init__(self):
        self.open = []
    def on_start(self, ev):
        function = ev.data["dispatcher"].py_func
        name = f"{function.__module__.rsplit('.', 1)[-1]}.{function.__qualname__}"
        self.open.append([name, time.perf_counter(), 0.0])
    def on_end(self, ev):
        name, began, inner = self.open.pop()
        total = time.perf_counter() - began
        compiled[name] = compiled.get(name, 0.0) + total - inner
        if self.open:
            self.open[-1][2] += total
_event.register("numba:compile", _Compiles())
"""
_REPORT = """
done = time.perf_counter()
import json
print("RESULT " + json.dumps({{"import": imported - started, "fit": done - fitting,
                               "compiled": compiled}}))
"""

# id: (title, the code of one fit after the imports)
CASES = {
    "F1": (
        "W1 streetlight 3-4-1, 50,000 epochs per example (unrolled)",
        """X = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=float)
y = np.array([1.0, 1.0, 0.0, 0.0])
net = Network([3, 4, 1], activations=["relu", "identity"], bias=False, init="uniform", seed=1)
trainer = Trainer(net, learning_rate=0.2, batch_size=1, reduction="sum", shuffle=False)
fitting = time.perf_counter()
trainer.fit(X, y, epochs=50_000)""",
    ),
    "F2": (
        "64-128-10 sigmoid, momentum 0.9, per example",
        """X, Y = rng.random((200, 64)), rng.random((200, 10))
net = Network([64, 128, 10], activations="sigmoid", seed=0)
trainer = Trainer(net, learning_rate=0.1, batch_size=1, optimizer=SGD(momentum=0.9))
fitting = time.perf_counter()
trainer.fit(X, Y, epochs=1)""",
    ),
    "F3": (
        "784-256-10 relu, Adam, batch 64",
        """X, Y = rng.random((640, 784)), rng.random((640, 10))
net = Network([784, 256, 10], activations=["relu", "identity"], seed=0)
trainer = Trainer(net, learning_rate=1e-3, batch_size=64, optimizer=Adam())
fitting = time.perf_counter()
trainer.fit(X, Y, epochs=1)""",
    ),
    "F4": (
        "64-128-10 sigmoid, plain SGD per example (generic)",
        """X, Y = rng.random((200, 64)), rng.random((200, 10))
net = Network([64, 128, 10], activations="sigmoid", seed=0)
trainer = Trainer(net, learning_rate=0.1, batch_size=1)
fitting = time.perf_counter()
trainer.fit(X, Y, epochs=1)""",
    ),
    "F5": (
        "64-100-10 relu/softmax classifier, cross entropy, Adam, batch 200",
        """X = rng.standard_normal((1000, 64))
Y = np.eye(10)[rng.integers(10, size=1000)]
net = Network([64, 100, 10], activations=["relu", "softmax"], seed=0)
trainer = Trainer(net, learning_rate=1e-3, batch_size=200, loss="cross_entropy",
                  optimizer=Adam())
fitting = time.perf_counter()
trainer.fit(X, Y, epochs=1)""",
    ),
    "F6": (
        "784-256-10 relu, Adam, batch 64, threads=2 (BLAS on two threads)",
        """X, Y = rng.random((640, 784)), rng.random((640, 10))
net = Network([784, 256, 10], activations=["relu", "identity"], seed=0)
trainer = Trainer(net, learning_rate=1e-3, batch_size=64, optimizer=Adam(), threads=2)
fitting = time.perf_counter()
trainer.fit(X, Y, epochs=1)""",
    ),
}


# The cases that cover the kernel paths a user hits (``fastbp compile`` runs them).
PATH_CASES = tuple(CASES)

# The cases a new user meets first, beside scikit-learn's own where it has one (``PEER_CODE``:
# the same fit with scikit-learn's estimator, timed the same way).
_DIGITS = """import warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from {module} import MLPClassifier
X, y = load_digits(return_X_y=True)
"""
# The nine configurations of issue 26's table, written into the child's code by their repr.
NINE_CONFIGURATIONS = [
    {},
    {"early_stopping": True},
    {"solver": "sgd"},
    {"solver": "sgd", "momentum": 0.5, "nesterovs_momentum": False},
    {"alpha": 0.0},
    {"hidden_layer_sizes": (64, 32)},
    {"activation": "tanh"},
    {"batch_size": 1, "max_iter": 20},
    {"solver": "lbfgs"},
]
_NINE = f"""
fitting = time.perf_counter()
for params in {NINE_CONFIGURATIONS!r}:
    make_pipeline(StandardScaler(), MLPClassifier(random_state=0, **params)).fit(X, y)"""
_DIGITS_FIT = """
fitting = time.perf_counter()
make_pipeline(StandardScaler(), MLPClassifier(random_state=0)).fit(X, y)"""
CASES.update(
    {
        "F7": (
            "the estimator's default fit on digits, in a pipeline with StandardScaler",
            _DIGITS.format(module="fastbp.sklearn") + _DIGITS_FIT,
        ),
        "F8": (
            "nine estimator configurations on digits, one after another",
            _DIGITS.format(module="fastbp.sklearn") + _NINE,
        ),
        "F9": (
            "the six tutorial datasets, as `fastbp train --dataset NAME` trains each",
            """import contextlib, io
from fastbp import cli, datasets
fitting = time.perf_counter()
for name in datasets.TUTORIALS:
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(["train", "--dataset", name, "--quiet"])""",
        ),
        "F10": (
            "`fastbp train`, the XOR tutorial",
            """import contextlib, io
from fastbp import cli
fitting = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(["train", "--quiet"])""",
        ),
    }
)
# The cases that need scikit-learn, and the same fits with scikit-learn's own estimator.
NEEDS_SKLEARN = ("F7", "F8")
PEER_CODE = {
    "F7": _DIGITS.format(module="sklearn.neural_network") + _DIGITS_FIT,
    "F8": _DIGITS.format(module="sklearn.neural_network") + _NINE,
}


def child_code(case, cache_dir=None, report=True, pinned=True, peer=False, prebuilt=True):
    """The code of a fresh interpreter running ``case``'s first fit (``peer``: scikit-learn's
    own estimator's, for the cases in ``PEER_CODE``); with ``report`` it prints its seconds
    and each function's compile seconds (asv's ``timeraw_`` wants a silent one: it reads the
    stdout). With ``cache_dir`` it points Numba there first (else the environment's, as set);
    ``prebuilt=False``, it leaves the prebuilt kernels out; ``pinned``, it runs on one core."""
    cache = "" if cache_dir is None else f"os.environ['NUMBA_CACHE_DIR'] = {cache_dir!r}\n"
    switch = f"os.environ[{kernel_cache.PREBUILT_SWITCH!r}] = '0'\n" if not prebuilt else ""
    pin = "os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])\n" if pinned else ""
    setup = _SETUP.format(cache=cache, prebuilt=switch, pin=pin)
    code = PEER_CODE[case] if peer else CASES[case][1]
    return (
        setup + (_COMPILE_EVENTS if report else "") + code + (_REPORT.format() if report else "\n")
    )


def has_prebuilt_kernels():
    """Whether this install carries prebuilt kernels (a wheel built with them: not an
    editable install, nor one built with ``FASTBP_PREBUILD=0``)."""
    return os.path.isdir(kernel_cache.PREBUILT)


def run_first_fits(names, repeats, environment, results_file):
    """Time each case cold, installed and warm, ``repeats`` times (fresh caches each repeat),
    and scikit-learn's own fit where it has one; print the medians, the functions the first
    cold run spent longest compiling, and record the medians."""
    print(f"{'case':<5} {'cache':<12} {'fit s':>8} {'import s':>9}")
    caches = ("cold", "installed", "warm") if has_prebuilt_kernels() else ("cold", "warm")
    if "installed" not in caches:
        print("      (no prebuilt kernels in this install: warm is the cache cold left)")
    for name in names:
        if name in NEEDS_SKLEARN and importlib.util.find_spec("sklearn") is None:
            print(f"{name}: {CASES[name][0]}: left out, scikit-learn is not installed")
            continue
        figures = {cache: [] for cache in caches}
        if name in PEER_CODE:
            figures["scikit-learn"] = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="fastbp-first-fit-") as directory:
                for cache in caches:
                    # Cold's cache is a folder of its own, which installed and warm never see.
                    folder = os.path.join(directory, "cold" if cache == "cold" else "installed")
                    run = _run_child(name, folder, environment, prebuilt=cache != "cold")
                    figures[cache].append(run)
                if name in PEER_CODE:
                    peer = _run_child(name, directory, environment, peer=True)
                    figures["scikit-learn"].append(peer)
        print(f"{name}: {CASES[name][0]}")
        for cache, runs in figures.items():
            fit = statistics.median(run["fit"] for run in runs)
            imported = statistics.median(run["import"] for run in runs)
            print(f"{name:<5} {cache:<12} {fit:8.2f} {imported:9.2f}")
            for figure, value in (("fit", fit), ("import", imported)):
                record(
                    results_file,
                    section="first-fit",
                    workload=name,
                    title=CASES[name][0],
                    threads=1,
                    contender=f"{cache} {figure}",
                    value=value,
                    unit="s",
                )
        print("      compiling, cold:", _longest_compiles(figures["cold"][0]["compiled"]))
        sys.stdout.flush()


def _longest_compiles(compiled, shown=5):
    """The total compile seconds, and the ``shown`` functions of longest own compile time
    (each named by its module's last part and its qualified name)."""
    longest = sorted(compiled.items(), key=lambda item: -item[1])[:shown]
    named = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in longest)
    return f"{sum(compiled.values()):.1f} s in {len(compiled)} functions; longest: {named}"


def _run_child(name, cache_dir, environment, peer=False, prebuilt=True):
    os.makedirs(cache_dir, exist_ok=True)
    code = child_code(name, cache_dir, peer=peer, prebuilt=prebuilt)
    return child_result(code, environment, f"first fit {name} failed")
