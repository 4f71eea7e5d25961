"""The ``threads`` setting: the BLAS threads of the matrix kernel's layer products.

Every count trains to the reference's result (1e-9 in float64), a count gives the same
result run after run, BLAS runs on that many threads during the kernel's calls and as
before after, and a bad count is refused, naming the setting, before any kernel runs.
"""

import numpy as np
import pytest
import threadpoolctl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import fastbp_command
from test_features import assert_matches_reference, feature_configurations, train_both

from fastbp import Network, Trainer, _kernels
from fastbp.kernels import batches

# Counts above the CPUs are allowed: BLAS runs on at most as many threads as CPUs.
THREAD_COUNTS = st.sampled_from([2, 3, 5])


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(config=feature_configurations(), threads=THREAD_COUNTS)
def test_every_thread_count_matches_the_reference(config, threads):
    assert_matches_reference(*train_both(config, threads))


def wide_fit(threads, **features):
    """A fit whose layers are wide enough for BLAS and split unevenly across threads."""
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, (70, 40))
    y = rng.integers(0, 3, 70)
    net = Network([40, 48, 3], activations=["relu", "softmax"], seed=2)
    trainer = Trainer(
        net,
        learning_rate=0.05,
        batch_size=16,
        loss="cross_entropy",
        seed=9,
        kernel="matrix",
        threads=threads,
        **features,
    )
    history = trainer.fit(X, y, epochs=4, validation_fraction=0.2)
    return net.params.copy(), history["val_loss"]


@pytest.mark.parametrize("threads", [2, 3])
def test_a_thread_count_gives_the_same_result_run_after_run(threads):
    first = wide_fit(threads, dropout=0.2, optimizer="adam")
    second = wide_fit(threads, dropout=0.2, optimizer="adam")
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    one = wide_fit(1, dropout=0.2, optimizer="adam")
    np.testing.assert_allclose(first[0], one[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "threads, error, message",
    [
        (0, ValueError, "threads must be at least 1; got 0"),
        (-2, ValueError, "threads must be at least 1"),
        (1.5, TypeError, "threads must be an integer; got 1.5"),
        (True, TypeError, "threads must be an integer"),
        ("2", TypeError, "threads must be an integer"),
    ],
)
def test_a_bad_thread_count_is_named_before_any_kernel_runs(threads, error, message):
    net = Network([2, 3, 1], seed=1)
    with pytest.raises(error, match=message):
        Trainer(net, threads=threads)
    trainer = Trainer(net)
    trainer.threads = threads  # a public attribute: checked again by fit
    before = net.params.copy()
    with pytest.raises(error, match=message):
        trainer.fit(np.zeros((4, 2)), np.zeros(4))
    assert np.array_equal(net.params, before)


def test_threads_from_the_command_line_are_checked(tmp_path):
    usage = fastbp_command("train", "--dataset", "xor", "--threads", "0", cwd=tmp_path, check=False)
    assert usage.returncode == 2 and "threads must be at least 1; got 0" in usage.stderr


def test_threads_are_recorded_with_the_fit():
    net = Network([2, 3, 1], seed=1)
    Trainer(net, batch_size=2, threads=2).fit(np.zeros((4, 2)), np.zeros(4))
    assert net.metadata["fits"][-1]["threads"] == 2


def _blas_threads():
    """The thread count of each loaded BLAS library."""
    return {
        pool["filepath"]: pool["num_threads"]
        for pool in threadpoolctl.threadpool_info()
        if pool["user_api"] == "blas"
    }


@pytest.mark.parametrize("threads", [1, 2])
def test_the_kernel_runs_blas_on_the_fits_threads_and_restores_them_after(monkeypatch, threads):
    seen = []
    compiled = batches.kernel_for_fit

    def spying(*fit):
        kernel = compiled(*fit)

        def run(*arguments):
            seen.append(_blas_threads())
            return kernel(*arguments)

        return run

    monkeypatch.setattr(batches, "kernel_for_fit", spying)
    _kernels._blas_controller()  # SciPy's BLAS loaded, as a first matrix fit would
    with threadpoolctl.threadpool_limits(3, user_api="blas"):
        before = _blas_threads()
        wide_fit(threads)
        assert _blas_threads() == before
    expected = min(threads, _kernels.usable_cpus())
    assert seen and all(set(counts.values()) == {expected} for counts in seen)
