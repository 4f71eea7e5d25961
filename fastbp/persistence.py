"""Networks saved to, and loaded from, one ``.npz`` file that is safe to open when untrusted.

The file is an uncompressed NumPy ``.npz`` archive (readable with ``np.load(path)``) of:

- ``header.npy``: uint8, the UTF-8 JSON header: ``format``, ``version``, ``network``
  (sizes, activations, bias, init, seed, dtype, and batch_norm and norm_epsilon, which
  files written before batch normalization lack), ``n_params``, ``scaling`` (true when the
  two arrays below are present) and ``metadata``;
- ``params.npy``: the flat parameter vector, in the network's dtype, bit for bit;
- ``statistics.npy``: batch normalization's running statistics, when a layer has it;
- ``scaling_mean.npy``, ``scaling_scale.npy``: float64, when the network has a scaling.

An ``Ensemble`` is saved the same way, with ``format`` ``fastbp-ensemble``, a header key
``members`` (each member's ``seed`` and ``metadata``) and ``params`` holding every member's
parameter vector one after the other.

Loading trusts nothing in the file. It never unpickles. Before any array is allocated, every
member must be stored uncompressed (so no member can declare more bytes than the file holds)
and every array header must declare exactly the dtype and shape the JSON header implies. Any
failure is a ``ModelFileError`` saying what is wrong.
"""

import io
import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

from fastbp.errors import ModelFileError
from fastbp.network import Network, parameter_count
from fastbp.scaling import Standardization

FORMAT = "fastbp-model"
ENSEMBLE_FORMAT = "fastbp-ensemble"
VERSION = 1
MAX_HEADER_BYTES = 1 << 20
_HEADER_KEYS = {"format", "version", "network", "n_params", "scaling", "metadata"}
_ENSEMBLE_KEYS = _HEADER_KEYS | {"members"}
_MEMBERS = ("header", "params", "scaling_mean", "scaling_scale", "statistics")
_NETWORK_KEYS = ("sizes", "activations", "bias", "init", "seed", "dtype")
_NORM_KEYS = ("batch_norm", "norm_epsilon")  # optional: version 1 files before them lack them


def save(network, path):
    """Write ``network`` to ``path``; see ``Network.save``."""
    metadata = _json(network.metadata, "network.metadata")
    _write(network, network.params, "network.params", metadata, {}, path)


def save_ensemble(ensemble, path):
    """Write ``ensemble`` to ``path``; see ``Ensemble.save``."""
    members = [
        {"seed": seed, "metadata": _json(ensemble.network(k).metadata, f"member {k}'s metadata")}
        for k, seed in enumerate(ensemble.seeds)
    ]
    metadata = _json(ensemble.metadata, "ensemble.metadata")
    extra = {"format": ENSEMBLE_FORMAT, "members": members}
    params = ensemble.params.reshape(-1)
    _write(ensemble._template, params, "the members' params", metadata, extra, path)


def _json(value, name):
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be JSON-serializable: {error}") from None


def _write(network, params, name, metadata, extra, path):
    """Write the parameters ``params`` (called ``name``) of ``network`` (a Network, or an
    Ensemble with every member's vector) with the header, its keys ``extra`` added."""
    if not np.isfinite(params).all():
        raise ValueError(f"{name} holds non-finite values; refusing to save them")
    scaling = network.scaling
    header = {
        "format": FORMAT,
        "version": VERSION,
        "network": {
            "sizes": list(network.sizes),
            "activations": list(network.activations),
            "bias": list(network.bias),
            "init": network.init,
            "seed": network.seed,
            "dtype": network.dtype.name,
            "batch_norm": list(network.batch_norm),
            "norm_epsilon": network.norm_epsilon,
        },
        "n_params": parameter_count(network.sizes, network.bias, network.batch_norm),
        "scaling": scaling is not None,
        "metadata": metadata,
        **extra,
    }
    arrays = {
        "header": np.frombuffer(json.dumps(header, indent=1).encode(), dtype=np.uint8),
        "params": params,
    }
    if scaling is not None:
        arrays["scaling_mean"], arrays["scaling_scale"] = scaling.mean, scaling.scale
    if any(network.batch_norm):
        arrays["statistics"] = network.statistics

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, partial = tempfile.mkstemp(dir=directory, suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **arrays)
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


def load(path):
    """Read a network written by ``Network.save``, or an ensemble by ``Ensemble.save``.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npz`` file written by ``Network.save`` or ``Ensemble.save``.

    Returns
    -------
    Network or Ensemble
        With the saved parameters (bit for bit), scaling and metadata (an ensemble's members
        with their seeds and metadata).

    Raises
    ------
    ModelFileError
        If the file is not a fastbp model file, is damaged or truncated, was written by a
        newer format version, or its header and arrays disagree. Nothing in it is unpickled.
    """
    path = os.fspath(path)
    # Opening errors (FileNotFoundError and the like) pass through as they are; every error
    # after that, an OSError from a seek to a damaged offset included, is the file's.
    with open(path, "rb") as file:
        file_size = os.fstat(file.fileno()).st_size
        try:
            with zipfile.ZipFile(file) as archive:
                return _load(archive, file_size)
        except ModelFileError as error:
            raise ModelFileError(f"{path}: {error}") from None
        except _DAMAGED_ZIP as error:
            raise ModelFileError(f"{path} is not a readable fastbp model file: {error!r}") from None


# What zipfile raises on a damaged archive (found by tests/test_persistence.py's fuzzing).
_DAMAGED_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    NotImplementedError,
    OSError,
    OverflowError,
    struct.error,
    UnicodeDecodeError,
    ValueError,
    zlib.error,
)


def _load(archive, file_size):
    members = _members(archive, file_size)
    header = _header(_read_array(archive, members["header"], np.uint8, None, "header"))
    spec = header["network"]
    dtype = np.dtype(spec["dtype"])
    n_members = len(header["members"]) if "members" in header else 1
    length = header["n_params"] * n_members
    params = _read_array(archive, members["params"], dtype, length, "params")
    if not np.isfinite(params).all():
        raise ModelFileError("params holds non-finite values")
    expected = {"header", "params"}
    scaling = None
    if header["scaling"]:
        n_inputs = spec["sizes"][0]
        mean, scale = (
            _read_array(archive, members.get(name), np.float64, n_inputs, name)
            for name in ("scaling_mean", "scaling_scale")
        )
        scaling = _build(Standardization, "scaling", mean, scale)
        expected |= {"scaling_mean", "scaling_scale"}
    normalized = spec.get("batch_norm", [False] * len(spec["bias"]))
    n_statistics = 2 * sum(
        size for size, on in zip(spec["sizes"][1:], normalized, strict=True) if on
    )
    statistics = None
    if n_statistics:
        statistics = _read_array(
            archive, members.get("statistics"), dtype, n_statistics, "statistics"
        )
        if not np.isfinite(statistics).all():
            raise ModelFileError("statistics holds non-finite values")
        expected.add("statistics")
    if members.keys() != expected:
        raise ModelFileError(
            f"arrays {sorted(members)} found where the header implies {sorted(expected)}"
        )
    keys = _NETWORK_KEYS + tuple(key for key in _NORM_KEYS if key in spec)
    network = _build(Network, "network", **{key: spec[key] for key in keys})
    network.params[:] = params[: header["n_params"]]
    if statistics is not None:
        network.statistics[:] = statistics
    network.scaling = scaling
    network.metadata = header["metadata"]
    if "members" not in header:
        return network
    return _ensemble(network, params.reshape(n_members, -1), header)


def _ensemble(template, params, header):
    """The Ensemble of a file's header and its members' ``params`` (one row each)."""
    from fastbp.ensemble import Ensemble  # imports fastbp.network, as this module does

    networks = []
    for k, member in enumerate(header["members"]):
        network = template.copy()
        network._seed = member["seed"]
        network.params[:] = params[k]
        network.metadata = member["metadata"]
        networks.append(network)
    ensemble = _build(Ensemble, "ensemble", networks)
    ensemble.metadata = header["metadata"]
    return ensemble


def _members(archive, file_size):
    """The archive's members by array name, after checking that none is compressed or
    declares more bytes than the file holds (so reading one cannot exhaust memory)."""
    members = {}
    for info in archive.infolist():
        name = info.filename.removesuffix(".npy")
        if name not in _MEMBERS or not info.filename.endswith(".npy") or name in members:
            raise ModelFileError(f"unexpected archive member {info.filename!r}")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise ModelFileError(
                f"member {info.filename!r} is compressed; fastbp stores arrays raw"
            )
        if info.file_size > file_size:
            raise ModelFileError(
                f"member {info.filename!r} declares {info.file_size} bytes in a file of {file_size}"
            )
        members[name] = info
    for required in ("header", "params"):
        if required not in members:
            raise ModelFileError(f"no {required!r} array: not a fastbp model file")
    return members


def _read_array(archive, info, dtype, length, name):
    """Member ``info`` as a 1-D array of ``dtype`` and (unless None) ``length``, checking its
    NumPy header before the data is used; object arrays are refused, never unpickled."""
    if info is None:
        raise ModelFileError(f"the header declares a scaling, but there is no {name!r} array")
    data = archive.read(info)  # bounded by _members; checks the CRC
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, found = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, found = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, SyntaxError, TypeError, KeyError, RecursionError) as error:
        raise ModelFileError(f"array {name!r} has a damaged header: {error}") from None
    if found.hasobject or found != np.dtype(dtype).newbyteorder("<"):
        raise ModelFileError(f"array {name!r} must be {np.dtype(dtype).name}; it is {found}")
    expected_shape = (length,) if length is not None else shape
    if len(shape) != 1 or shape != expected_shape or fortran_order:
        raise ModelFileError(
            f"array {name!r} has shape {shape}; the header implies {expected_shape}"
        )
    if len(data) - stream.tell() != shape[0] * found.itemsize:
        raise ModelFileError(
            f"array {name!r} holds {len(data) - stream.tell()} bytes of data; its shape "
            f"{shape} needs {shape[0] * found.itemsize}"
        )
    return np.frombuffer(data, dtype=found, offset=stream.tell()).astype(dtype)


def _header(raw):
    """The JSON header, checked for everything load relies on."""
    if raw.size > MAX_HEADER_BYTES:
        raise ModelFileError(f"header of {raw.size} bytes is larger than {MAX_HEADER_BYTES}")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"header is not valid JSON: {error}") from None
    if not isinstance(header, dict) or header.get("format") not in (FORMAT, ENSEMBLE_FORMAT):
        raise ModelFileError("not a fastbp model file (the header names no fastbp format)")
    version = header.get("version")
    if version != VERSION:
        raise ModelFileError(
            f"format version {version!r} is not one this fastbp reads (version {VERSION}); "
            "a newer fastbp may have written it"
        )
    expected = _ENSEMBLE_KEYS if header["format"] == ENSEMBLE_FORMAT else _HEADER_KEYS
    if set(header) != expected:
        raise ModelFileError(f"header keys {sorted(header)} are not {sorted(expected)}")
    if "members" in header:
        _check_members(header["members"])
    spec = header["network"]
    if not isinstance(spec, dict) or set(spec) - set(_NORM_KEYS) != set(_NETWORK_KEYS):
        raise ModelFileError(
            f"header 'network' must hold exactly {list(_NETWORK_KEYS)} (and {list(_NORM_KEYS)})"
        )
    if spec["dtype"] not in ("float64", "float32"):
        raise ModelFileError(f"header dtype must be float64 or float32; got {spec['dtype']!r}")
    sizes, bias = spec["sizes"], spec["bias"]
    batch_norm = spec.get("batch_norm", [False] * len(bias))
    if not (
        isinstance(sizes, list)
        and isinstance(bias, list)
        and isinstance(batch_norm, list)
        and len(sizes) >= 2
        and len(bias) == len(batch_norm) == len(sizes) - 1
        and all(type(s) is int and s >= 1 for s in sizes)
        and all(type(b) is bool for b in bias + batch_norm)
    ):
        raise ModelFileError(
            f"header sizes {sizes!r}, bias {bias!r} and batch_norm {batch_norm!r} do not "
            "describe a network"
        )
    # Counted here, in Python integers, before the Network (and its parameters) is built.
    n_params = parameter_count(sizes, bias, batch_norm)
    if header["n_params"] != n_params or type(header["n_params"]) is not int:
        raise ModelFileError(
            f"header declares {header['n_params']!r} parameters; its architecture has {n_params}"
        )
    if type(header["scaling"]) is not bool or not isinstance(header["metadata"], dict):
        raise ModelFileError("header 'scaling' must be a bool and 'metadata' an object")
    return header


def _check_members(members):
    if not (
        isinstance(members, list)
        and members
        and all(
            isinstance(member, dict)
            and set(member) == {"seed", "metadata"}
            and isinstance(member["metadata"], dict)
            and (
                member["seed"] is None
                or (type(member["seed"]) is int and 0 <= member["seed"] < 2**32)
            )
            for member in members
        )
    ):
        raise ModelFileError(
            "header 'members' must be a non-empty list of objects with a seed and metadata"
        )


def _refuse_constant(name):
    raise ValueError(f"{name} is not allowed in a model header")


def _build(kind, what, *args, **kwargs):
    """``kind(*args, **kwargs)``, its validation errors reported as a damaged file."""
    try:
        return kind(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"the header's {what} is invalid: {error}") from None
