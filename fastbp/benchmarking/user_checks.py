"""Before a user workload is timed: do the contenders train the same thing?

On a shortened fit (at most ``CHECK_ROWS`` rows, ``CHECK_EPOCHS`` epochs) from fastbp's initial
weights:

- fastbp's loss goes down from the first epoch to the last, and so does every peer's;
- scikit-learn, started from the same weights (where it has the same network: 3 classes or
  more; for two it has a single logistic output), records the same per-epoch losses: it runs
  the same Adam and momentum updates, so in float64 they agree to ``1e-9`` relative;
- the PyTorch loop's first-epoch loss equals fastbp's: to ``1e-9`` with momentum in float64
  (PyTorch keeps ``v = 0.9 v + g`` and steps ``lr * v``, the same update up to rounding), and to
  ``1e-4`` with Adam, whose epsilon PyTorch adds to ``sqrt(v_hat)`` instead of ``sqrt(v)``
  (an epsilon ``sqrt(1 - beta_2**t)`` times smaller: the steps of units with tiny gradients
  differ, slightly).

In float32 every tolerance is ``1e-4``: two float32 orders of summation over a few thousand
steps. A failure raises AssertionError naming the workload and contender.
"""

import numpy as np

from fastbp.benchmarking.user_peers import (
    initial_parameters,
    prepare_fastbp,
    prepare_sklearn,
    prepare_torch,
)

CHECK_ROWS = 2_000
CHECK_EPOCHS = 3


def check_user_workload(workload, peers):
    """Run the checks above for ``workload`` against the installed ``peers``; return one line
    saying what was checked and the largest relative differences."""
    short = workload.shortened(CHECK_ROWS, CHECK_EPOCHS)
    initial = initial_parameters(short)
    fastbp = prepare_fastbp(short, 1, initial)()
    _decreases(fastbp, short, "fastbp")
    float64 = short.dtype == np.float64
    said = [f"fastbp loss {fastbp[0]:.4g} -> {fastbp[-1]:.4g} in {short.epochs} epochs"]
    if "sklearn" in peers and _installed("sklearn"):
        if short.n_classes >= 3:
            sklearn = prepare_sklearn(short, 1, initial)()
            _close(sklearn, fastbp, 1e-9 if float64 else 1e-4, short, "sklearn")
            said.append(f"sklearn same losses ({_relative(sklearn, fastbp):.1e})")
        else:
            _decreases(prepare_sklearn(short, 1)(), short, "sklearn")
            said.append("sklearn (own start, 1 output) loss decreases")
    if "torch" in peers and _installed("torch"):
        torch = prepare_torch(short, 1, initial, record=True)()
        _decreases(torch, short, "torch")
        exact = float64 and short.optimizer == "momentum"
        _close(torch[:1], fastbp[:1], 1e-9 if exact else 1e-4, short, "torch")
        said.append(f"torch first epoch ({_relative(torch[:1], fastbp[:1]):.1e})")
    return "; ".join(said)


def _installed(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _relative(actual, wanted):
    return float(np.max(np.abs(actual - wanted) / np.abs(wanted)))


def _close(actual, wanted, tolerance, workload, contender):
    assert len(actual) == len(wanted), f"{workload.name}: {contender} ran {len(actual)} epochs"
    difference = _relative(actual, wanted)
    assert difference <= tolerance, (
        f"{workload.name}: {contender}'s losses {actual} differ from fastbp's {wanted} "
        f"by {difference:.2e} relative (tolerance {tolerance:g})"
    )


def _decreases(losses, workload, contender):
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], (
        f"{workload.name}: {contender}'s loss did not decrease over the check fit: {losses}"
    )
