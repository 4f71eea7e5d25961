"""Compiling ahead (``fastbp compile``, ``fastbp.precompile``) and the notice a long compile
gives, each in fresh processes with a cache of their own."""

import io
import os
import subprocess
import sys

import pytest
from test_cli import fastbp_command

from fastbp import _compile_notice, precompile
from fastbp.kernels import cache as cache_module

# A fit of the per-example kind on a network neither compile case trains, counting the
# functions of fastbp that Numba compiled for it (a cache load is no compilation).
COUNTED_FIT = """
import numpy as np
from numba.core import event
from fastbp import Network, Trainer

compiled = []
class Count(event.Listener):
    def on_start(self, event_):
        compiled.append(event_.data["dispatcher"].py_func.__module__)
    def on_end(self, event_):
        pass
event.register("numba:compile", Count())
rng = np.random.default_rng(1)
net = Network([5, 7, 3], activations=["tanh", "softmax"], seed=1)
Trainer(net, batch_size=1, loss="cross_entropy", seed=1).fit(
    rng.normal(size=(20, 5)), rng.integers(0, 3, 20), epochs=2
)
print("COMPILED", sum(module.startswith("fastbp") for module in compiled))
"""


def fresh_environment(cache, prebuilt=False):
    """This environment with Numba's cache in ``cache``, and the kernels prebuilt into an
    installed fastbp left out unless ``prebuilt`` (so that these tests see compiling)."""
    switch = {} if prebuilt else {cache_module.PREBUILT_SWITCH: "0"}
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache), **switch}


def run_python(code, cache, prebuilt=False):
    """Run ``code`` in a fresh interpreter with Numba's cache in ``cache``; from there too,
    not from a checkout's root, whose fastbp/ lacks the installed fastbp.kernels."""
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=fresh_environment(cache, prebuilt),
        timeout=600,
        cwd=cache,
    )
    assert result.returncode == 0, result.stderr
    return result


def compile_ahead(tmp_path, *arguments):
    """``fastbp compile *arguments`` into the cache ``tmp_path / "cache"``, nothing prebuilt;
    its output, once it has succeeded."""
    printed = subprocess.run(
        [sys.executable, "-m", "fastbp", "compile", *arguments],
        capture_output=True,
        text=True,
        env=fresh_environment(tmp_path / "cache"),
        timeout=900,
        cwd=tmp_path,
    )
    assert printed.returncode == 0, printed.stderr
    return printed


def compiled_count(result):
    line = next(line for line in result.stdout.splitlines() if line.startswith("COMPILED "))
    return int(line.split()[1])


def test_a_first_fit_says_once_that_it_compiles_and_a_cached_one_says_nothing(tmp_path):
    cold = run_python(COUNTED_FIT, tmp_path)
    assert compiled_count(cold) > 0
    assert cold.stderr.count("fastbp: compiling the kernels for this kind of fit") == 1
    assert f"They are cached in {tmp_path}" in cold.stderr
    warm = run_python(COUNTED_FIT, tmp_path)
    assert compiled_count(warm) == 0 and "compiling" not in warm.stderr


def test_compiling_ahead_leaves_nothing_for_a_fit_of_that_kind_to_compile(tmp_path):
    """Two cases on two workers (taking turns at Numba's cache); then a per-example fit of
    another network, in a fresh process, loads every function it needs."""
    printed = compile_ahead(tmp_path, "per-example", "full-batch", "--workers", "2")
    assert f"fastbp compile: 2 kinds of fit on 2 workers, into {tmp_path / 'cache'}" in (
        printed.stderr
    )
    assert "2/2" in printed.stderr and "compiled 2 kinds of fit in" in printed.stdout
    assert compiled_count(run_python(COUNTED_FIT, tmp_path / "cache")) == 0


def test_compile_lists_its_cases_and_refuses_unknown_ones(tmp_path):
    listed = fastbp_command("compile", "--list", cwd=tmp_path).stdout.splitlines()
    assert [line.split()[0] for line in listed] == list(precompile.CASES)
    refused = fastbp_command("compile", "nonsense", cwd=tmp_path, check=False)
    assert refused.returncode == 2
    assert f"cases must be among {', '.join(precompile.CASES)}; got nonsense" in refused.stderr
    with pytest.raises(ValueError, match="workers must be a positive integer; got 0"):
        precompile.compile_kernels(["per-example"], workers=0)


def test_the_notice_names_the_cache():
    assert "fastbp compile" in _compile_notice.message()
    assert _compile_notice.cache_location() in _compile_notice.message()


def test_one_worker_compiles_in_this_process_and_leaves_the_notice_as_it_was():
    """As a Dask worker, which may not start processes, would run it."""
    stream = io.StringIO()
    _compile_notice.enable(True)
    seconds = precompile.compile_kernels(["tutorials"], workers=1, stream=stream)
    assert list(seconds) == ["tutorials"] and seconds["tutorials"] > 0
    assert "fastbp compile: 1 kind of fit in this process" in stream.getvalue()
    assert _compile_notice.enabled()  # the tutorials' `fastbp train --quiet` turned it off


# A sparse fit as a text user writes it: CSR input of another shape than the compile case's,
# binary labels, the estimator's defaults.
COUNTED_SPARSE_FIT = (
    COUNTED_FIT.split("rng = np.random")[0]
    + """
import scipy.sparse
from fastbp.sklearn import MLPClassifier
X = scipy.sparse.random(120, 300, density=0.02, format="csr", random_state=0)
MLPClassifier(hidden_layer_sizes=(16,), max_iter=2).fit(X, np.arange(120) % 2)
print("COMPILED", sum(module.startswith("fastbp") for module in compiled))
"""
)


def test_compiling_the_sparse_case_ahead_leaves_a_sparse_fit_nothing_to_compile(tmp_path):
    compile_ahead(tmp_path, "estimators-sparse", "--workers", "1")
    assert compiled_count(run_python(COUNTED_SPARSE_FIT, tmp_path / "cache")) == 0
