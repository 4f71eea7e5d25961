"""The ``threads`` setting: the BLAS threads of the matrix kernel's layer products.

Every count trains to the reference's result (1e-9 in float64), a count gives the same
result run after run, BLAS runs on that many threads during the kernel's calls and as
before after, and a bad count is refused, naming the setting, before any kernel runs.
"""

import numpy as np
import pytest
import threadpoolctl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_cli import fastbp_command
from test_features import (
    assert_matches_reference,
    feature_configurations,
    fit_both,
    train_both,
)

from fastbp import Network, Trainer, _kernels
from fastbp.kernels import batches
from fastbp.optimizers import SGD, Adam
from fastbp.schedules import Constant

# Counts above the CPUs are allowed: BLAS runs on at most as many threads as CPUs.
THREAD_COUNTS = st.sampled_from([2, 3, 5])


# A draw that ended 1.75e-9 from the reference on two threads, and as far on one: its layers
# are too narrow for BLAS, so every count runs the same loops bit for bit. Adam at this rate
# grows a first epoch's 1e-13 rounding gap tenfold an epoch; ``train_both`` sets aside such
# fits (tests/test_features.py's ``well_conditioned``), and the test below shows it is one.
ILL_CONDITIONED = {
    "sizes": [21, 22, 5, 24, 1],
    "activations": ["relu", "tanh", "identity", "relu"],
    "bias": [False, True, True, True],
    "loss": "squared_error",
    "batch_size": 6,
    "reduction": "mean",
    "step": 0.3,
    "epochs": 10,
    "shuffle": False,
    "n_samples": 23,
    "seed": 4294967295,
    "kernel": "auto",
    "optimizer": Adam(),
    "schedule": Constant(),
    "weighted": False,
    "l2": 0.001,
    "l2_biases": False,
    "l2_divided": True,
    "l2_in_loss": False,
    "loss_output_mean": False,
    "dropout": 0.0,
    "clip_value": 0.05,
    "clip_norm": None,
    "n_validation": 0,
    "patience": None,
    "restore_best": False,
    "given_order": True,
    "batch_norm": False,
}


# A draw that diverges in its first epoch (a step of 0.3 on a 1-3-10-1 net with dropout):
# the reference diverges too, and there is nothing to compare.
DIVERGING = {
    **ILL_CONDITIONED,
    "sizes": [1, 3, 10, 1], "activations": ["sigmoid", "identity", "relu"],
    "bias": [False, True, False], "loss": "squared_error", "batch_size": 1,
    "reduction": "sum", "step": 0.3, "epochs": 1, "shuffle": False, "n_samples": 9,
    "seed": 0, "kernel": "auto", "optimizer": SGD(), "schedule": Constant(),
    "weighted": False, "l2": 0.0, "l2_biases": False, "l2_divided": False,
    "l2_in_loss": False, "loss_output_mean": False, "dropout": 0.5, "clip_value": None,
    "clip_norm": None, "n_validation": 0, "patience": None, "restore_best": False,
    "given_order": False, "batch_norm": False,
}  # fmt: skip


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(config=feature_configurations(), threads=THREAD_COUNTS)
@example(config=ILL_CONDITIONED, threads=2)
@example(config=DIVERGING, threads=2)
def test_every_thread_count_matches_the_reference(config, threads):
    assert_matches_reference(*train_both(config, threads))


def test_a_fit_decided_by_rounding_is_set_aside_and_threads_do_not_change_it():
    """The draw above is the fit's own doing, not the threads': one, two and three threads
    give the same bits, each ends more than the contract from the reference, and the
    reference itself, started 1e-13 away, moves too far to judge them."""
    fits = [fit_both(ILL_CONDITIONED, threads) for threads in (1, 2, 3)]
    for net, _, _, _ in fits[1:]:
        assert np.array_equal(net.params, fits[0][0].params)
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        assert_matches_reference(*fits[1][:3])
    assert not any(conditioned for *_, conditioned in fits)


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
