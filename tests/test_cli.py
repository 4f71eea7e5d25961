"""The ``fastbp`` command, run for real in a subprocess, and the data it reads."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

import fastbp
from fastbp import Network, Trainer, data, datasets
from fastbp.evaluation import evaluate
from fastbp.scaling import Standardization
from fastbp.weighting import validation_split


def fastbp_command(*args, cwd, check=True):
    """Run ``fastbp ARGS`` (the installed console script) and return the finished process."""
    environment = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "fastbp", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"fastbp {args} failed ({result.returncode}):\n{result.stderr}")
    return result


def info_text(model, *options, cwd):
    """``fastbp info``'s output, each line checked to be at most 100 characters, with its
    wrapped lines joined again (a continuation starts 4 spaces in)."""
    printed = fastbp_command("info", model, *options, cwd=cwd).stdout
    assert max(len(line) for line in printed.splitlines()) <= 100, printed
    return printed.replace("\n    ", " ")


def write_rows(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def epoch_lines(printed):
    """Each printed epoch line of ``fastbp train`` as (epoch, {name: value as printed})."""
    rows = []
    for line in printed.splitlines():
        if line.startswith("epoch "):
            words = line.split()
            rows.append((int(words[1]), dict(zip(words[2::2], words[3::2], strict=True))))
    return rows


def final_scores(printed):
    """The closing score lines, ``{"training": (n_examples, {name: value as printed})}`` and
    likewise ``"held-out"``."""
    scores = {}
    for line in printed.splitlines():
        if line.startswith("on the "):
            where, values = line.split(": ", 1)
            kind, count = where.removeprefix("on the ").split(" data (")
            pairs = (pair.split() for pair in values.split(", "))
            scores[kind] = (int(count.split()[0]), dict(pairs))
    return scores


def one_line(text):
    """``text`` with every run of white space one space (argparse wraps the help)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def regression_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)) * [1, 10, 100] + [0, 50, -20]
    y = X @ [0.5, -0.02, 0.003] + 1
    path = tmp_path_factory.mktemp("data") / "train.csv"
    write_rows(path, ["a", "b", "c", "y"], np.column_stack([X, y]).tolist())
    return path


def test_train_save_predict_evaluate_round_trip(tmp_path, regression_csv):
    model, plot, out = tmp_path / "model.npz", tmp_path / "loss.png", tmp_path / "out.csv"
    train = fastbp_command(
        "train", regression_csv, "--target", "y", "--layers", "8", "--activation", "tanh",
        "--epochs", "40", "--batch-size", "8", "--learning-rate", "0.05", "--standardize",
        "--seed", "3", "--save", model, "--plot", plot, cwd=tmp_path,
    )  # fmt: skip
    assert "epoch 39  loss" in train.stdout and f"saved the network to {model}" in train.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    fastbp_command("predict", model, regression_csv, "-o", out, cwd=tmp_path)
    table = data.read(regression_csv)
    net = fastbp.load(model)
    X, y = table.numeric(["a", "b", "c"]), table.numeric(["y"])
    written = data.read(out)
    assert written.names == ["y"]
    # Written in full (repr), so the CSV holds the model's outputs exactly.
    np.testing.assert_array_equal(written.numeric(["y"]), net.predict(X))

    evaluated = fastbp_command("evaluate", model, regression_csv, cwd=tmp_path).stdout
    scores = dict(line.split() for line in evaluated.splitlines())
    expected = evaluate(net, X, y)
    for name in ("loss", "sse", "mse", "mae"):
        assert float(scores[name]) == pytest.approx(expected[name], rel=1e-11)

    info = info_text(model, cwd=tmp_path)
    assert "sizes=[3, 8, 1]" in info and "inputs: a, b, c" in info
    assert "learning_rate=0.05, batch_size=8" in info and "epochs=40" in info
    assert "input scaling: Standardization" in info


def test_classification_from_text_labels(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 2))
    names = np.array(["left", "middle", "right"])[np.digitize(X[:, 0], [-0.4, 0.4])]
    path, model = tmp_path / "classes.csv", tmp_path / "model.npz"
    write_rows(path, ["x0", "x1", "side"], [[*x, label] for x, label in zip(X, names, strict=True)])
    fastbp_command(
        "train", path, "--target", "side", "--loss", "cross_entropy", "--epochs", "150",
        "--learning-rate", "0.3", "--save", model, cwd=tmp_path,
    )  # fmt: skip
    net = fastbp.load(model)
    assert net.activations[-1] == "softmax" and net.metadata["classes"] == list(np.unique(names))
    predicted = fastbp_command("predict", model, path, cwd=tmp_path).stdout.splitlines()
    assert predicted[0] == "predicted,p_left,p_middle,p_right"
    assert np.mean([row.split(",")[0] for row in predicted[1:]] == names) > 0.9
    evaluated = fastbp_command("evaluate", model, path, cwd=tmp_path).stdout
    assert float(evaluated.split("accuracy")[1]) > 0.9


def test_a_text_target_trains_a_classifier_without_being_asked(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    path, model = tmp_path / "answers.csv", tmp_path / "model.npz"
    write_rows(path, ["x0", "x1", "label"], [[*x, y] for x, y in zip(X, labels, strict=True)])
    printed = fastbp_command(
        "train", path, "--target", "label", "--learning-rate", "0.1", "--save", model,
        cwd=tmp_path,
    ).stdout  # fmt: skip
    assert printed.splitlines()[0] == (
        "target 'label' holds text, so it is class labels: training a classifier of its 2 "
        "classes (no, yes) with softmax outputs and cross-entropy loss"
    )
    net = fastbp.load(model)
    assert net.activations[-1] == "softmax" and net.n_outputs == 2
    assert net.metadata["classes"] == ["no", "yes"]
    assert net.metadata["fits"][-1]["loss"] == "cross_entropy"
    assert set(epoch_lines(printed)[-1][1]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    n_held, scores = final_scores(printed)["held-out"]
    assert n_held == 40 and float(scores["accuracy"]) > 0.9
    predicted = fastbp_command("predict", model, path, cwd=tmp_path).stdout.splitlines()
    assert predicted[0] == "predicted,p_no,p_yes"


def test_a_numeric_target_of_few_integers_stays_a_regression_unless_asked(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 2))
    grades = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)
    path, model = tmp_path / "grades.csv", tmp_path / "model.npz"
    write_rows(path, ["x0", "x1", "grade"], [[*x, g] for x, g in zip(X, grades, strict=True)])
    printed = fastbp_command(
        "train", path, "--target", "grade", "--epochs", "5", "--save", model, cwd=tmp_path
    ).stdout
    assert printed.splitlines()[0] == (
        "target 'grade' holds 3 distinct integers (0, 1, 2): training a regression on them; "
        "--loss cross_entropy reads them as class labels"
    )
    net = fastbp.load(model)
    assert net.n_outputs == 1 and net.activations[-1] == "identity"
    assert net.metadata["classes"] is None
    assert net.metadata["fits"][-1]["loss"] == "squared_error"

    asked = fastbp_command(
        "train", path, "--target", "grade", "--loss", "cross_entropy", "--epochs", "5",
        "--save", model, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "distinct integers" not in asked and "holds text" not in asked
    net = fastbp.load(model)
    assert net.activations[-1] == "softmax" and net.metadata["classes"] == ["0", "1", "2"]
    usage = one_line(fastbp_command("train", "--help", cwd=tmp_path).stdout)
    assert "a column of text is class labels" in usage
    assert "--loss cross_entropy reads it as class labels" in usage


@pytest.mark.parametrize(
    ("targets", "arguments", "message"),
    [
        (["1", "2", "n/a"], [], "column 'y' mixes numbers and text (row 3 (line 4) holds 'n/a')"),
        (["a", "b", "a"], ["--loss", "squared_error"], "--loss squared_error needs numbers"),
        (["a", "b", "a"], ["--output-activation", "sigmoid"], "one softmax output per class"),
        (["a", "b", "a"], ["--target", "x,y"], "train a classifier on it alone (--target y)"),
    ],
)
def test_a_text_target_that_cannot_be_class_labels_is_a_usage_error(
    tmp_path, targets, arguments, message
):
    path = tmp_path / "targets.csv"
    write_rows(path, ["x", "z", "y"], [[i, i * i, t] for i, t in enumerate(targets)])
    target = [] if "--target" in arguments else ["--target", "y"]
    result = fastbp_command("train", path, *target, *arguments, cwd=tmp_path, check=False)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", list(datasets.LOADERS))
def test_every_built_in_dataset_trains_from_the_command_line(tmp_path, name):
    dataset = datasets.load(name)
    epochs = min(dataset.recipe["epochs"], 50)
    result = fastbp_command("train", "--dataset", name, "--epochs", epochs, cwd=tmp_path)
    assert f"{epochs} epochs in" in result.stdout
    assert dataset.description in result.stdout


def test_training_features_from_the_command_line(tmp_path):
    model = tmp_path / "iris.npz"
    arguments = ["--optimizer", "adam", "--dropout", "0.1", "--batch-norm", "--l2", "1e-4"]
    arguments += ["--batch-size", "16", "--validation-fraction", "0.2", "--patience", "3"]
    arguments += ["--clip-norm", "10", "--schedule", "plateau", "--epochs", "2000"]
    result = fastbp_command(
        "train", "--dataset", "iris", *arguments, "--quiet", "--save", model, cwd=tmp_path
    )
    assert "epochs in" in result.stdout
    loaded = fastbp.load(model)
    assert loaded.batch_norm == (True, False)
    fit = loaded.metadata["fits"][-1]
    assert fit["optimizer"].startswith("Adam(") and fit["dropout"] == 0.1
    assert fit["stopped"] and fit["epochs"] < 2000  # early stopping ended it
    usage = fastbp_command(
        "train", "--dataset", "xor", "--momentum", "2", cwd=tmp_path, check=False
    )
    assert usage.returncode == 2 and "momentum must be a finite number in [0, 1)" in usage.stderr


def test_built_in_datasets_hold_the_tutorials_data():
    assert datasets.xor().y.ravel().tolist() == [0, 1, 1, 0]
    assert datasets.first_column().y.ravel().tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(datasets.test_scores().X[0], [2 / 3, 1.0])
    np.testing.assert_array_equal(datasets.test_scores().y.ravel(), [0.92, 0.86, 0.89])
    np.testing.assert_array_equal(datasets.lecture_notes().y.ravel(), [4.0, 29.0, 9.0])
    assert datasets.streetlights_linear().X.shape == (6, 3)
    iris = datasets.iris()
    assert iris.X.shape == (150, 4) and iris.is_classification and len(iris.target_names) == 3


def test_default_train_is_the_readme_main_job(tmp_path):
    printed = fastbp_command("train", cwd=tmp_path).stdout
    assert "mae 0.496410031903" in printed and "mae 0.00858452565325" in printed
    assert "predictions:" in printed and "(target 1)" in printed


def recipe_fit(dataset):
    """The network and history of the dataset's recipe fitted through the API, on every
    example, as the tutorial trains."""
    recipe = dataset.recipe
    hidden = recipe["layers"]
    net = Network(
        [dataset.X.shape[1], *hidden, dataset.y.shape[1]],
        activations=[recipe["activation"]] * len(hidden) + [recipe["output_activation"]],
        bias=recipe["bias"],
        init=recipe["init"],
        seed=recipe["seed"],
    )
    trainer = Trainer(
        net,
        learning_rate=recipe["learning_rate"],
        batch_size=recipe["batch_size"],
        reduction=recipe["reduction"],
        loss="squared_error",
        shuffle=recipe["shuffle"],
        seed=recipe["seed"],
    )
    return net, trainer.fit(dataset.X, dataset.y, recipe["epochs"], recipe["metrics"])


@pytest.mark.parametrize("name", datasets.TUTORIALS)
def test_tutorial_recipes_train_on_every_example_and_print_their_trace(tmp_path, name):
    dataset = datasets.load(name)
    net, history = recipe_fit(dataset)
    printed = fastbp_command("train", "--dataset", name, cwd=tmp_path).stdout
    assert f"{dataset.description} ({dataset.X.shape[0]} examples)" in printed
    assert "held" not in printed and "val_" not in printed
    rows = epoch_lines(printed)
    assert len(rows) >= 6 and rows[-1][0] == dataset.recipe["epochs"] - 1
    for epoch, values in rows:
        assert values == {key: f"{history[key][epoch]:.12g}" for key in history}
    predictions = [line for line in printed.splitlines() if " -> " in line]
    outputs = [line.split(" -> ")[1].split("  (")[0].split() for line in predictions]
    assert outputs == [[f"{v:.8f}" for v in row] for row in net.predict(dataset.X)]
    if name == "streetlights":  # Grokking's last printed error (tests/test_seeds.py)
        assert rows[-1][1]["sse"] == "1.50556226651e-05"


def test_a_fit_holds_out_a_fifth_by_default_and_scores_it_beside_the_training_data(
    tmp_path, regression_csv
):
    model, plot = tmp_path / "model.npz", tmp_path / "loss.png"
    printed = fastbp_command(
        "train", regression_csv, "--target", "y", "--epochs", "30", "--standardize",
        "--no-standardize-targets", "--seed", "4", "--save", model, "--plot", plot, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert (
        "held out 12 of the 60 examples to score the fit (fraction 0.2, seed 4; "
        "--validation-fraction 0 trains on all)"
    ) in printed
    assert "training on " + str(regression_csv) + " (48 examples)" in printed
    table = data.read(regression_csv)
    X, y = table.numeric(["a", "b", "c"]), table.numeric(["y"])
    X_train, y_train, _, X_held, y_held = validation_split(X, y, None, 0.2, 4)
    net = fastbp.load(model)
    assert net.scaling == Standardization.of(X_train)  # of the training examples only

    rows = epoch_lines(printed)
    assert all(set(values) == {"loss", "mae", "val_loss", "val_mae"} for _, values in rows)
    held, trained = evaluate(net, X_held, y_held), evaluate(net, X_train, y_train)
    # The last epoch is scored after its updates, as the saved network predicts.
    assert float(rows[-1][1]["val_loss"]) == pytest.approx(held["loss"], rel=1e-9)
    assert float(rows[-1][1]["val_mae"]) == pytest.approx(held["mae"], rel=1e-9)
    shown = ("loss", "mse", "mae")
    assert final_scores(printed) == {
        "training": (48, {key: f"{trained[key]:.6g}" for key in shown}),
        "held-out": (12, {key: f"{held[key]:.6g}" for key in shown}),
    }
    assert f"plotted loss, val_loss, mae, val_mae per epoch to {plot}" in printed
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def prices_csv(tmp_path_factory):
    """A regression whose targets run from 74 to 392 and whose columns sit far from unit
    scale: at the command's defaults on raw targets, a relu network diverges or dies."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6)) * [1, 5, 20, 0.5, 3, 50] + [10, 0, 100, 2, -5, 300]
    y = X @ [3, -2, 0.5, 10, 1, 0.05] + rng.normal(0, 10, 400)
    y = 74 + (y - y.min()) / (y.max() - y.min()) * (392 - 74)
    path = tmp_path_factory.mktemp("data") / "prices.csv"
    write_rows(path, [*(f"x{j}" for j in range(6)), "price"], np.column_stack([X, y]).tolist())
    return path


def test_a_regression_far_from_unit_scale_trains_at_the_defaults(tmp_path, prices_csv):
    """Inputs and targets are standardized by default; the output layer then takes the
    targets' scaling back, so the saved model predicts prices: exactly the network trained
    on standardized targets, its outputs times their scale plus their mean."""
    model = tmp_path / "model.npz"
    printed = fastbp_command(
        "train", prices_csv, "--target", "price", "--validation-fraction", "0", "--save", model,
        cwd=tmp_path,
    )  # fmt: skip
    table = data.read(prices_csv)
    X, y = table.numeric([f"x{j}" for j in range(6)]), table.numeric(["price"])
    targets = Standardization.of(y)
    assert f"standardized the targets (mean {targets.mean[0]:.6g}, scale" in printed.stdout
    assert "warning" not in printed.stderr

    net = Network([6, 16, 1], activations=["relu", "identity"], init="glorot", seed=0)
    net.scaling = Standardization.of(X)
    Trainer(net, learning_rate=0.01, batch_size=32, reduction="mean", seed=0).fit(
        X, (y - targets.mean) / targets.scale, epochs=100
    )
    saved = fastbp.load(model)
    expected = net.predict(X) * targets.scale + targets.mean
    np.testing.assert_allclose(saved.predict(X), expected, rtol=1e-12)
    assert saved.metadata["target_scaling"] == {
        "mean": targets.mean.tolist(),
        "scale": targets.scale.tolist(),
    }
    # A sensible fit: its squared error is under a third of the targets' variance, which is
    # what their mean scores (and what the dead fit below does no better than).
    assert evaluate(saved, X, y)["mse"] < np.var(y) / 3
    info = info_text(model, cwd=tmp_path)
    assert f"target scaling: Standardization of 1 targets, mean [{targets.mean[0]:.6g}]" in info


def test_a_fit_that_dies_says_so_when_it_ends(tmp_path, prices_csv):
    printed = fastbp_command(
        "train", prices_csv, "--target", "price", "--no-standardize", "--no-standardize-targets",
        "--learning-rate", "0.0001", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    assert "standardized" not in printed.stdout
    assert "fastbp train: warning: the network gives the same output" in printed.stderr
    refused = fastbp_command(
        "train", prices_csv, "--target", "price", "--standardize-targets",
        "--output-activation", "relu", cwd=tmp_path, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--standardize-targets needs an identity output layer" in refused.stderr


def test_validation_fraction_0_trains_on_every_example(tmp_path, regression_csv):
    printed = fastbp_command(
        "train", regression_csv, "--target", "y", "--epochs", "3", "--standardize",
        "--validation-fraction", "0", cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "held" not in printed and "(60 examples)" in printed
    assert all(set(values) == {"loss", "mae"} for _, values in epoch_lines(printed))
    assert list(final_scores(printed)) == ["training"]
    assert final_scores(printed)["training"][0] == 60
    for fraction in ("1", "-0.1", "nan", "half"):
        result = fastbp_command(
            "train", regression_csv, "--target", "y", "--validation-fraction", fraction,
            cwd=tmp_path, check=False,
        )  # fmt: skip
        expected = f"argument --validation-fraction: must be a fraction in [0, 1); got '{fraction}'"
        assert result.returncode == 2 and expected in result.stderr, result.stderr


def test_built_in_datasets_and_small_files_hold_out_by_default_only_what_can_score(tmp_path):
    iris = fastbp_command("train", "--dataset", "iris", "--epochs", "3", cwd=tmp_path).stdout
    assert "held out 30 of the 150 examples" in iris
    assert final_scores(iris)["held-out"][0] == 30
    small = tmp_path / "small.csv"
    write_rows(small, ["x", "y"], [[i, 2 * i] for i in range(5)])
    printed = fastbp_command("train", small, "--target", "y", "--epochs", "3", cwd=tmp_path)
    assert (
        "no held-out score: 5 examples are too few to hold some out by default "
        "(--validation-fraction 0.2 holds them out anyway)"
    ) in printed.stdout
    asked = fastbp_command(
        "train", small, "--target", "y", "--epochs", "3", "--validation-fraction", "0.2",
        cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "held out 1 of the 5 examples" in asked and "val_loss" in asked


def test_info_summarises_long_lists_and_full_prints_them_all(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 20)) * 3 + 1
    names = [f"pixel{j}" for j in range(20)]
    path, model = tmp_path / "wide.csv", tmp_path / "model.npz"
    write_rows(path, [*names, "y"], np.column_stack([X, X.sum(axis=1)]).tolist())
    fastbp_command(
        "train", path, "--target", "y", "--epochs", "2", "--standardize", "--quiet",
        "--save", model, cwd=tmp_path,
    )  # fmt: skip
    net = fastbp.load(model)
    info = info_text(model, cwd=tmp_path)
    assert "inputs: pixel0, pixel1, pixel2, pixel3, pixel4, pixel5, ... (20 in all)" in info
    means = ", ".join(f"{v:.6g}" for v in net.scaling.mean[:6])
    scales = ", ".join(f"{v:.6g}" for v in net.scaling.scale[:6])
    assert (
        f"input scaling: Standardization of 20 inputs, mean [{means}, ... (20 in all)], "
        f"scale [{scales}, ... (20 in all)]"
    ) in info
    assert "pixel19" not in info and "(lists of more than 12 values are summarised" in info
    full = info_text(model, "--full", cwd=tmp_path)
    assert f"inputs: {', '.join(names)}\n" in full
    assert f"input scaling: {net.scaling!r}\n" in full and "summarised" not in full


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "info", "compile", "bench"])
def test_every_subcommand_has_help(tmp_path, command):
    assert "usage: fastbp" in fastbp_command(command, "--help", cwd=tmp_path).stdout


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ([["1", "2", "3"], ["4", "x", "5"]], "row 2 (line 3), column 'b': 'x' is not a number"),
        ([["1", "2", "3"], ["4", "nan", "5"]], "row 2 (line 3), column 'b': 'nan' is not a finite"),
        ([["1", "2", "3"], ["4", "5"]], "row 2 (line 3) has 2 cells; the header has 3"),
        ([], "has a header row but no data rows"),
    ],
)
def test_bad_csv_names_the_first_bad_row_and_column(tmp_path, cells, message):
    path = tmp_path / "bad.csv"
    write_rows(path, ["a", "b", "y"], cells)
    result = fastbp_command("train", path, "--target", "y", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_are_one_line_not_a_traceback(tmp_path, regression_csv):
    for args, message in [
        (("train", regression_csv), "--target must name the target column(s)"),
        (("train", regression_csv, "--target", "z"), "has no column 'z'"),
        (("predict", tmp_path / "missing.npz", regression_csv), "No such file"),
        (("info", regression_csv), "not a readable fastbp model file"),
    ]:
        result = fastbp_command(*args, cwd=tmp_path, check=False)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_npz_and_npy_data(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    np.savez(tmp_path / "d.npz", X=X, y=X.sum(axis=1))
    table = data.read(tmp_path / "d.npz")
    assert table.names == ["X0", "X1", "y"]
    np.testing.assert_array_equal(table.numeric(["X0", "X1"]), X)
    np.save(tmp_path / "d.npy", X)
    np.testing.assert_array_equal(data.read(tmp_path / "d.npy").numeric(["0", "1"]), X)
    result = fastbp_command(
        "train", tmp_path / "d.npz", "--target", "y", "--epochs", "3", cwd=tmp_path
    )
    assert "3 epochs in" in result.stdout


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    history = fastbp.History({"loss": [1.0, 0.5]})
    with pytest.raises(ImportError, match=r'pip install "\.\[plot\]" in a clone of fastbp'):
        history.plot(tmp_path / "x.png")


def test_scikit_learn_datasets_without_scikit_learn_say_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(
        ImportError, match=r'bundled with scikit-learn.*"\.\[datasets\]" in a clone of fastbp'
    ):
        datasets.load("iris")
    assert datasets.load("xor").X.shape == (4, 3)  # the tutorials' data needs nothing
