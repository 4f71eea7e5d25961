"""The epoch, written once: the loop kernels are generated from it for each fit.

A loop kernel is this module's skeleton (the order and the batches, scoring and tallies,
the update, history rows, validation, divergence checks, schedules and early stopping)
filled with one set of layer routines: ``kernels.loops`` for any layout, or
``kernels.unrolled`` for one tiny layout's exact shape. The skeleton is Python source, written
out for the features a fit uses (a ``Fit``), so a fit compiles only what it runs: plain SGD
does not pay for Adam's code in its compile time nor in its loop, and momentum per example
is one more line per weight rather than a pass of its own.

Every generated kernel is called as every kernel path is (``kernels.state``)::

    train(state, layout, data, validation, settings, options, scratch, history)

and trains ``state.params`` for ``history.shape[0]`` epochs, one history row each. It
returns the number of epochs trained: fewer on divergence (at the first epoch whose loss,
or parameters where checked, every ``CHECK_EVERY`` epochs and at the last, are not finite it
stops and returns that epoch's index, its row written) or when early stopping sets
``counters[STOPPED]``. The caller runs a fit in chunks of epochs, one call each; state
carries over between calls only through ``state``.

Per example (batch size 1, no norm clipping) each parameter's step is taken as its gradient
is found in the backward pass; in batches the gradient is summed first and the step taken at
the batch's end. Either way every delta is computed from the weights from before the step,
and an epoch's metrics come from the forward pass that trained on each example. The
arithmetic is ``kernels.train_matrix``'s and ``fastbp.reference``'s, operation for
operation apart from the order of BLAS's sums.

The source is written to a file named after its hash, in the kernels' cache folder
(``kernels.cache``), and imported under that name, so that Numba's on-disk cache works for
it as for any module (a kernel built from a string could not
be cached, nor found again by name when a cached kernel is loaded; nor is one that takes its
layer routines as arguments: Numba 0.68 misses the cache for those in every new process).
"""

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
from typing import NamedTuple

from fastbp.kernels import cache, codes
from fastbp.kernels.steps import Step


class Fit(NamedTuple):
    """What a generated kernel is written out for: the features of one fit.

    A feature marked "guarded" is written out behind a test of its setting when it is True,
    so a kernel with it also runs fits without it: routines that gain nothing from leaving
    it out say so (their ``compiled``), and fewer kernels are compiled.
    """

    per_example: bool  # batch size 1
    optimizer: int  # a code in kernels.steps.OPTIMIZERS, or another for apply_update's
    l2: bool
    l2_biases: bool  # with l2: the biases are decayed too
    l2_divided: bool  # with l2: its gradient added before the division by the batch's size
    clip_norm: bool
    dropout: bool
    weighted_mean: bool  # batches divided by their summed weight
    clip_value: bool  # guarded
    weighted: bool  # sample weights; guarded
    tallies: bool  # the loss weighted, scaled and penalized as batches tally it; guarded
    validation: bool  # guarded
    ends_epochs: bool  # schedules and early stopping; guarded
    ordered: bool  # each epoch's order given by the caller; guarded

    @classmethod
    def of(cls, settings, options, features):
        """The ``Fit`` of the encoded ``settings`` and ``options``, with the fit's
        ``features`` (names as ``fastbp._plan`` lists them)."""
        features = set(features)
        l2 = bool(settings[codes.L2] != 0)
        return cls(
            per_example=int(options[codes.BATCH_SIZE]) == 1,
            optimizer=int(options[codes.OPTIMIZER]),
            l2=l2,
            l2_biases=l2 and bool(options[codes.L2_BIASES]),
            l2_divided=l2 and "l2_divided" in features,
            clip_norm="clip_norm" in features,
            dropout="dropout" in features,
            weighted_mean="weighted_mean" in features,
            clip_value="clip_value" in features,
            weighted="sample_weight" in features,
            tallies=bool(features & {"sample_weight", "weighted_mean", "loss_output_mean"})
            or "l2_in_loss" in features,
            validation="validation" in features,
            ends_epochs=bool(features & {"schedule", "patience"}),
            ordered="order" in features,
        )

    @property
    def fused(self):
        """Whether each step is taken inside the backward pass (per example, unless the
        whole gradient's norm must be known first)."""
        return self.per_example and not self.clip_norm

    @property
    def tallies_batches(self):
        """Whether the loss is tallied batch by batch (always so in batches: every path
        sums in one order), weighted and scaled as the settings say."""
        return self.tallies or not self.fused

    def step(self):
        """The ``Step`` each parameter takes (for an optimizer ``Step`` cannot write out,
        iRPROP-, one that only says the update is not plain)."""
        return Step(self.optimizer, self.l2, self.l2_divided, divides=self.divides)

    @property
    def divides(self):
        """Whether the summed gradient is divided: in batches; per example, only by the
        example's weight (a batch of one is otherwise divided by 1)."""
        return not self.fused or self.weighted_mean


_TEMPLATE = '''\
"""fastbp training kernel: {description} (generated by kernels/skeleton.py)."""

import numpy as np
from numba import njit

from fastbp.kernels import codes
from fastbp.kernels.config import JIT_OPTIONS, MATRIX_JIT_OPTIONS
from fastbp.kernels.exponential import exp, tanh
from fastbp.kernels.layers import WIDE, derivative
{example_helpers}
{epoch_helpers}
{imports}

@njit(**{jit_options})
def train(state, layout, data, validation, settings, options, scratch, history):
    params = state.params
    optimizer_state = state.optimizer_state
    rng_state = state.rng_state
    counters = state.counters
    X = data.X
    Y = data.Y
    sample_weight = data.sample_weight
    n_samples = X.shape[0]
    n_params = params.shape[0]
    zero = params.dtype.type(0.0)
    one = params.dtype.type(1.0)
    rate = settings[codes.LEARNING_RATE]
    step = -rate
    momentum = settings[codes.MOMENTUM]
    beta_1 = settings[codes.BETA_1]
    beta_2 = settings[codes.BETA_2]
    epsilon = settings[codes.EPSILON]
    l2 = settings[codes.L2]
    clip_value = settings[codes.CLIP_VALUE]
    dropout_rate = np.float64(settings[codes.DROPOUT])
    dropout_scale = settings[codes.DROPOUT_SCALE]
    log_clip = np.float64(settings[codes.LOG_CLIP])
    loss_code = options[codes.LOSS_CODE]
    batch_size = options[codes.BATCH_SIZE]
    shuffle = options[codes.SHUFFLE] != 0
    check_every = options[codes.CHECK_EVERY]
    next_check = check_every - 1  # the next epoch whose parameters are checked
    last_epoch = history.shape[0] - 1
    n_batches = np.float64(-(-n_samples // batch_size))
    divisor = settings[codes.BATCH_DIVISOR]
    no_statistics = scratch[:0]  # these kernels train no batch normalization
    weighted = sample_weight.shape[0] > 0
    clipping = clip_value > 0.0
    weighted_mean = options[codes.WEIGHTED_MEAN] != 0
    l2_in_loss = options[codes.L2_IN_LOSS] != 0
    l2_divided = options[codes.L2_DIVIDED] != 0
{setup}
    loss_outputs = np.float64(n_outputs) if options[codes.LOSS_OUTPUT_MEAN] != 0 else 1.0

    given_order = data.order.shape[0] > 0
    order = np.arange(n_samples)
    for epoch in range(history.shape[0]):
{epoch_start}
{order}
{tallies}
{loop}
{record}
{epoch_end}
{store}
    return history.shape[0]
{extra}'''

# The helpers called once per epoch or batch: compiled apart, or inlined (kernels.inlined).
EPOCH_HELPERS = """\
from fastbp.kernels.epochs import end_epoch, learning_rate
from fastbp.kernels.layers import check_epoch, record_epoch, score_validation_by_example
from fastbp.kernels.shuffle import shuffle_in_place
from fastbp.kernels.updates import apply_update, l2_penalty"""
# The helpers called for every example: inlined (kernels.layers), or compiled apart
# (kernels.called) where an example's work dwarfs a call.
EXAMPLE_HELPERS = (
    "from fastbp.kernels.layers import drop_out, forward_layers, output_delta, score_example"
)
CALLED_EXAMPLE_HELPERS = EXAMPLE_HELPERS.replace("kernels.layers", "kernels.called")
INLINED_EPOCH_HELPERS = """\
from fastbp.kernels.inlined import (
    apply_update,
    check_epoch,
    end_epoch,
    l2_penalty,
    learning_rate,
    record_epoch,
    score_validation_by_example,
    shuffle_in_place,
)"""

_SHUFFLE = ["if shuffle:", "    shuffle_in_place(order, rng_state)"]
# An ensemble's kernel: each member lane shuffles its own order from its own generator.
_LANE_SHUFFLE = [
    "if shuffle:",
    "    for m in range(lanes):",
    "        shuffle_in_place(orders[m], rng_state[m : m + 1])",
]
_ORDER = [
    "if given_order:",
    "    order = data.order[epoch]  # the caller's (scikit-learn's shuffles): no copy of X",
    *(f"el{line}" if line.startswith("if") else line for line in _SHUFFLE),
]
# An ensemble's kernel: every member lane visits the caller's order, copied into its own
# row so that the lanes pick their examples as they do from their shuffles.
_LANE_ORDER = [
    "if given_order:",
    "    for m in range(lanes):",
    "        for i in range(n_samples):",
    "            orders[m, i] = data.order[epoch, i]",
    *(f"el{line}" if line.startswith("if") else line for line in _LANE_SHUFFLE),
]

_PER_EXAMPLE_LOOP = """\
for i in range(n_samples):
{pick}
{body}"""

_BATCH_LOOP = """\
for start in range(0, n_samples, batch_size):
    stop = min(start + batch_size, n_samples)
    n_rows = stop - start
{batch_start}
    for i in range(start, stop):
{pick}
{body}
{batch_end}"""

# The example (each member lane's, in an ensemble) visited at step ``i`` of the epoch.
_PICK = ["example = order[i]"]
_LANE_PICK = []  # each lane's example is read where the lanes gather it (kernels.lanes)

_SCORE = """\
example_loss, squared, absolute, correct = score_example(
    {acts}, {deltas}, {start}, n_outputs, {targets}, {row}, {loss_code}, {out_code}, log_clip
)"""

_TALLY = """\
squared_sum += squared
absolute_sum += absolute
n_correct += correct
output_delta({acts}, {deltas}, {start}, n_outputs, {loss_code}, {out_code})"""

# An epoch's tallies over its examples. In an ensemble's kernel (routines with ``lanes``)
# every tally, and a batch's, is an array with one entry per member lane (the routines'
# setup allocates them) and each line that touches them runs once per lane.
_TALLIES = ["loss_sum = 0.0", "squared_sum = 0.0", "absolute_sum = 0.0", "n_correct = 0"]
_TALLIED = re.compile(r"\b(loss_sum|squared_sum|absolute_sum|n_correct|batch_loss|batch_weight)\b")

# An ensemble's block records the metrics its options list (kernels.inlined), in their
# columns; one network, all of them from column 0.
_RECORD = """\
record_epoch{lanes}(
    history, epoch, {columns}, n_samples, Y.shape[1], loss_sum, squared_sum, absolute_sum,
    n_correct
)"""

# The divisor of a batch's summed gradient, and the loss it adds to the epoch's, as the
# matrix kernel tallies them (the loss weighted, scaled and with the L2 penalty).
_DIVISOR = """\
if weighted_mean:
    divisor = batch_weight
elif n_rows == batch_size:
    divisor = settings[codes.BATCH_DIVISOR]
else:
    divisor = settings[codes.LAST_BATCH_DIVISOR]"""

_BATCH_LOSS = """\
loss_scale = n_rows / np.float64(divisor) if weighted_mean else 1.0
loss_sum += batch_loss * (loss_scale / loss_outputs)
if l2_in_loss and l2 != 0.0:
    # Every example adds its batch's penalty, at the weights of its gradient. Without L2 it
    # is 0 and not summed: scikit-learn's estimators ask for it whatever their alpha, and
    # the sum, in order over every parameter, took E4 (203,530 parameters) ~8% of a batch.
    penalty = l2_penalty(params, layout, options, l2)
    if l2_divided:
        penalty = penalty / np.float64(divisor)
    loss_sum += n_rows * penalty"""

# The divergence check of routines whose parameters live in ``params``.
CHECK_PARAMS = """\
finite, next_check = check_epoch(history, epoch, params, next_check, check_every)
if not finite:
    return epoch"""

VALIDATION_BY_EXAMPLE = """\
score_validation_by_example(
    params,
    layout,
    validation.X,
    validation.Y,
    acts,
    deltas,
    no_statistics,
    settings,
    options,
    history,
    epoch,
)
monitored = history[epoch, codes.VALIDATION + codes.LOSS]"""

_END_EPOCH = """\
end_epoch(
    settings,
    options,
    counters,
    monitored,
    params,
    state.best_params,
    state.statistics,
    state.best_statistics,
)
if counters[codes.STOPPED] != 0.0:
    return epoch + 1"""


def kernel_source(routines, fit):
    """The Python source of the kernel of ``fit`` with the layer ``routines`` (an object
    of ``kernels.loops``, ``kernels.unrolled`` or ``kernels.batches``)."""
    step = fit.step()
    lanes = _lanes(routines)
    pick = _LANE_PICK if lanes else _PICK
    if getattr(routines, "by_batch", False):
        loop = _by_batch_loop(fit, routines, step)
    elif fit.fused:
        body = _example_lines(fit, routines, step)
        loop = _PER_EXAMPLE_LOOP.format(pick=_block(4, pick), body=_block(4, body))
    else:
        batch_start = [
            *routines.zero_gradient_lines(fit),
            *_per_lane(routines, _batch_tally_start(fit)),
        ]
        loop = _BATCH_LOOP.format(
            batch_start=_block(4, batch_start),
            pick=_block(8, pick),
            body=_block(8, _example_lines(fit, routines, None)),
            batch_end=_block(4, _batch_end_lines(fit, routines, step)),
        )
    # Every lane's row at once (its tallies are arrays): a view of the history per lane and
    # epoch cost a 4-example epoch of 32 lanes a fifth of its time.
    record = _RECORD.format(
        lanes="_lanes" if lanes else "", columns="options" if lanes else "0"
    ).splitlines()
    return _TEMPLATE.format(
        description=f"{routines.description} for {fit}",
        example_helpers=getattr(routines, "example_helpers", EXAMPLE_HELPERS),
        epoch_helpers=getattr(routines, "epoch_helpers", EPOCH_HELPERS),
        imports=getattr(routines, "imports", "") + "\n",
        jit_options=getattr(routines, "jit_options", "JIT_OPTIONS"),
        setup=_block(4, [*routines.setup_lines(fit), *(["n_rows = 1"] if fit.fused else [])]),
        epoch_start=_block(8, _epoch_start_lines(fit)),
        order=_block(8, _order_lines(fit, lanes)),
        tallies=_block(8, _per_lane(routines, _TALLIES)),
        loop=_block(8, loop.splitlines()),
        record=_block(8, record),
        epoch_end=_block(8, _epoch_end_lines(fit, routines, step)),
        store=_block(4, routines.store_lines(fit)),
        extra=getattr(routines, "extra_source", ""),
    )


def _order_lines(fit, lanes):
    """Each epoch's order: the caller's, if given, else shuffled (when shuffling), for one
    network or for each member lane."""
    if lanes:
        return _LANE_ORDER if fit.ordered else _LANE_SHUFFLE
    return _ORDER if fit.ordered else _SHUFFLE


def _lanes(routines):
    """The member lanes of an ensemble's routines (``kernels.lanes``); 0 for one network."""
    return getattr(routines, "lanes", 0)


def _per_lane(routines, lines, head=()):
    """``lines`` as they run for ``routines``: as they are for one network; for an
    ensemble's, in a loop over the member lanes ``m`` after the lines ``head``, every tally
    indexed by the lane."""
    if not _lanes(routines):
        return list(lines)
    body = [*head, *(_TALLIED.sub(r"\1[m]", line) for line in lines)]
    return ["for m in range(lanes):", *(f"    {line}" if line else "" for line in body)]


def _buffers(routines):
    """Where the scoring finds the outputs and their targets and writes the deltas: the
    activation scratch at the output layer's offset and the example's row of ``Y``, or for
    an ensemble the lane's rows of lane-major copies."""
    names = ("acts", "deltas", "start", "targets", "row")
    default = ("acts", "deltas", "out_start", "Y", "example")
    return dict(zip(names, getattr(routines, "score_buffers", default), strict=True))


def _example_lines(fit, routines, step):
    """One example forward, scored, and backward: stepped by ``step`` per example, or with
    ``step`` None its gradient summed for the batch."""
    scoring = [*_score_call(routines), *_score_lines(fit, routines)]
    return [
        *routines.forward_lines(fit),
        *_per_lane(routines, scoring, ["lane_start = m * n_outputs"]),
        *_prologue(routines, step),
        *routines.backward_lines(fit, step),
    ]


def _prologue(routines, step):
    """The lines before an example's steps (Adam's step size): ``step.prologue()``, or an
    ensemble's routines' own, whose lanes each have their own rate (``prologue_lines``)."""
    if step is None:
        return []
    if hasattr(routines, "prologue_lines"):
        return routines.prologue_lines(step)
    return step.prologue()


def _by_batch_loop(fit, routines, step):
    """The batch loop of routines that run a whole batch through each layer at once."""
    lines = [
        "for start in range(0, n_samples, batch_size):",
        "    n_rows = min(start + batch_size, n_samples) - start",
        *[f"    {line}" for line in _batch_tally_start(fit)],
        *[f"    {line}" for line in routines.batch_forward_lines(fit)],
        "    for i in range(n_rows):",
        *[f"        {line}" for line in routines.row_lines()],
        *[f"        {line}" for line in _score_call(routines)],
        *[f"        {line}" for line in _score_lines(fit, routines)],
        # The divisor before the backward pass, which may fold the step into its products.
        *[f"    {line}" for line in _divisor_lines(fit, routines)],
        *[f"    {line}" for line in routines.batch_backward_lines(fit)],
        *[f"    {line}" for line in _batch_end_lines(fit, routines, step, divisor=False)],
    ]
    return "\n".join(lines)


def _score_call(routines):
    # Literal codes (the unrolled kernels') let Numba prune the other losses' and outputs'
    # code: 4% of W1's time.
    return _SCORE.format(
        loss_code=routines.loss_code, out_code=routines.out_code, **_buffers(routines)
    ).splitlines()


def _batch_tally_start(fit):
    return ["batch_loss = 0.0", "batch_weight = zero"] if fit.tallies_batches else []


def _epoch_start_lines(fit):
    if not fit.ends_epochs:
        return []
    return ["rate = learning_rate(settings, options, counters)", "step = -rate"]


def _score_lines(fit, routines):
    """Tally the example's loss, and weight and clip its output deltas."""
    weight_of = getattr(routines, "example_weight", "sample_weight[example]")
    lines = [f"weight = {weight_of} if weighted else one" if fit.weighted else ""]
    weight = "weight" if fit.weighted else "one"
    if not fit.tallies_batches:
        lines.append("loss_sum += example_loss")
    elif fit.fused:  # a batch of one, tallied as it is trained
        lines += [f"batch_loss = np.float64({weight}) * example_loss", f"batch_weight = {weight}"]
        lines += _divisor_lines(fit, routines) + _BATCH_LOSS.splitlines()
    else:
        lines += [f"batch_loss += np.float64({weight}) * example_loss", f"batch_weight += {weight}"]
    buffers = _buffers(routines)
    tally = _TALLY.format(
        loss_code=routines.loss_code,
        out_code=routines.out_code,
        acts=buffers["acts"],
        deltas=buffers["deltas"],
        start=buffers["start"],
    )
    lines += tally.splitlines()
    guarded = (("weighted", fit.weighted), ("clipping", fit.clip_value))
    guards = [name for name, used in guarded if used]
    if guards:
        # Weighting an example's loss weights its delta; clipping trims the result.
        lines += [
            f"if {' or '.join(guards)}:",
            "    for p in range({start}, {start} + n_outputs):".format(**buffers),
        ]
        deltas = buffers["deltas"]
        if fit.weighted:
            lines += ["        if weighted:", f"            {deltas}[p] = {deltas}[p] * weight"]
        if fit.clip_value:
            lines += [
                "        if clipping:",
                f"            {deltas}[p] = min(max({deltas}[p], -clip_value), clip_value)",
            ]
    return [line for line in lines if line]


def _divisor_lines(fit, routines):
    if fit.fused:
        # A batch of one: divided by its weight, or by the full batch's divisor (1).
        return ["divisor = batch_weight"] if fit.weighted_mean else []
    if _lanes(routines):
        # Lanes share one divisor: an ensemble's fit refuses "weighted_mean", whose divisor
        # is each lane's summed weight.
        return [
            f"if{line[4:]}" if line.startswith("elif") else line
            for line in _DIVISOR.splitlines()[2:]
        ]
    return _DIVISOR.splitlines()


def _batch_end_lines(fit, routines, step, divisor=True):
    lines = _divisor_lines(fit, routines) if divisor else []
    if fit.tallies_batches:
        lines += _per_lane(routines, _BATCH_LOSS.splitlines())
    return lines + routines.apply_lines(fit, step)


def _epoch_end_lines(fit, routines, step):
    # What early stopping and reduce-on-plateau watch: the validation loss, if any.
    lines = ["monitored = history[epoch, codes.LOSS]"] if fit.ends_epochs else []
    if fit.validation:
        lines += ["if validation.X.shape[0] > 0:"]
        lines += [f"    {line}" for line in routines.store_lines(fit) + routines.validation_lines()]
    lines += routines.check_lines(fit)
    if fit.ends_epochs:
        # Early stopping copies the parameters as they are now.
        lines += routines.store_lines(fit) + _END_EPOCH.splitlines()
    else:
        lines.append("counters[codes.EPOCH] += 1.0")
    counted = step.counts_steps if fit.fused else routines.apply_counts_steps(fit, step)
    if not counted:
        lines.append("counters[codes.STEP_COUNT] += n_batches")
    return lines


def _block(indent, lines):
    return "\n".join(" " * indent + line if line else "" for line in lines)


# Compiled kernels, once per process: by module name, and by what they were written from
# (writing the source out takes a third of a short fit's Python time, 0.13 of 0.4 ms on a
# 3-4-1 net, so a kernel built once is found again without it).
_loaded = {}
_built = {}


def kernel(routines, fit):
    """The compiled kernel of ``fit`` with the layer ``routines``: compiled, or loaded from
    Numba's cache, once per process. The kernel is written out for ``routines.compiled(fit)``,
    which may guard features behind their settings rather than leave them out."""
    fit = routines.compiled(fit)
    key = (routines.key, fit)
    if key not in _built:
        source = kernel_source(routines, fit)
        name = "fastbp_kernel_" + hashlib.sha256(source.encode()).hexdigest()[:20]
        if name not in _loaded:
            _loaded[name] = _import_source(name, source).train
        _built[key] = _loaded[name]
    return _built[key]


def _import_source(name, source):
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(cache.directory(), name + ".py")
    existing = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as file:
            existing = file.read()
    if existing != source:
        # Written whole and renamed into place, so a concurrent reader never sees half a file.
        descriptor, partial = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".partial")
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(source)
        os.replace(partial, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a kernel loaded from Numba's cache finds its module by name
    spec.loader.exec_module(module)
    return module
