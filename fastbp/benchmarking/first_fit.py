"""The first-fit section of ``fastbp bench``: the wait a user sees before a first fit ends.

Each case is one fit as a user writes it, run in a fresh interpreter pinned to one core:
"cold" with an empty Numba cache directory (a fresh install: the kernel compiles), then
"warm" in a second fresh interpreter with the cache the cold one filled (every later
session). The figures are the seconds of the ``fit`` call itself (what issue 12 bounds: 3 s
cold, 0.5 s warm) and of importing fastbp before it. The cases cover the kernel paths a user
hits; the data is small, so compiling or loading is nearly all of it.
"""

import json
import statistics
import subprocess
import sys
import tempfile

from fastbp.benchmarking.timing import record

_SETUP = """
import os, time
{cache}{pin}started = time.perf_counter()
import numpy as np
from fastbp import Network, Trainer
from fastbp.optimizers import SGD, Adam
imported = time.perf_counter()
rng = np.random.default_rng(0)
"""
_REPORT = """
done = time.perf_counter()
import json
print("RESULT " + json.dumps({{"import": imported - started, "fit": done - fitting}}))
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


def child_code(case, cache_dir=None, report=True, pinned=True):
    """The code of a fresh interpreter running ``case``'s first fit; with ``report`` it
    prints its seconds (asv's ``timeraw_`` wants a silent one: it reads the stdout). With
    ``cache_dir`` it points Numba there first (else the environment's, as set); ``pinned``,
    it runs on one core."""
    cache = "" if cache_dir is None else f"os.environ['NUMBA_CACHE_DIR'] = {cache_dir!r}\n"
    pin = "os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])\n" if pinned else ""
    setup = _SETUP.format(cache=cache, pin=pin)
    return setup + CASES[case][1] + (_REPORT.format() if report else "\n")


def run_first_fits(names, repeats, environment, results_file):
    """Time each case cold and then warm, ``repeats`` times (a fresh cache each repeat);
    print the medians and record them."""
    print(f"{'case':<5} {'cache':<5} {'fit s':>8} {'import s':>9}  {'':<2}")
    for name in names:
        figures = {"cold": [], "warm": []}
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="fastbp-first-fit-") as cache_dir:
                for cache in ("cold", "warm"):
                    figures[cache].append(_run_child(name, cache_dir, environment))
        print(f"{name}: {CASES[name][0]}")
        for cache, runs in figures.items():
            fit = statistics.median(run["fit"] for run in runs)
            imported = statistics.median(run["import"] for run in runs)
            print(f"{name:<5} {cache:<5} {fit:8.2f} {imported:9.2f}")
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
        sys.stdout.flush()


def _run_child(name, cache_dir, environment):
    environment = {**environment, "NUMBA_CACHE_DIR": cache_dir}
    result = subprocess.run(
        [sys.executable, "-c", child_code(name)],
        env=environment,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not a checkout's root, whose fastbp/ lacks fastbp.kernels
    )
    if result.returncode != 0:
        raise RuntimeError(f"first fit {name} failed:\n{result.stderr}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))
