"""skl2onnx converters for ``fastbp.sklearn``'s ``MLPClassifier`` and ``MLPRegressor``.

``register()`` registers them with skl2onnx; from then on ``skl2onnx.to_onnx`` and
``skl2onnx.convert_sklearn`` convert the estimators, alone or inside a ``Pipeline``::

    import skl2onnx
    from fastbp import sklearn_onnx

    sklearn_onnx.register()
    model = skl2onnx.to_onnx(pipeline, X[:1].astype(np.float32))

Registration is a call, not a side effect of ``import fastbp.sklearn``: importing skl2onnx
takes seconds, which every user of the estimators would pay.

The converted estimators give what skl2onnx gives for scikit-learn's:

- a classifier's outputs are ``label`` (``predict``: int64 for integer, boolean or
  integer-valued float classes, strings for string classes; one 0/1 int64 column per class
  for multilabel targets) and ``probabilities`` (``predict_proba``), then skl2onnx's options
  apply: ``zipmap`` (True, the default: a list of dictionaries class -> probability;
  ``"columns"``: one output per class; False: the tensor), ``nocl`` (labels as class indices)
  and ``output_class_labels``;
- a regressor's output is ``variable`` (``predict``), of shape ``(N, n_outputs_)``: ``(N, 1)``
  for one target, as skl2onnx's regressors give it.

The network's nodes are ``fastbp.onnx_export.emit_network``'s (``Network.to_onnx``'s graph),
computed in the network's dtype as ``predict`` computes them: inputs of another type are cast
to it, and the outputs are cast to the float type skl2onnx gives the inputs (double for
double inputs, float otherwise). Labels are chosen in the network's dtype, before that cast.
ONNX's ``ZipMap`` takes float probabilities only: a model with double inputs needs the option
``zipmap`` False or ``"columns"``, and a clear error says so.

Where skl2onnx's converter of scikit-learn's MLPClassifier differs, these follow
``predict``: integer labels stay int64 (it casts them through int32), multilabel labels come
from ``Greater`` and ``Cast`` (its ``Binarizer`` has no double kernel in ONNX Runtime), and
a regressor of several outputs keeps its shape (it reshapes to ``(-1, 1)``).

Needs the ``sklearn-onnx`` extra: ``pip install ".[sklearn-onnx]"`` in a clone of fastbp.
"""

# _parse_sklearn_classifier is private: the parser update_registered_converter itself
# installs for classifiers (zipmap), there in every skl2onnx the extra allows (tested with
# 1.18.0, 1.19.1 and 1.20.0).
try:
    import skl2onnx
    from skl2onnx._parse import _parse_sklearn_classifier
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_proto_type,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers
    from skl2onnx.common.utils_classifier import get_label_classes
except ImportError:
    raise ImportError(
        "converting fastbp.sklearn's estimators with skl2onnx needs the skl2onnx package, "
        "which is not installed: it is fastbp's optional extra 'sklearn-onnx': "
        'pip install ".[sklearn-onnx]" in a clone of fastbp'
    ) from None

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from sklearn.utils.validation import check_is_fitted

from fastbp import onnx_export
from fastbp.sklearn import MLPClassifier, MLPRegressor

CLASSIFIER_ALIAS = "FastbpMLPClassifier"
REGRESSOR_ALIAS = "FastbpMLPRegressor"
# The options skl2onnx's own MLPClassifier converter declares; the default parser applies
# zipmap and output_class_labels, get_label_classes applies nocl.
CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "output_class_labels": [False, True],
    "nocl": [True, False],
}
_NOT_FITTED = (
    "This %(name)s instance is not fitted yet, so there is no network to convert to ONNX: "
    "call 'fit' first."
)


def register():
    """Register the skl2onnx converters of ``fastbp.sklearn.MLPClassifier`` and
    ``MLPRegressor``: their shape calculators, converters and the classifier's parser (with
    the options ``zipmap``, ``nocl`` and ``output_class_labels``). Calling it again
    registers them anew.

    Examples
    --------
    >>> import skl2onnx
    >>> from fastbp import sklearn_onnx
    >>> sklearn_onnx.register()
    >>> skl2onnx.get_model_alias(MLPClassifier)
    'FastbpMLPClassifier'
    """
    skl2onnx.update_registered_converter(
        MLPClassifier,
        CLASSIFIER_ALIAS,
        classifier_shapes,
        convert_classifier,
        parser=parse_classifier,
        options=CLASSIFIER_OPTIONS,
    )
    skl2onnx.update_registered_converter(
        MLPRegressor, REGRESSOR_ALIAS, regressor_shapes, convert_regressor
    )


def parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser of classifiers, once ``model`` is known to be convertible: the
    default parser reads ``classes_`` (zipmap) before any shape calculator could check."""
    check_convertible(model)
    options = scope.get_options(model, {"zipmap": True})
    if options["zipmap"] is True and isinstance(inputs[0].type, DoubleTensorType):
        raise ValueError(
            "ONNX's ZipMap (skl2onnx's default option zipmap=True) takes float "
            "probabilities only, and these inputs are double: pass "
            "options={MLPClassifier: {'zipmap': False}} (or 'columns') to skl2onnx, or float "
            "inputs"
        )
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers=custom_parsers)


def check_convertible(model):
    """Raise a clear error for an estimator that cannot be converted: unfitted
    (scikit-learn's NotFittedError), or a classifier fitted on a single class."""
    check_is_fitted(model, msg=_NOT_FITTED)
    if isinstance(model, MLPClassifier) and len(model.classes_) < 2:
        raise ValueError(
            f"{type(model).__name__} was fitted on a single class "
            f"({model.classes_.tolist()[0]!r}): it has no probabilities that skl2onnx's "
            "outputs can express; fit it on two classes or more"
        )


def _check_inputs(operator):
    """One input of one of the types skl2onnx gives numeric features, with the number of
    columns the network takes (when the shape says it)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=[1, 2])
    model = operator.raw_operator
    check_convertible(model)
    kind = operator.inputs[0].type
    if not isinstance(kind, (FloatTensorType, DoubleTensorType, Int64TensorType)):
        raise TypeError(
            f"{type(model).__name__}'s ONNX input must be a float, double or int64 tensor; "
            f"got {kind}"
        )
    columns = operator.inputs[0].get_second_dimension()
    n_inputs = model.network_.n_inputs
    if isinstance(columns, int) and columns != n_inputs:
        raise ValueError(
            f"{type(model).__name__} takes {n_inputs} features; its ONNX input has {columns}"
        )


def _output_type(operator):
    """skl2onnx's type for scores: double for double inputs, float otherwise."""
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    return DoubleTensorType if double else FloatTensorType


def _is_multilabel(model):
    return model._label_binarizer.y_type_ == "multilabel-indicator"


def classifier_shapes(operator):
    """skl2onnx's shape calculator of ``MLPClassifier``: ``label`` of shape ``(N,)`` (int64
    or string) or ``(N, n_classes)`` (multilabel, int64), ``probabilities`` ``(N,
    n_classes)``."""
    _check_inputs(operator)
    model = operator.raw_operator
    rows = operator.inputs[0].get_first_dimension()
    classes = get_label_classes(operator.scope_inst, model)
    labels = StringTensorType if np.asarray(classes).dtype.kind in "OUS" else Int64TensorType
    shape = [rows, len(classes)] if _is_multilabel(model) else [rows]
    operator.outputs[0].type = labels(shape=shape)
    operator.outputs[1].type = _output_type(operator)(shape=[rows, len(classes)])


def regressor_shapes(operator):
    """skl2onnx's shape calculator of ``MLPRegressor``: ``(N, n_outputs_)``."""
    _check_inputs(operator)
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _output_type(operator)(
        shape=[rows, operator.raw_operator.n_outputs_]
    )


def convert_classifier(scope, operator, container):
    """skl2onnx's converter of ``MLPClassifier``: the network's probabilities and, from
    them as ``predict`` takes them, the labels."""
    model = operator.raw_operator
    builder = ContainerBuilder(scope, container, model.network_.dtype)
    probabilities = scope.get_unique_variable_name("probabilities")
    onnx_export.emit_network(
        model.network_,
        builder,
        builder.network_input(operator.inputs[0]),
        scope.get_unique_variable_name("network_outputs"),
        probabilities,
    )
    labels = operator.outputs[0].full_name
    if _is_multilabel(model):
        # LabelBinarizer's threshold: a label is on where its probability exceeds 0.5.
        half = builder.constant("half", np.array(0.5))
        above = builder.node("Greater", [probabilities, half], "above_half")
        builder.node("Cast", [above], "label", labels, to=TensorProto.INT64)
    else:
        # predict's argmax; for one sigmoid output, 1 - p < p exactly where p > 0.5.
        index = builder.node("ArgMax", [probabilities], "argmax", axis=1, keepdims=0)
        classes = builder.labels(get_label_classes(scope, model))
        builder.node("Gather", [classes, index], "label", labels, axis=0)
    builder.network_output(probabilities, operator.outputs[1])


def convert_regressor(scope, operator, container):
    """skl2onnx's converter of ``MLPRegressor``: the network's outputs."""
    network = operator.raw_operator.network_
    builder = ContainerBuilder(scope, container, network.dtype)
    outputs = scope.get_unique_variable_name("network_outputs")
    onnx_export.emit_network(network, builder, builder.network_input(operator.inputs[0]), outputs)
    builder.network_output(outputs, operator.outputs[0])


class ContainerBuilder:
    """``onnx_export.GraphBuilder``'s interface (``constant``, ``node``) over skl2onnx's
    ``scope`` (unique names) and ``container`` (nodes and initializers), so that
    ``onnx_export.emit_network`` writes a network into the graph skl2onnx builds.

    Parameters
    ----------
    scope, container
        What skl2onnx passes a converter.
    dtype : numpy.dtype
        The network's dtype: every constant's and the graph's arithmetic.
    """

    def __init__(self, scope, container, dtype):
        self.dtype = np.dtype(dtype)
        self.element = helper.np_dtype_to_tensor_dtype(self.dtype)
        self._scope, self._container = scope, container
        # The opset skl2onnx writes (its default or to_onnx's target_opset) must express
        # the network's nodes; check_opset's error says which opsets do.
        opset = container.target_opset
        if opset is not None:
            onnx_export.check_opset(int(opset), onnx_export.onnx_module())

    def constant(self, hint, array):
        """Add ``array`` (in the network's dtype) as an initializer; return its name."""
        name = self._scope.get_unique_variable_name(hint)
        values = np.ascontiguousarray(array, dtype=self.dtype)
        # A TensorProto keeps every bit of the values (raw data).
        self._container.add_initializer(name, None, None, numpy_helper.from_array(values))
        return name

    def labels(self, classes):
        """Add the class labels as an int64 or string initializer; return its name."""
        name = self._scope.get_unique_variable_name("classes")
        classes = np.asarray(classes)
        if classes.dtype.kind in "OUS":
            encoded = [str(label).encode("utf-8") for label in classes]
            self._container.add_initializer(name, TensorProto.STRING, [len(encoded)], encoded)
        else:
            values = numpy_helper.from_array(classes.astype(np.int64))
            self._container.add_initializer(name, None, None, values)
        return name

    def node(self, op_type, inputs, hint, output=None, **attributes):
        """Add an ``op_type`` node of ``inputs``; return its output's name (``output`` if
        given)."""
        output = output or self._scope.get_unique_variable_name(hint)
        name = self._scope.get_unique_operator_name(op_type)
        self._container.add_node(op_type, inputs, output, name=name, **attributes)
        return output

    def network_input(self, variable):
        """The name of skl2onnx's input ``variable`` in the network's dtype."""
        if guess_proto_type(variable.type) == self.element:
            return variable.full_name
        return self.node("Cast", [variable.full_name], "cast_input", to=self.element)

    def network_output(self, name, variable):
        """Write the tensor ``name`` (in the network's dtype) to skl2onnx's output
        ``variable``, cast to its type."""
        element = guess_proto_type(variable.type)
        if element == self.element:
            self.node("Identity", [name], "output", variable.full_name)
        else:
            self.node("Cast", [name], "cast_output", variable.full_name, to=element)
