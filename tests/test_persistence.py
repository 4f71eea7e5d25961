"""Network.save / fastbp.load: exact round trips, and untrusted files rejected, never unpickled."""

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastbp
from fastbp import ModelFileError, Network, Standardization, Trainer


def trained_network(dtype=np.float64, scaling=True, batch_norm=False):
    net = Network(
        [3, 5, 2],
        activations=["tanh", "softmax"],
        bias=[True, False],
        seed=4,
        dtype=dtype,
        batch_norm=batch_norm,
    )
    X = np.random.default_rng(0).normal(size=(12, 3)) * 10 + 3
    if scaling:
        net.scaling = Standardization.of(X)
    Trainer(net, learning_rate=0.1, loss="cross_entropy", seed=1).fit(
        X, np.arange(12) % 2, epochs=7
    )
    net.metadata["feature_names"] = ["a", "b", "c"]
    return net, X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scaling", [True, False])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_round_trip_keeps_every_bit_and_all_settings(tmp_path, dtype, scaling, batch_norm):
    net, X = trained_network(dtype, scaling, batch_norm)
    net.params[0] = np.nextafter(net.params[0], np.inf, dtype=dtype)  # a last-bit detail
    path = tmp_path / "model.npz"
    net.save(path)
    loaded = fastbp.load(path)
    assert repr(loaded) == repr(net)
    assert loaded.params.dtype == dtype
    np.testing.assert_array_equal(loaded.params.view(np.uint8), net.params.view(np.uint8))
    np.testing.assert_array_equal(loaded.statistics.view(np.uint8), net.statistics.view(np.uint8))
    assert loaded.statistics.size == (10 if batch_norm else 0)
    assert loaded.scaling == net.scaling
    assert loaded.metadata == net.metadata
    fit = loaded.metadata["fits"][0]
    assert (fit["epochs"], fit["loss"], fit["learning_rate"]) == (7, "cross_entropy", 0.1)
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_saved_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    net, _ = trained_network()
    net.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["header", "params", "scaling_mean", "scaling_scale"]
        header = json.loads(archive["header"].tobytes())
    assert header["format"] == "fastbp-model" and header["version"] == 1
    assert header["network"]["sizes"] == [3, 5, 2]


def test_saving_replaces_a_file_whole_and_refuses_what_it_cannot_load(tmp_path):
    net, _ = trained_network()
    path = tmp_path / "model.npz"
    path.write_bytes(b"an older model")
    net.save(path)
    assert fastbp.load(path).sizes == (3, 5, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no partial file left
    net.metadata["bad"] = object()
    with pytest.raises(TypeError, match="metadata must be JSON-serializable"):
        net.save(path)
    del net.metadata["bad"]
    net.params[2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        net.save(path)
    assert fastbp.load(path).sizes == (3, 5, 2)


def archive_bytes(members):
    """A zip of ``{name: bytes}``, stored uncompressed as np.savez does."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


NETWORK_SPEC = {
    "sizes": [2, 3, 1],
    "activations": ["relu", "identity"],
    "bias": [True, True],
    "init": "glorot",
    "seed": 0,
    "dtype": "float64",
}


def valid_members(**changes):
    net = Network([2, 3, 1], seed=0)
    header = {
        "format": "fastbp-model",
        "version": 1,
        "network": NETWORK_SPEC,
        "n_params": 13,
        "scaling": False,
        "metadata": {"fits": []},
    }
    for key, value in changes.pop("header", {}).items():
        header[key] = value
    members = {
        "header.npy": npy(np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)),
        "params.npy": npy(net.params),
    }
    members.update(changes)
    return members


def crafted_header_npy(descr, shape):
    """A .npy member whose header declares ``descr`` and ``shape`` over 8 bytes of data."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    text += " " * (-(len(text) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode() + bytes(8)


BAD_FILES = {
    "empty": (b"", "not a readable fastbp model file"),
    "not a zip": (b"PK\x03\x04 but nothing after", "not a readable fastbp model file"),
    "truncated": (archive_bytes(valid_members())[:-40], "not a readable fastbp model file"),
    "object array (pickle)": (
        archive_bytes(valid_members(**{"params.npy": npy(np.array([{}] * 13), True)})),
        "must be float64",
    ),
    "huge declared size": (
        archive_bytes(valid_members(**{"params.npy": crafted_header_npy("<f8", (10**15,))})),
        r"has shape \(1000000000000000,\); the header implies \(13,\)",
    ),
    "huge architecture": (
        archive_bytes(valid_members(header={"network": {"sizes": [100000, 100000]}})),
        "must hold exactly",
    ),
    "huge architecture, consistent header": (
        archive_bytes(
            valid_members(
                header={
                    "network": {
                        **NETWORK_SPEC,
                        "sizes": [10**6, 10**6],
                        "activations": ["identity"],
                        "bias": [False],
                    },
                    "n_params": 10**12,
                }
            )
        ),
        r"has shape \(13,\); the header implies \(1000000000000,\)",
    ),
    "wrong version": (archive_bytes(valid_members(header={"version": 99})), "format version 99"),
    "not fastbp": (archive_bytes(valid_members(header={"format": "other"})), "not a fastbp"),
    "wrong parameter count": (
        archive_bytes(valid_members(header={"n_params": 14})),
        "declares 14 parameters; its architecture has 13",
    ),
    "params shorter than the header says": (
        archive_bytes(valid_members(**{"params.npy": npy(np.zeros(12))})),
        r"has shape \(12,\); the header implies \(13,\)",
    ),
    "params of another dtype": (
        archive_bytes(valid_members(**{"params.npy": npy(np.zeros(13, np.float32))})),
        "must be float64; it is float32",
    ),
    "non-finite params": (
        archive_bytes(valid_members(**{"params.npy": npy(np.full(13, np.inf))})),
        "non-finite",
    ),
    "data shorter than its header": (
        archive_bytes(valid_members(**{"params.npy": crafted_header_npy("<f8", (13,))})),
        "holds 8 bytes of data",
    ),
    "scaling declared, missing": (
        archive_bytes(valid_members(header={"scaling": True})),
        "no 'scaling_mean' array",
    ),
    "stray member": (
        archive_bytes(valid_members(**{"extra.npy": npy(np.zeros(2))})),
        "unexpected archive member",
    ),
    "header not JSON": (
        archive_bytes({**valid_members(), "header.npy": npy(np.frombuffer(b"{no", np.uint8))}),
        "not valid JSON",
    ),
    "unknown activation": (
        archive_bytes(
            valid_members(header={"network": {**NETWORK_SPEC, "activations": ["relu", "swish"]}})
        ),
        "the header's network is invalid: activations must be one of",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_damaged_and_crafted_files_are_rejected_with_a_clear_error(tmp_path, case):
    data, message = BAD_FILES[case]
    path = tmp_path / "model.npz"
    path.write_bytes(data)
    with pytest.raises(ModelFileError, match=message):
        fastbp.load(path)


def test_compressed_members_are_refused(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in valid_members().items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match="is compressed"):
        fastbp.load(path)


def test_the_crafted_valid_file_loads(tmp_path):
    """The base of BAD_FILES is itself a good file: each case fails for its own defect."""
    path = tmp_path / "model.npz"
    path.write_bytes(archive_bytes(valid_members()))
    np.testing.assert_array_equal(fastbp.load(path).params, Network([2, 3, 1], seed=0).params)


def _original():
    net, _ = trained_network()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.npz"
        net.save(path)
        return net, path.read_bytes()


ORIGINAL, ORIGINAL_BYTES = _original()

mutations = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(ORIGINAL_BYTES) - 1), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, len(ORIGINAL_BYTES) - 1), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(ORIGINAL_BYTES)), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, len(ORIGINAL_BYTES) - 1), st.just(0)),
)


def mutate(data, edits):
    data = bytearray(data)
    for kind, position, value in edits:
        position = min(position, len(data))
        if kind == "flip" and position < len(data):
            data[position] ^= value
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = bytes([value])
        elif kind == "delete":
            del data[position : position + 1]
    return bytes(data)


@settings(
    max_examples=1200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=st.lists(mutations, min_size=1, max_size=4))
def test_fuzzed_model_files_load_exactly_or_raise_model_file_error(tmp_path, edits):
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(mutate(ORIGINAL_BYTES, edits))
    try:
        loaded = fastbp.load(path)
    except ModelFileError:
        return
    # Whatever survives the checks (a mutation of a timestamp, say) is the original, exactly.
    np.testing.assert_array_equal(loaded.params.view(np.uint8), ORIGINAL.params.view(np.uint8))
    assert repr(loaded) == repr(ORIGINAL) and loaded.scaling == ORIGINAL.scaling
