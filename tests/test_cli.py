"""The ``fastbp`` command, run for real in a subprocess, and the data it reads."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

import fastbp
from fastbp import data, datasets
from fastbp.evaluation import evaluate


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


def write_rows(path, header, rows):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


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

    info = fastbp_command("info", model, cwd=tmp_path).stdout
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


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "info", "bench"])
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
    with pytest.raises(ImportError, match=r'pip install "fastbp\[plot\]"'):
        history.plot(tmp_path / "x.png")


def test_scikit_learn_datasets_without_scikit_learn_say_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r'bundled with scikit-learn.*"fastbp\[datasets\]"'):
        datasets.load("iris")
    assert datasets.load("xor").X.shape == (4, 3)  # the tutorials' data needs nothing
