"""A network written as an ONNX model: the graph ``Network.predict`` computes, for any runtime.

The graph takes the raw inputs ``X`` of shape ``(N, n_inputs)`` in the network's dtype, with
the batch dimension ``N`` dynamic, and computes, in the order of ``kernels.layers.forward``:
the network's input standardization (``Sub``, ``Div``), then per layer ``MatMul``, the bias
(``Add``), batch normalization with the running statistics written as its own nodes (``Sub``
the mean, ``Div`` by ``sqrt(variance + norm_epsilon)``, ``Mul`` gamma, ``Add`` beta: the
rounding steps of ``predict``, where ONNX's ``BatchNormalization`` would fold them
differently), and the activation. Its outputs are ``outputs`` (``Network.predict``) and, for a
classifier (softmax or sigmoid output), ``probabilities`` (``Network.predict_proba``).

A float32 network's graph is float32 throughout, its standardization included (``predict``
standardizes in float64 and rounds once), so that runtimes without float64 kernels run it.

The nodes are written through a small builder interface (``constant`` and ``node``, see
``GraphBuilder``), so that a converter for another tool emits a network into its own graph
with ``emit_network`` and an adapter of a few lines: ``fastbp.sklearn_onnx.ContainerBuilder``
does it over skl2onnx's ``scope`` and ``container``.

Needs the ``onnx`` extra: ``pip install ".[onnx]"`` in a clone of fastbp.
"""

import json
import numbers
import os
import tempfile

import numpy as np

from fastbp import __version__

# Opset 7 is the first whose Add, Sub, Mul and Div broadcast as NumPy does (biases, batch
# normalization and scaling rely on it) and the oldest ONNX Runtime guarantees to run.
MIN_OPSET = 7
# Opset 17 (ONNX 1.12, ONNX Runtime 1.13, 2022) and later: a default old enough for most
# deployed runtimes; every node fastbp writes has had its present meaning since opset 7.
DEFAULT_OPSET = 17
# IR version 4 (ONNX 1.4) is the first in which initializers need not also be graph inputs:
# opsets 7 and 8 alone would allow IR version 3, where the weights would be inputs as well.
MIN_IR_VERSION = 4
INPUT = "X"
OUTPUTS = "outputs"
PROBABILITIES = "probabilities"
BATCH = "N"
_ACTIVATION_OPS = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "softmax": "Softmax",
    "exp": "Exp",
}
_NAME_KEYS = ("feature_names", "target_names", "classes")  # what fastbp.cli keeps in metadata


def onnx_module():
    """The ``onnx`` package, or an ImportError naming the extra that installs it."""
    try:
        import onnx
        import onnx.checker
        import onnx.defs
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise ImportError(
            "exporting to ONNX needs the onnx package, which is not installed: "
            'pip install ".[onnx]" in a clone of fastbp'
        ) from None
    return onnx


def to_onnx(network, path=None, opset=DEFAULT_OPSET):
    """The ONNX model of ``network``; see ``Network.to_onnx``."""
    onnx = onnx_module()
    opset = check_opset(opset, onnx)
    model = build_model(network, opset, onnx)
    onnx.checker.check_model(model, full_check=True)
    if path is None:
        return model
    write(model.SerializeToString(), path)
    return None


def check_opset(opset, onnx):
    """``opset`` as an int, if fastbp can write a network in it and the installed onnx knows it."""
    if isinstance(opset, bool) or not isinstance(opset, numbers.Integral):
        raise TypeError(f"opset must be an integer; got {opset!r}")
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"opset {opset} cannot express a fastbp network: fastbp writes opsets {MIN_OPSET} "
            f"(the first in which Add, Sub, Mul and Div broadcast as in NumPy, as biases, batch "
            f"normalization and scaling need) to {newest} (the newest the installed onnx "
            f"{onnx.__version__} defines)"
        )
    return int(opset)


def build_model(network, opset, onnx):
    """The ``ModelProto`` of ``network`` in ``opset`` (checked), stamped with the oldest IR
    version that opset allows (4 at least), so older runtimes load it."""
    helper = onnx.helper
    builder = GraphBuilder(network.dtype, onnx, reserved=(INPUT, OUTPUTS, PROBABILITIES))
    probabilities = PROBABILITIES if is_classifier(network) else None
    emit_network(network, builder, INPUT, OUTPUTS, probabilities)
    element = helper.np_dtype_to_tensor_dtype(network.dtype)
    names = {key: network.metadata[key] for key in _NAME_KEYS if network.metadata.get(key)}
    inputs = [
        helper.make_tensor_value_info(
            INPUT,
            element,
            [BATCH, network.n_inputs],
            _columns("raw inputs", names, "feature_names"),
        )
    ]
    outputs = [
        helper.make_tensor_value_info(
            OUTPUTS,
            element,
            [BATCH, network.n_outputs],
            _columns("Network.predict", names, "target_names"),
        )
    ]
    if probabilities:
        outputs.append(
            helper.make_tensor_value_info(
                PROBABILITIES,
                element,
                [BATCH, max(2, network.n_outputs)],
                _columns("Network.predict_proba", names, "classes"),
            )
        )
    graph = builder.graph("fastbp_network", inputs, outputs, doc_string=repr(network))
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=max(helper.find_min_ir_version_for(opsets), MIN_IR_VERSION),
        producer_name="fastbp",
        producer_version=__version__,
        doc_string=repr(network),
    )
    helper.set_model_props(model, {key: json.dumps(value) for key, value in names.items()})
    return model


def _columns(what, names, key):
    columns = names.get(key)
    return f"{what}; columns: {', '.join(map(str, columns))}" if columns else what


def is_classifier(network):
    """Whether ``network`` has ``predict_proba``: a softmax or sigmoid output layer."""
    return network.activations[-1] in ("softmax", "sigmoid")


def emit_network(network, builder, input_name, output_name, probabilities_name=None):
    """Write ``network``'s nodes into ``builder``: from the raw inputs ``input_name`` to
    ``output_name`` (``Network.predict``) and, when given, ``probabilities_name``
    (``Network.predict_proba``, for a classifier).

    Parameters
    ----------
    network : Network
    builder : object
        Has ``constant(hint, array) -> name`` (a tensor of ``array`` in the network's
        dtype) and ``node(op_type, inputs, hint, output=None, **attributes) -> name``; see
        ``GraphBuilder``. Every node is in the default domain and means the same in every
        opset from ``MIN_OPSET`` on.
    input_name, output_name : str
    probabilities_name : str, optional
    """
    x = input_name
    if network.scaling is not None:
        steps = [
            ("Sub", "mean", network.scaling.mean, {}),
            ("Div", "scale", network.scaling.scale, {}),
        ]
        x = _emit_steps(builder, "scaling", x, steps)
    last = len(network.weights) - 1
    for layer in range(last + 1):
        output = output_name if layer == last else None
        x = _emit_steps(builder, f"layer{layer}", x, _layer_steps(network, layer), output)
    if probabilities_name is None:
        return
    if network.activations[-1] == "sigmoid" and network.n_outputs == 1:
        one = builder.constant("one", np.ones((), dtype=network.dtype))
        complement = builder.node("Sub", [one, x], "complement")
        builder.node("Concat", [complement, x], "probabilities", probabilities_name, axis=1)
    else:
        builder.node("Identity", [x], "probabilities", probabilities_name)


def _layer_steps(network, layer):
    """The operations of weight layer ``layer``: (op type, name of the constant operand,
    the operand or None, attributes)."""
    steps = [("MatMul", "weights", network.weights[layer], {})]
    if network.biases[layer] is not None:
        steps.append(("Add", "bias", network.biases[layer], {}))
    if network.batch_norm[layer]:
        # In the network's dtype, as the kernel computes it; both square roots round
        # correctly, so the deviation is the kernel's bit for bit.
        epsilon = network.dtype.type(network.norm_epsilon)
        deviation = np.sqrt(network.running_variances[layer] + epsilon)
        steps += [
            ("Sub", "running_mean", network.running_means[layer], {}),
            ("Div", "running_deviation", deviation, {}),
            ("Mul", "norm_scale", network.norm_scales[layer], {}),
            ("Add", "norm_shift", network.norm_shifts[layer], {}),
        ]
    activation = network.activations[layer]
    if activation in _ACTIVATION_OPS:
        attributes = {"axis": 1} if activation == "softmax" else {}
        steps.append((_ACTIVATION_OPS[activation], None, None, attributes))
    return steps


def _emit_steps(builder, prefix, x, steps, output=None):
    """Apply ``steps`` to the tensor ``x``; the last step writes ``output`` when given."""
    for number, (op_type, operand_name, operand, attributes) in enumerate(steps):
        inputs = [x]
        if operand is not None:
            inputs.append(builder.constant(f"{prefix}_{operand_name}", operand))
        last = number == len(steps) - 1
        x = builder.node(
            op_type, inputs, f"{prefix}_{op_type.lower()}", output if last else None, **attributes
        )
    return x


class GraphBuilder:
    """Collects the nodes and constants of one ONNX graph under unique names.

    Parameters
    ----------
    dtype : numpy.dtype
        The dtype every constant is written in.
    onnx : module
        The ``onnx`` package (``onnx_module()``).
    reserved : iterable of str
        Names the graph's inputs and outputs take, never given to anything else.
    """

    def __init__(self, dtype, onnx, reserved=()):
        self.dtype = np.dtype(dtype)
        self._onnx = onnx
        self._nodes, self._initializers, self._taken = [], [], set(reserved)

    def constant(self, hint, array):
        """Add ``array`` (in the builder's dtype) as an initializer; return its name."""
        name = self._unique(hint)
        values = np.ascontiguousarray(array, dtype=self.dtype)
        self._initializers.append(self._onnx.numpy_helper.from_array(values, name))
        return name

    def node(self, op_type, inputs, hint, output=None, **attributes):
        """Add an ``op_type`` node of ``inputs``; return its output's name (``output`` if given)."""
        output = output or self._unique(hint)
        name = self._unique(f"{hint}_node")
        self._nodes.append(
            self._onnx.helper.make_node(op_type, inputs, [output], name, **attributes)
        )
        return output

    def graph(self, name, inputs, outputs, doc_string=""):
        """The ``GraphProto`` of what was added, with ``inputs`` and ``outputs`` (value infos)."""
        return self._onnx.helper.make_graph(
            self._nodes, name, inputs, outputs, self._initializers, doc_string=doc_string
        )

    def _unique(self, hint):
        name, number = hint, 1
        while name in self._taken:
            name, number = f"{hint}_{number}", number + 1
        self._taken.add(name)
        return name


def write(payload, path):
    """Write the bytes ``payload`` to ``path`` whole or not at all: into a temporary file in
    the same directory, then renamed over ``path``. An OSError names ``path``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike) or None; got {path!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    partial = None
    try:
        descriptor, partial = tempfile.mkstemp(dir=directory, prefix=".fastbp-", suffix=".partial")
        with os.fdopen(descriptor, "wb") as file:
            file.write(payload)
        os.replace(partial, path)
    except OSError as error:
        _discard(partial)
        message = f"cannot write the ONNX model to {path}: {error.strerror or error}"
        # With its errno, the OSError is the subclass the original was (FileNotFoundError...).
        raise (OSError(error.errno, message) if error.errno else OSError(message)) from error
    except BaseException:
        _discard(partial)
        raise


def _discard(partial):
    if partial is not None and os.path.exists(partial):
        os.unlink(partial)
