"""The Trainer's structure as its users and the next features rely on it: one table of
settings, kernel paths that declare what they run, kernels that keep their own counts, and a
history that grows with the epochs actually trained."""

import inspect

import numpy as np
import pytest

from fastbp import Network, Trainer, _kernels, _settings
from fastbp.kernels import codes
from fastbp.schedules import InverseScaling

X = np.random.default_rng(0).uniform(-1, 1, (12, 3))
Y = X @ np.array([[0.5], [-0.3], [0.2]])


def test_every_trainer_setting_has_one_table_entry_in_signature_order():
    parameters = list(inspect.signature(Trainer).parameters)
    assert parameters[0] == "network"
    assert tuple(parameters[1:]) == _settings.NAMES
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(Trainer).parameters.items()
        if name != "network"
    }
    assert defaults == {setting.name: setting.default for setting in _settings.SETTINGS}


def test_repr_and_record_are_read_from_the_table():
    net = Network([3, 2, 1], seed=0)
    trainer = Trainer(net, l2=0.5, clip_norm=2.0, optimizer="adam", seed=3)
    text = repr(trainer)
    for name in _settings.NAMES:
        assert f"{name}={getattr(trainer, name)!r}" in text
    trainer.fit(X, Y, epochs=2)
    record = net.metadata["fits"][-1]
    recorded = [s.name for s in _settings.SETTINGS if s.record is not None]
    assert list(record)[: len(recorded)] == recorded
    assert record["l2"] == 0.5 and record["clip_norm"] == 2.0 and record["seed"] == 3
    assert record["optimizer"] == repr(trainer.optimizer)
    assert "kernel" not in record


@pytest.mark.parametrize(
    ("kernel", "settings", "feature"),
    [
        ("generic", {"optimizer": "rprop"}, "rprop"),
        ("generic", {"dropout": 0.2, "batch_size": 2}, "dropout_in_batches"),
        ("unrolled", {"dropout": 0.2, "batch_size": 1}, "dropout"),
        ("unrolled", {"clip_norm": 1.0}, "clip_norm"),
        ("unrolled", {"l2": 0.1, "l2_in_loss": True}, "l2_in_loss"),
    ],
)
def test_a_forced_kernel_names_the_features_its_declaration_lacks(kernel, settings, feature):
    net = Network([3, 2, 1], seed=0)
    before = net.params.copy()
    assert feature not in _kernels.PATHS[kernel].runs
    with pytest.raises(ValueError, match=rf"kernel '{kernel}' does not run .*\b{feature}\b"):
        Trainer(net, kernel=kernel, **settings).fit(X, Y)
    assert np.array_equal(net.params, before)
    assert feature in _kernels.PATHS[_kernels.choose(net, 32, 10**6, [feature])].runs


def test_a_fit_for_many_epochs_allocates_only_the_epochs_it_trains():
    net = Network([3, 2, 1], seed=0)
    # An improvement of 1e9 never comes, so early stopping ends the fit after 3 epochs: the
    # history must not have been allocated for 10**12 epochs first.
    history = Trainer(net, seed=0).fit(X, Y, epochs=10**12, patience=3, min_delta=1e9)
    assert history.epochs == 4 and history.stopped
    assert history["loss"].shape == (4,)


@pytest.mark.parametrize("first_kernel", ["generic", "unrolled"])
def test_every_kernel_counts_its_epochs_for_the_schedules_that_follow(first_kernel):
    """A schedule counts the trainer's epochs across fits, whichever kernel ran them."""
    results = []
    for kernel in (first_kernel, "matrix"):
        net = Network([3, 2, 1], seed=0)
        trainer = Trainer(net, learning_rate=0.1, shuffle=False, kernel=kernel)
        trainer.fit(X, Y, epochs=5)
        trainer.kernel = "matrix"
        trainer.schedule = InverseScaling(1.0)
        history = trainer.fit(X, Y, epochs=5)
        results.append((net.params.copy(), history["loss"]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)
    # And the count matters: a fresh schedule from epoch 0 trains differently.
    net = Network([3, 2, 1], seed=0)
    trainer = Trainer(net, learning_rate=0.1, shuffle=False, kernel="matrix")
    trainer.fit(X, Y, epochs=5)
    trainer._counters[codes.EPOCH] = 0  # as if the first fit had not counted
    trainer.schedule = InverseScaling(1.0)
    trainer.fit(X, Y, epochs=5)
    assert not np.allclose(net.params, results[1][0], rtol=1e-6)


def test_the_command_offers_every_setting_the_table_gives_an_option():
    from fastbp import cli

    help_text = cli._parser().parse_args(["train"]).run  # the parser builds without clashes
    assert callable(help_text)
    train = cli._parser()._subparsers._group_actions[0].choices["train"]
    flags = {flag for action in train._actions for flag in action.option_strings}
    for setting in _settings.SETTINGS:
        if setting.cli is not None:
            assert setting.flag in flags


def test_no_function_of_the_python_api_is_longer_than_80_lines_of_code():
    """Functions short enough to read at once: docstrings, comments and blank lines aside."""
    import ast
    import pathlib

    long = []
    # The checkout's fastbp/, not the installed package (which holds fastbp.kernels too).
    for path in (pathlib.Path(__file__).parents[1] / "fastbp").rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            first = node.body[0]
            documented = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            start = first.end_lineno if documented else first.lineno - 1
            code = [
                line
                for line in lines[start : node.end_lineno]
                if line.strip() and not line.strip().startswith("#")
            ]
            if len(code) > 80:
                long.append(f"{path.name}:{node.name} ({len(code)} lines)")
    assert not long
