"""fastbp.sklearn's estimators in scikit-learn pipelines, converted by skl2onnx through
fastbp.sklearn_onnx and run in ONNX Runtime, against the pipelines' ``predict`` and
``predict_proba``."""

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import skl2onnx
from rounding import TOLERANCE, assert_close, error_scales
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_onnx import randomize

from fastbp import Network, Standardization, sklearn_onnx
from fastbp.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
NO_ZIPMAP = {MLPClassifier: {"zipmap": False}}


@pytest.fixture(scope="module", autouse=True)
def registered():
    sklearn_onnx.register()


def features(dtype=np.float64, n_samples=120, seed=0):
    """Columns of unlike scales and offsets, which the pipeline's StandardScaler undoes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 5)) * [1, 10, 0.1, 3, 100] + [0, 5, -2, 1, 50]
    return X.astype(dtype)


def scores(X, n_columns, seed=1):
    """A random linear function of the standardized columns: targets the network can learn,
    so that it predicts every class."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    return Z @ np.random.default_rng(seed).normal(size=(X.shape[1], n_columns))


def fitted_pipeline(estimator, X, y):
    return make_pipeline(StandardScaler(), estimator).fit(X, y)


def run(model, X):
    """The model's outputs on ``X`` in ONNX Runtime, by output name."""
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


def convert(pipeline, X, **kwargs):
    model = skl2onnx.to_onnx(pipeline, X[:1], **kwargs)
    onnx.checker.check_model(model, full_check=True)
    return model


def scales_of(pipeline, X):
    """``error_scales`` of the pipeline's network with its StandardScaler as the network's
    own scaling (which the scaling's rounding errors are relative to)."""
    scaler, estimator = pipeline[0], pipeline[-1]
    net = estimator.network_.copy()
    net.scaling = Standardization(scaler.mean_, scaler.scale_)
    return error_scales(net, X)


# adam, scikit-learn's default solver: test_sklearn.py compiles its kernels in both dtypes,
# so these fits add no compilation to the suite. alpha keeps the weights moderate on these
# separable classes, so that no probability underflows (a float32 one would be subnormal,
# which ONNX Runtime flushes to 0).
SMALL = {
    "hidden_layer_sizes": (6, 4),
    "alpha": 1.0,
    "learning_rate_init": 0.02,
    "max_iter": 100,
    "random_state": 0,
}


def classifier(dtype):
    return MLPClassifier(dtype=np.dtype(dtype).name, **SMALL)


CLASSES = {
    "multiclass": lambda s: s[:, :3].argmax(axis=1),
    "int64 labels": lambda s: np.array([-3, 7, 10**10, 42])[s[:, :4].argmax(axis=1)],
    "string labels": lambda s: np.array(["cat", "dog", "emu"])[s[:, :3].argmax(axis=1)],
    "binary": lambda s: np.where(s[:, 0] > 0, "yes", "no"),
    "binary int": lambda s: np.where(s[:, 0] > 0, 5, 2),
    "integral float labels": lambda s: s[:, :3].argmax(axis=1) * 2.0,
    "multilabel": lambda s: (s[:, :3] > 0).astype(int),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", list(CLASSES))
def test_a_classifier_pipeline_predicts_in_onnx_runtime_what_it_predicts(dtype, target):
    X = features(dtype)
    y = CLASSES[target](scores(X, 4))
    pipeline = fitted_pipeline(classifier(dtype), X, y)
    model = convert(pipeline, X, options=NO_ZIPMAP)
    got = run(model, X)
    assert list(got) == ["label", "probabilities"]

    expected = pipeline.predict(X)
    assert got["label"].shape == expected.shape
    if expected.dtype.kind in "iufb":
        assert got["label"].dtype == np.int64
    np.testing.assert_array_equal(got["label"], expected)
    if target not in ("binary", "binary int"):
        assert len(np.unique(expected, axis=0)) > 2  # the labels are not all alike
    probabilities = pipeline.predict_proba(X)
    assert got["probabilities"].dtype == dtype
    scale = scales_of(pipeline, X)[1]
    assert_close(got["probabilities"], probabilities, scale, TOLERANCE[np.dtype(dtype)], "p")


def test_a_batch_normalized_network_converts_in_its_inference_form():
    """``batch_norm=True`` (adam or sgd) leaves running statistics in ``network_``; a
    network with drawn ones stands in for such a fit, whose kernels take 30 s to compile."""
    X = features()
    pipeline = fitted_pipeline(classifier(np.float64), X, scores(X, 3).argmax(axis=1))
    fitted = pipeline[-1].network_
    net = Network(fitted.sizes, activations=fitted.activations, batch_norm=[True, True, False])
    randomize(net, np.random.default_rng(0), scaled=False)
    pipeline[-1].network_ = net
    got = run(convert(pipeline, X, options=NO_ZIPMAP), X)
    np.testing.assert_array_equal(got["label"], pipeline.predict(X))
    scale = scales_of(pipeline, X)[1]
    assert_close(got["probabilities"], pipeline.predict_proba(X), scale, 1e-12, "p")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_a_regressor_pipeline_predicts_in_onnx_runtime_what_it_predicts(dtype, n_outputs):
    X = features(dtype)
    y = scores(X, n_outputs)
    regressor = MLPRegressor(dtype=np.dtype(dtype).name, **SMALL)
    pipeline = fitted_pipeline(regressor, X, y[:, 0] if n_outputs == 1 else y)
    got = run(convert(pipeline, X), X)
    assert list(got) == ["variable"]
    # (N, 1) for one target, as skl2onnx's regressors; predict gives (N,).
    assert got["variable"].shape == (len(X), n_outputs) and got["variable"].dtype == dtype
    expected = pipeline.predict(X).reshape(len(X), n_outputs)
    scale = scales_of(pipeline, X)[0]
    assert_close(got["variable"], expected, scale, TOLERANCE[np.dtype(dtype)], "variable")


@pytest.fixture(scope="module")
def string_classifier():
    X = features(np.float32)
    y = np.array(["cat", "dog", "emu"])[scores(X, 3).argmax(axis=1)]
    return fitted_pipeline(classifier(np.float32), X, y), X


def test_zipmap_gives_a_dictionary_per_row_as_for_scikit_learns_classifiers(string_classifier):
    pipeline, X = string_classifier
    got = run(convert(pipeline, X), X)  # zipmap=True: skl2onnx's default
    assert list(got) == ["output_label", "output_probability"]
    np.testing.assert_array_equal(got["output_label"], pipeline.predict(X))
    probabilities = pipeline.predict_proba(X)
    assert [sorted(row) for row in got["output_probability"]] == [["cat", "dog", "emu"]] * len(X)
    rows = np.array([[row[c] for c in pipeline.classes_] for row in got["output_probability"]])
    scale = scales_of(pipeline, X)[1]
    assert_close(rows.astype(np.float32), probabilities, scale, TOLERANCE[X.dtype], "p")

    columns = run(convert(pipeline, X, options={MLPClassifier: {"zipmap": "columns"}}), X)
    assert list(columns) == ["output_label", "scat", "sdog", "semu"]
    np.testing.assert_array_equal(np.column_stack(list(columns.values())[1:]), rows)


def test_nocl_labels_are_class_indices_and_output_class_labels_adds_the_classes(
    string_classifier,
):
    pipeline, X = string_classifier
    options = {MLPClassifier: {"zipmap": False, "nocl": True}}
    got = run(convert(pipeline, X, options=options), X)
    expected = np.searchsorted(pipeline.classes_, pipeline.predict(X))
    np.testing.assert_array_equal(got["label"], expected)

    options = {MLPClassifier: {"zipmap": False, "output_class_labels": True}}
    got = run(convert(pipeline, X, options=options), X)
    assert list(got) == ["label", "probabilities", "class_labels"]
    np.testing.assert_array_equal(got["class_labels"], pipeline.classes_)


def test_double_inputs_with_zipmap_get_an_error_that_names_the_option():
    X = features(np.float64, n_samples=30)
    pipeline = fitted_pipeline(classifier(np.float64), X, scores(X, 3).argmax(axis=1))
    with pytest.raises(ValueError, match=r"ZipMap .* takes float probabilities only.*'zipmap'"):
        skl2onnx.to_onnx(pipeline, X[:1])


def test_inputs_of_another_type_are_cast_to_the_networks_dtype():
    X = features(np.float64, n_samples=30)
    estimator = classifier(np.float64).fit(X, scores(X, 3).argmax(axis=1))
    whole = np.round(X).astype(np.int64)
    model = skl2onnx.convert_sklearn(
        estimator, initial_types=[("X", Int64TensorType([None, 5]))], options=NO_ZIPMAP
    )
    got = run(model, whole)
    np.testing.assert_array_equal(got["label"], estimator.predict(whole.astype(np.float64)))
    assert got["probabilities"].dtype == np.float32  # skl2onnx's type for integer inputs
    expected = estimator.predict_proba(whole.astype(np.float64))
    np.testing.assert_allclose(got["probabilities"], expected, rtol=1e-6)


@pytest.mark.parametrize("opset", [7, 13, 17])
def test_an_older_target_opset_converts_and_runs(string_classifier, opset):
    pipeline, X = string_classifier
    model = convert(pipeline, X, options=NO_ZIPMAP, target_opset=opset)
    assert {o.domain: o.version for o in model.opset_import}[""] <= opset
    np.testing.assert_array_equal(run(model, X)["label"], pipeline.predict(X))


def test_an_opset_that_cannot_express_the_network_gets_the_exporters_error(string_classifier):
    pipeline, X = string_classifier
    with pytest.raises(ValueError, match="opset 6 cannot express a fastbp network"):
        skl2onnx.to_onnx(pipeline, X[:1], options=NO_ZIPMAP, target_opset=6)


@pytest.mark.parametrize(
    "unfitted",
    [MLPClassifier(), MLPRegressor(), make_pipeline(StandardScaler(), MLPClassifier())],
    ids=["classifier", "regressor", "pipeline"],
)
def test_an_unfitted_estimator_gets_a_clear_error(unfitted):
    name = type(unfitted[-1] if hasattr(unfitted, "steps") else unfitted).__name__
    message = rf"This {name} instance is not fitted yet, so there is no network to convert"
    with pytest.raises(NotFittedError, match=message):
        skl2onnx.to_onnx(unfitted, features(n_samples=2), options=NO_ZIPMAP)


def test_a_classifier_of_one_class_and_a_wrong_input_width_get_clear_errors():
    X = features(n_samples=20)
    single = classifier(np.float64).fit(X, np.full(20, "only"))
    with pytest.raises(ValueError, match=r"fitted on a single class \('only'\)"):
        skl2onnx.to_onnx(single, X[:1], options=NO_ZIPMAP)
    estimator = classifier(np.float64).fit(X, np.arange(20) % 3)
    with pytest.raises(ValueError, match=r"MLPClassifier takes 5 features; its ONNX input has 7"):
        skl2onnx.convert_sklearn(
            estimator, initial_types=[("X", FloatTensorType([None, 7]))], options=NO_ZIPMAP
        )


def test_without_skl2onnx_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.delitem(sys.modules, "fastbp.sklearn_onnx")
    with pytest.raises(ImportError, match=r'pip install "\.\[sklearn-onnx\]" in a clone of fastbp'):
        importlib.import_module("fastbp.sklearn_onnx")


def test_the_guides_pipeline_example_runs_and_prints_what_it_says(capsys):
    page = Path(__file__).parents[1] / "docs" / "guide" / "saving.md"
    readme = page.read_text(encoding="utf-8")
    section = readme[readme.index("## Deploy: ONNX") :]
    end = section.find("\n## ", 1)  # the section ends the page
    blocks = re.findall(r"```python\n(.*?)```", section[: end if end > 0 else None], re.DOTALL)
    code = next(block for block in blocks if "skl2onnx" in block)
    exec(compile(code, "docs/guide/saving.md (Deploy: ONNX, pipelines)", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed == re.findall(r"^print\(.*\)  # (.*)$", code, re.MULTILINE)
