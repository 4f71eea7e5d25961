"""Networks exported to ONNX and run in ONNX Runtime, against ``Network.predict``."""

import json
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rounding import TOLERANCE, assert_close, error_scales
from test_cli import fastbp_command, write_rows

import fastbp
from fastbp import Network, Standardization, cli, onnx_export

HIDDEN = ("sigmoid", "tanh", "relu", "identity")


@st.composite
def exported_networks(draw):
    """A network of drawn architecture, activations, biases, batch normalization, scaling
    and dtype, with every parameter and running statistic set away from its default."""
    depth = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 24), min_size=depth + 1, max_size=depth + 1))
    outputs = [*HIDDEN, "softmax"] if sizes[-1] >= 2 else list(HIDDEN)
    activations = [draw(st.sampled_from(HIDDEN)) for _ in range(depth - 1)]
    activations.append(draw(st.sampled_from(outputs)))
    net = Network(
        sizes,
        activations=activations,
        bias=draw(st.lists(st.booleans(), min_size=depth, max_size=depth)),
        batch_norm=[draw(st.booleans()) for _ in range(depth - 1)] + [False],
        norm_epsilon=draw(st.sampled_from([1e-5, 1e-3, 0.1])),
        dtype=draw(st.sampled_from([np.float64, np.float32])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    randomize(net, rng, scaled=draw(st.booleans()))
    return net, rng


def randomize(net, rng, scaled):
    """Biases, batch normalization's scales, shifts and running statistics, and (when
    ``scaled``) the input scaling, all drawn from ``rng``."""
    for layer, bias in enumerate(net.biases):
        if bias is not None:
            bias[:] = rng.uniform(-0.5, 0.5, bias.shape)
        if net.batch_norm[layer]:
            units = net.sizes[layer + 1]
            net.running_means[layer][:] = rng.normal(0, 0.5, units)
            net.running_variances[layer][:] = rng.uniform(0.05, 4, units)
            net.norm_scales[layer][:] = rng.uniform(0.5, 2, units) * rng.choice([-1, 1], units)
            net.norm_shifts[layer][:] = rng.normal(0, 0.5, units)
    if scaled:
        net.scaling = Standardization(
            rng.normal(0, 10, net.n_inputs), rng.uniform(0.1, 10, net.n_inputs)
        )


def raw_inputs(net, rng, n_samples):
    """Inputs on the scale the network's scaling expects (standard normal without one)."""
    X = rng.normal(size=(n_samples, net.n_inputs))
    if net.scaling is not None:
        X = net.scaling.mean + net.scaling.scale * X
    return X.astype(net.dtype)


def run(model, X):
    """The model's outputs on ``X`` in ONNX Runtime, by output name."""
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


def assert_matches_network(net, model, X):
    got = run(model, X)
    tolerance = TOLERANCE[net.dtype]
    scales = error_scales(net, X)
    assert got["outputs"].dtype == net.dtype
    assert_close(got["outputs"], net.predict(X), scales[0], tolerance, "outputs")
    if onnx_export.is_classifier(net):
        expected = net.predict_proba(X)
        assert_close(got["probabilities"], expected, scales[1], tolerance, "probabilities")
    else:
        assert set(got) == {"outputs"}


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(exported_networks(), st.integers(1, 40))
def test_onnx_runtime_computes_what_predict_does(drawn, n_samples):
    net, rng = drawn
    model = net.to_onnx()
    onnx.checker.check_model(model, full_check=True)
    assert_matches_network(net, model, raw_inputs(net, rng, n_samples))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_poisson_regressors_exp_output_runs_in_onnx_runtime(dtype):
    net = Network([3, 5, 2], activations=["tanh", "exp"], dtype=dtype, seed=4)
    X = np.random.default_rng(4).normal(size=(17, 3)).astype(dtype)
    model = net.to_onnx()
    onnx.checker.check_model(model, full_check=True)
    got = run(model, X)["outputs"]
    np.testing.assert_allclose(got, net.predict(X), rtol=TOLERANCE[net.dtype])


def classifier(dtype=np.float64, n_outputs=3, seed=0):
    """A batch-normalized, scaled classifier with the column names ``fastbp train`` keeps."""
    activation = "softmax" if n_outputs > 1 else "sigmoid"
    net = Network([4, 6, 5, n_outputs], activations=["tanh", "relu", activation], dtype=dtype,
                  batch_norm=True, seed=seed)  # fmt: skip
    randomize(net, np.random.default_rng(seed), scaled=True)
    net.metadata.update(
        feature_names=["a", "b", "c", "d"],
        target_names=["label"],
        classes=["no", "yes"] if n_outputs == 1 else ["x", "y", "z"][:n_outputs],
    )
    return net


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_the_model_declares_its_types_a_dynamic_batch_and_the_column_names(dtype, n_outputs):
    net = classifier(dtype, n_outputs)
    model = net.to_onnx()
    element = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = model.graph
    assert [i.name for i in graph.input] == ["X"]
    assert [o.name for o in graph.output] == ["outputs", "probabilities"]
    shapes = [
        [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        for value in (*graph.input, *graph.output)
    ]
    assert shapes == [["N", 4], ["N", n_outputs], ["N", max(2, n_outputs)]]
    assert {value.type.tensor_type.elem_type for value in (*graph.input, *graph.output)} == {
        element
    }
    assert graph.input[0].doc_string == "raw inputs; columns: a, b, c, d"
    assert graph.output[1].doc_string.endswith("columns: " + ", ".join(net.metadata["classes"]))
    assert (model.opset_import[0].version, model.ir_version) == (onnx_export.DEFAULT_OPSET, 8)
    assert model.producer_name == "fastbp" and model.producer_version == fastbp.__version__

    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    properties = session.get_modelmeta().custom_metadata_map
    assert {key: json.loads(value) for key, value in properties.items()} == {
        key: net.metadata[key] for key in ("feature_names", "target_names", "classes")
    }
    rng = np.random.default_rng(1)
    for n_samples in (1, 9, 200):  # one model, any batch size
        assert_matches_network(net, model, raw_inputs(net, rng, n_samples))


def test_a_network_without_column_names_has_no_metadata_properties():
    model = Network([2, 1]).to_onnx()
    assert list(model.metadata_props) == []
    assert model.graph.input[0].doc_string == "raw inputs"


@pytest.mark.parametrize("opset", [7, 9, 11, 13, 15, onnx_export.DEFAULT_OPSET, 19, 21])
def test_every_opset_from_7_runs_in_onnx_runtime(opset):
    for net in (classifier(), classifier(np.float32, 1)):
        model = net.to_onnx(opset=opset)
        assert model.opset_import[0].version == opset
        minimum = onnx.helper.find_min_ir_version_for(model.opset_import)
        assert model.ir_version == max(minimum, onnx_export.MIN_IR_VERSION)
        onnx.checker.check_model(model, full_check=True)
        assert_matches_network(net, model, raw_inputs(net, np.random.default_rng(opset), 20))


def test_the_newest_opset_onnx_defines_is_a_valid_model():
    newest = onnx.defs.onnx_opset_version()
    onnx.checker.check_model(classifier().to_onnx(opset=newest), full_check=True)


@pytest.mark.parametrize(
    ("opset", "error", "message"),
    [
        (6, ValueError, r"opset 6 cannot express a fastbp network: fastbp writes opsets 7 "),
        (0, ValueError, r"opset 0 cannot express"),
        (onnx.defs.onnx_opset_version() + 1, ValueError, r"the newest the installed onnx"),
        ("17", TypeError, r"opset must be an integer; got '17'"),
        (17.0, TypeError, r"opset must be an integer; got 17.0"),
        (True, TypeError, r"opset must be an integer; got True"),
    ],
)
def test_an_opset_that_cannot_express_the_network_is_refused(tmp_path, opset, error, message):
    with pytest.raises(error, match=message):
        classifier().to_onnx(tmp_path / "model.onnx", opset=opset)
    assert list(tmp_path.iterdir()) == []


def test_to_onnx_writes_the_model_to_a_path_and_replaces_a_file_whole(tmp_path):
    net = classifier()
    path = tmp_path / "model.onnx"
    path.write_bytes(b"an older file")
    assert net.to_onnx(path) is None
    assert path.read_bytes() == net.to_onnx().SerializeToString()
    assert_matches_network(net, onnx.load(path), raw_inputs(net, np.random.default_rng(2), 5))
    net.to_onnx(str(tmp_path / "again.onnx"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.onnx", "model.onnx"]


@pytest.mark.parametrize("case", ["missing directory", "a directory", "under a file"])
def test_a_path_that_cannot_be_written_is_named_and_leaves_nothing_behind(tmp_path, case):
    (tmp_path / "directory").mkdir()
    (tmp_path / "file").write_bytes(b"kept")
    path = {
        "missing directory": tmp_path / "missing" / "model.onnx",
        "a directory": tmp_path / "directory",
        "under a file": tmp_path / "file" / "model.onnx",
    }[case]
    with pytest.raises(OSError, match=f"cannot write the ONNX model to {path}: "):
        classifier().to_onnx(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["directory", "file"]
    assert list((tmp_path / "directory").iterdir()) == []
    assert (tmp_path / "file").read_bytes() == b"kept"


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_write_that_fails_midway_leaves_the_old_file_and_no_partial_one(
    tmp_path, monkeypatch, failure
):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the old model")

    def fail(source, destination):
        raise failure

    monkeypatch.setattr(onnx_export.os, "replace", fail)
    expected = OSError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as raised:
        classifier().to_onnx(path)
    if expected is OSError:
        assert str(raised.value) == (
            f"[Errno 28] cannot write the ONNX model to {path}: No space left on device"
        )
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    assert path.read_bytes() == b"the old model"


def test_a_path_that_is_not_a_path_is_refused():
    with pytest.raises(TypeError, match="path must be a file path"):
        classifier().to_onnx(3)


def test_without_onnx_the_error_names_the_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(
        ImportError, match=r'needs the onnx package.*pip install "\.\[onnx\]" in a clone of fastbp'
    ):
        classifier().to_onnx()
    model = tmp_path / "model.npz"
    classifier().save(model)
    assert cli.main(["export", str(model), str(tmp_path / "model.onnx")]) == 2
    assert 'pip install ".[onnx]" in a clone of fastbp' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_fastbp_export_writes_what_the_trained_model_computes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) * [1, 10, 100] + [0, 50, -20]
    table = tmp_path / "train.csv"
    write_rows(table, ["a", "b", "c", "y"], np.column_stack([X, X @ [0.5, -0.02, 0.003]]))
    model, exported = tmp_path / "model.npz", tmp_path / "model.onnx"
    fastbp_command(
        "train", table, "--target", "y", "--layers", "6,4", "--activation", "tanh",
        "--batch-norm", "--standardize", "--epochs", "5", "--save", model, "--quiet",
        cwd=tmp_path,
    )  # fmt: skip
    printed = fastbp_command("export", model, exported, cwd=tmp_path).stdout
    assert printed == (
        f"wrote {exported} (ONNX opset {onnx_export.DEFAULT_OPSET}): X (N, 3) float64 -> "
        "outputs (N, 1)\n"
    )
    net = fastbp.load(model)
    assert any(net.batch_norm) and net.scaling is not None
    written = onnx.load(exported)
    onnx.checker.check_model(written, full_check=True)
    assert written.graph.input[0].doc_string == "raw inputs; columns: a, b, c"
    assert_matches_network(net, written, X)

    older = fastbp_command("export", model, tmp_path / "old.onnx", "--opset", "9", cwd=tmp_path)
    assert "(ONNX opset 9)" in older.stdout
    assert onnx.load(tmp_path / "old.onnx").opset_import[0].version == 9
    assert "usage: fastbp export" in fastbp_command("export", "--help", cwd=tmp_path).stdout


def test_fastbp_export_usage_errors_are_one_line(tmp_path):
    model = tmp_path / "model.npz"
    classifier().save(model)
    for args, message in [
        ((model, tmp_path / "missing" / "m.onnx"), f"cannot write the ONNX model to {tmp_path}"),
        ((model, tmp_path / "m.onnx", "--opset", "5"), "opset 5 cannot express a fastbp network"),
        ((tmp_path / "nothing.npz", tmp_path / "m.onnx"), "No such file"),
    ]:
        result = fastbp_command("export", *args, cwd=tmp_path, check=False)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_the_guides_example_runs_and_prints_what_it_says(tmp_path, monkeypatch, capsys):
    page = Path(__file__).parents[1] / "docs" / "guide" / "saving.md"
    readme = page.read_text(encoding="utf-8")
    section = readme[readme.index("## Deploy: ONNX") :]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/guide/saving.md (Deploy: ONNX)", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    promised = re.findall(r"^print\(.*\)  # (\[.*?\])", code, re.MULTILINE)
    assert printed == promised
    assert [p.name for p in tmp_path.iterdir()] == ["xor.onnx"]
