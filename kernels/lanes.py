"""Layer routines for an ensemble: a block of ``LANES`` networks of one layout side by side.

``kernels.skeleton`` writes the epoch around these lines, as for one network; here every
activation, delta, parameter and optimizer state has a member lane as its innermost index
(``params[p, m]``), so each statement of the layer loops runs over the lanes in the innermost
loop, which LLVM turns into SIMD lanes: each member's chain of dependent steps runs in its own
lane. Each lane visits its own example (its own shuffle), drops out its own units (its own
generator), scores it and steps with its own learning rate and L2 strength; the arithmetic
of each lane is ``kernels.loops``'s, operation for operation, so a member rounds exactly as
the same network trained alone.

An ensemble's members are cut into blocks of ``LANES``; ``train_blocks`` (written into the
same generated module, after the skeleton's ``train``) runs ``train`` on each block, and
``train_blocks_parallel`` spreads the blocks over Numba's threads (``prange``), each block
with its own rows of the scratch.
"""

import re
import sys

import numpy as np
from numba import njit

from fastbp.kernels import codes, loops, skeleton, unrolled
from fastbp.kernels.config import HELPER_OPTIONS
from fastbp.kernels.exponential import exp
from fastbp.kernels.layers import UNIT_INTERVAL, activation
from fastbp.kernels.shuffle import splitmix64

# Members per block. Eight float64 lanes fill one 512-bit register, but LLVM vectorizes the
# lane loops 8 wide and interleaved 4 times (AVX-512, as its optimization remarks say), so a
# loop of fewer than 32 steps runs its scalar remainder only: on a 256-member 3-4-1 fit
# blocks of 8, 16 and 32 lanes ran at 26, 16 and 12 ns per member-example (one core).
LANES = 32

# A block's settings vector: the shared ``codes`` settings, then each lane's learning rate,
# then each lane's L2 strength.
LANE_RATES = codes.SETTINGS_SIZE
LANE_L2 = codes.SETTINGS_SIZE + LANES
BLOCK_SETTINGS_SIZE = codes.SETTINGS_SIZE + 2 * LANES

# What this path runs beyond plain SGD: the generic path's per-example features less those
# that need a whole network's state per step or per epoch (schedules, early stopping and
# validation end epochs per network), or that only scikit-learn's estimators use. Adam's
# bias-corrected step size is each lane's own, from its rate (``Lanes.prologue_lines``).
# The exp output and Poisson loss run on the layer and scoring code single fits use.
RUNS = (
    frozenset(
        {
            "momentum",
            "nesterov",
            "adam",
            "l2",
            "clip_value",
            "sample_weight",
            "order",
            "exp",
            "poisson",
            "dropout",
        }
    )
    & loops.RUNS
)


def scratch_rows(width, n_params):
    """The rows of a block's scratch (each ``LANES`` wide): activations and deltas of
    ``width`` units, dropout's outputs before dropping and masks, and a gradient of
    ``n_params``."""
    return 4 * width + n_params


_SETUP = f"""\
# Read at run time: LLVM unrolls a loop of a literal 8 steps whole before its vectorizer
# sees it, and then cannot prove the unrolled lanes' arrays apart; a loop of unknown length
# it vectorizes, checking once per loop that the arrays do not overlap.
lanes = np.uint64(params.shape[1])
n_inputs = X.shape[1]
last = layout.shape[0] - 1
n_layers = layout.shape[0]
out_start = layout[last, codes.OUTPUT_OFFSET]
out_code = layout[last, codes.ACTIVATION]
n_outputs = layout[last, codes.FAN_OUT]
width = out_start + n_outputs
acts = scratch[:width]
deltas = scratch[width : 2 * width]
raw = scratch[2 * width : 3 * width]
masks = scratch[3 * width : 4 * width]
gradient = scratch[4 * width : 4 * width + n_params]
# The outputs and their deltas lane by lane: score_example reads one network's in a row.
outputs = np.empty(lanes * n_outputs, params.dtype)
output_deltas = np.empty(lanes * n_outputs, params.dtype)
lane_targets = np.empty((lanes, n_outputs), params.dtype)
lane_weights = np.empty(lanes, params.dtype)
step_sizes = np.empty(lanes, params.dtype)  # Adam's, each lane's from its own rate
rates = settings[{LANE_RATES} : {LANE_RATES} + lanes]
l2s = settings[{LANE_L2} : {LANE_L2} + lanes]
bias_l2s = l2s if options[codes.L2_BIASES] != 0 else l2s * zero
orders = np.empty((lanes, n_samples), np.int64)
for m in range(lanes):
    for i in range(n_samples):
        orders[m, i] = i
diverged = state.diverged
loss_sum = np.zeros(lanes)
squared_sum = np.zeros(lanes)
absolute_sum = np.zeros(lanes)
n_correct = np.zeros(lanes, np.int64)
batch_loss = np.zeros(lanes)
batch_weight = np.zeros(lanes, params.dtype)"""

# The lane's own settings, bound to the names ``kernels.steps.Step`` writes.
_BIND = ["rate = rates[m]", "step = -rate", "l2 = l2s[m]"]
_BIND_BIAS = ["rate = rates[m]", "step = -rate", "l2 = bias_l2s[m]"]


def _bind(step, lines):
    """The lane's settings ``lines`` (``_BIND`` or ``_BIND_BIAS``) and, for Adam, its step
    size (``Lanes.prologue_lines`` sets one per lane)."""
    if step is None or step.optimizer != codes.ADAM:
        return list(lines)
    return [*lines, "step_size = step_sizes[m]"]


# Each lane's sample weight, in weighted fits only (the others read none).
_GATHER_WEIGHTS = """\
if weighted:
    for m in range(lanes):
        lane_weights[m] = sample_weight[m, orders[m, i]]"""

# Each lane's example gathered first, so that the loops over the lanes after it read their
# arrays in order (LLVM vectorizes none that reads through an index). Unless each member
# shuffles its own order, every lane visits the same example (in order, or the given
# order), whose values are then read once and stored across the lanes, in a loop LLVM
# vectorizes: 256 streetlight nets (N1) spent 8.8-9.4 ms in the kernel so, against
# 11.8-14.6 gathering lane by lane, alternated.
_GATHER = f"""\
if shuffle and not given_order:
    for m in range(lanes):
        example = orders[m, i]
        for k in range(n_inputs):
            acts[k, m] = X[example, k]
        for j in range(n_outputs):
            lane_targets[m, j] = Y[example, j]
else:
    example = orders[0, i]
    for k in range(n_inputs):
        value = X[example, k]
        for m in range(lanes):
            acts[k, m] = value
    for j in range(n_outputs):
        value = Y[example, j]
        for m in range(lanes):
            lane_targets[m, j] = value
{_GATHER_WEIGHTS}"""

_FORWARD = f"""\
{_GATHER}
forward_lanes(params, layout, acts, zero, 0, n_layers)"""

# The forward pass layer by layer, each hidden layer's units dropped out in every lane from
# the lane's own generator, as ``kernels.loops`` drops them for one network.
_FORWARD_DROPOUT = f"""\
{_GATHER}
for layer in range(n_layers):
    forward_lanes(params, layout, acts, zero, layer, layer + 1)
    if layer < last:
        out = layout[layer, codes.OUTPUT_OFFSET]
        stop = out + layout[layer, codes.FAN_OUT]
        drop_out_lanes(acts, raw, masks, out, stop, dropout_rate, dropout_scale, rng_state)"""

_OUTPUTS = """\
for j in range(n_outputs):
    for m in range(lanes):
        outputs[m * n_outputs + j] = acts[out_start + j, m]"""

_BACKWARD = """\
for j in range(n_outputs):
    for m in range(lanes):
        deltas[out_start + j, m] = output_deltas[m * n_outputs + j]
for layer in range(last, -1, -1):
    fan_in = layout[layer, codes.FAN_IN]
    fan_out = layout[layer, codes.FAN_OUT]
    weights = layout[layer, codes.WEIGHT_OFFSET]
    inputs = layout[layer, codes.INPUT_OFFSET]
    out = layout[layer, codes.OUTPUT_OFFSET]
    if layer > 0:
        # Every delta of the layer below from the weights before this layer's steps.
        below_code = layout[layer - 1, codes.ACTIVATION]
        for k in range(fan_in):
            row = weights + k * fan_out
            for m in range(lanes):
                deltas[inputs + k, m] = zero
            for j in range(fan_out):
                for m in range(lanes):
                    deltas[inputs + k, m] += deltas[out + j, m] * params[row + j, m]
            for m in range(lanes):
{hidden}
    for k in range(fan_in):
        row = weights + k * fan_out
        for j in range(fan_out):
            for m in range(lanes):
{weight_step}
    if layout[layer, codes.HAS_BIAS]:
        bias = layout[layer, codes.BIAS_OFFSET]
        for j in range(fan_out):
            for m in range(lanes):
{bias_step}"""

_APPLY = """\
for layer in range(n_layers):
    first = layout[layer, codes.WEIGHT_OFFSET]
    for p in range(first, first + layout[layer, codes.FAN_IN] * layout[layer, codes.FAN_OUT]):
        for m in range(lanes):
{weight_step}
    if layout[layer, codes.HAS_BIAS]:
        first = layout[layer, codes.BIAS_OFFSET]
        for p in range(first, first + layout[layer, codes.FAN_OUT]):
            for m in range(lanes):
{bias_step}"""

_CHECK = """\
check_params = epoch == next_check or epoch == last_epoch
if check_params:
    next_check += check_every
check_lanes(history, epoch, params, diverged, check_params)"""

# Written into the generated module after ``train``: the blocks of an ensemble, one after
# another or spread over Numba's threads, each trained by ``{block_kernel}`` (``train`` here,
# one member's in kernels.members). Each block's arrays are the leading-axis rows of the
# ensemble's; ``history`` is (epochs, blocks, lanes, columns).
_BLOCKS = """

@njit(**HELPER_OPTIONS)
def train_block(b, blocks, layout, data, validation, settings, options, scratch, history):
    state = LaneState(
        blocks.params[b],
        blocks.rng_state[b],
        blocks.optimizer_state[b],
        blocks.counters[b],
        blocks.statistics,
        blocks.best_params,
        blocks.best_statistics,
        blocks.diverged[b],
    )
    given = Data(data.X, data.Y, data.sample_weight[b], data.order)
    return {block_kernel}(
        state, layout, given, validation, settings[b], options, scratch[b], history[:, b]
    )


@njit(**JIT_OPTIONS)
def train_blocks(blocks, layout, data, validation, settings, options, scratch, history):
    for b in range(blocks.params.shape[0]):
        train_block(b, blocks, layout, data, validation, settings, options, scratch, history)
    return history.shape[0]


@njit(parallel=True, **JIT_OPTIONS)
def train_blocks_parallel(blocks, layout, data, validation, settings, options, scratch, history):
    for b in prange(blocks.params.shape[0]):
        train_block(b, blocks, layout, data, validation, settings, options, scratch, history)
    return history.shape[0]
"""


def block_runners(block_kernel):
    """The source of ``train_blocks`` and ``train_blocks_parallel``, each block trained by the
    generated module's function ``block_kernel``."""
    return _BLOCKS.replace("{block_kernel}", block_kernel)


def ensemble_fit(settings, options, features):
    """The ``skeleton.Fit`` of an ensemble's fit: the shared ``settings`` hold the first
    member's L2, so the kernel decays wherever any member does (``features``)."""
    fit = skeleton.Fit.of(settings, options, features)
    l2 = "l2" in features
    return fit._replace(l2=l2, l2_biases=l2 and bool(options[codes.L2_BIASES]))


def kernels_for_fit(settings, options, features, routines=None):
    """The generated module's ``train_blocks`` and ``train_blocks_parallel`` for the fit the
    encoded shared ``settings``, ``options`` and its ``features`` describe (the per-lane
    settings do not change the kernel), and its ``train`` of one block; the layers are
    ``routines``' (``LANE_ROUTINES``, for any layout, by default)."""
    train = skeleton.kernel(routines or LANE_ROUTINES, ensemble_fit(settings, options, features))
    module = sys.modules[train.__module__]
    return module.train_blocks, module.train_blocks_parallel, train


class Lanes:
    """The layer routines of a block of member lanes: loops over any layout read at run
    time, the lane innermost; one kernel per ``Fit`` and dtype, whatever the layout."""

    description = f"member lanes ({LANES}) over any layout"
    out_code = "out_code"
    loss_code = "loss_code"
    key = "lanes"
    lanes = LANES
    # A block's epoch is every lane's few examples, and its per-epoch helpers run per lane.
    epoch_helpers = skeleton.INLINED_EPOCH_HELPERS
    score_buffers = ("outputs", "output_deltas", "lane_start", "lane_targets", "m")
    example_weight = "lane_weights[m]"
    imports = (
        "from numba import prange\n"
        "from fastbp.kernels.config import HELPER_OPTIONS\n"
        "from fastbp.kernels.lanes import check_lanes, drop_out_lanes, forward_lanes, l2_penalty\n"
        "from fastbp.kernels.inlined import record_epoch_lanes\n"
        "from fastbp.kernels.state import Data, LaneState\n"
    )
    extra_source = block_runners("train")

    def compiled(self, fit):
        """Guard delta clipping and sample weights (one test per output delta) and a given
        order (one per epoch), and tally every fit's loss as a weighted one's (a weight of 1
        changes no rounding), so that fits with and without them share a kernel."""
        return fit._replace(clip_value=True, weighted=True, tallies=True, ordered=True)

    def setup_lines(self, fit):
        return _SETUP.splitlines()

    def forward_lines(self, fit):
        return [
            *(_FORWARD_DROPOUT if fit.dropout else _FORWARD).splitlines(),
            *_OUTPUTS.splitlines(),
        ]

    def backward_lines(self, fit, step):
        def update(at, value, bind):
            if step is None:
                return [f"gradient[{at}, m] += {value}"]
            state = f"optimizer_state[{at}, m]"
            second = f"optimizer_state[n_params + {at}, m]"
            return [*_bind(step, bind), *step.lines(f"params[{at}, m]", value, True, state, second)]

        return _BACKWARD.format(
            hidden=skeleton._block(16, loops.hidden_lines(fit, "deltas[inputs + k, m]", ", m")),
            weight_step=skeleton._block(
                16, update("row + j", "(acts[inputs + k, m] * deltas[out + j, m])", _BIND)
            ),
            bias_step=skeleton._block(16, update("bias + j", "deltas[out + j, m]", _BIND_BIAS)),
        ).splitlines()

    def zero_gradient_lines(self, fit):
        return [
            "for p in range(n_params):",
            "    for m in range(lanes):",
            "        gradient[p, m] = zero",
        ]

    def prologue_lines(self, step):
        """``Step.prologue`` for the lanes: the update count advanced once for the block
        (every lane steps together), and each lane's bias-corrected step size from its own
        rate, in ``Step.prologue``'s order of operations (the powers, shared, computed once)."""
        if step.optimizer != codes.ADAM:
            return step.prologue()
        return [
            "counters[codes.STEP_COUNT] += 1.0",
            "t = counters[codes.STEP_COUNT]",
            "second_correction = np.sqrt(1.0 - np.float64(beta_2) ** t)",
            "first_correction = 1.0 - np.float64(beta_1) ** t",
            "for m in range(lanes):",
            "    corrected = np.float64(rates[m]) * second_correction",
            "    step_sizes[m] = params.dtype.type(corrected / first_correction)",
        ]

    def apply_lines(self, fit, step):
        def update(bind):
            state, second = "optimizer_state[p, m]", "optimizer_state[n_params + p, m]"
            lines = step.lines("params[p, m]", "gradient[p, m]", True, state, second)
            return [*_bind(step, bind), *lines]

        return [
            *self.prologue_lines(step),
            *_APPLY.format(
                weight_step=skeleton._block(12, update(_BIND)),
                bias_step=skeleton._block(16, update(_BIND_BIAS)),
            ).splitlines(),
        ]

    def apply_counts_steps(self, fit, step):
        return step.counts_steps

    def validation_lines(self):
        raise ValueError("an ensemble's kernel scores no validation data")

    def check_lines(self, fit):
        return _CHECK.splitlines()

    def store_lines(self, fit):
        return []  # the parameters live in params


LANE_ROUTINES = Lanes()


@njit(**HELPER_OPTIONS)
def forward_lanes(params, layout, acts, zero, first, stop):
    """Layers ``first`` to ``stop - 1`` of the forward pass of every lane, the first's inputs
    already in ``acts`` (units by lanes): each output summed over the inputs in order, then
    the bias added and the activation applied, as ``kernels.layers.forward_layers`` does for
    one network."""
    lanes = acts.shape[1]
    for layer in range(first, stop):
        fan_in = layout[layer, codes.FAN_IN]
        fan_out = layout[layer, codes.FAN_OUT]
        weights = layout[layer, codes.WEIGHT_OFFSET]
        inputs = layout[layer, codes.INPUT_OFFSET]
        out = layout[layer, codes.OUTPUT_OFFSET]
        has_bias = layout[layer, codes.HAS_BIAS] != 0
        bias = layout[layer, codes.BIAS_OFFSET]
        code = layout[layer, codes.ACTIVATION]
        # Row by row, four input rows a sweep, as kernels.layers.forward_layers sums wide
        # layers (the same order). Summed output by output, each addition waited for the
        # store of the one before: N2 (32 nets of 64-32-10) ran 164-178 ms against 142-148.
        for j in range(fan_out):
            for m in range(lanes):
                acts[out + j, m] = zero
        whole = fan_in - fan_in % np.uint64(4)
        for k in range(np.uint64(0), whole, np.uint64(4)):
            row_0 = weights + k * fan_out
            row_1 = row_0 + fan_out
            row_2 = row_1 + fan_out
            row_3 = row_2 + fan_out
            for j in range(fan_out):
                for m in range(lanes):
                    total = acts[out + j, m] + acts[inputs + k, m] * params[row_0 + j, m]
                    total = total + acts[inputs + k + np.uint64(1), m] * params[row_1 + j, m]
                    total = total + acts[inputs + k + np.uint64(2), m] * params[row_2 + j, m]
                    acts[out + j, m] = (
                        total + acts[inputs + k + np.uint64(3), m] * params[row_3 + j, m]
                    )
        for k in range(whole, fan_in):
            row = weights + k * fan_out
            for j in range(fan_out):
                for m in range(lanes):
                    acts[out + j, m] += acts[inputs + k, m] * params[row + j, m]
        for j in range(fan_out):
            if has_bias:
                for m in range(lanes):
                    acts[out + j, m] = acts[out + j, m] + params[bias + j, m]
            # A loop per activation, so that each vectorizes across the lanes (sigmoid and
            # exp in one, as in kernels.layers.forward_layers).
            if code == codes.SIGMOID or code == codes.EXP:
                for m in range(lanes):
                    acts[out + j, m] = activation(acts[out + j, m], code)
            elif code == codes.RELU:
                for m in range(lanes):
                    acts[out + j, m] = activation(acts[out + j, m], codes.RELU)
            elif code == codes.TANH:
                for m in range(lanes):
                    acts[out + j, m] = activation(acts[out + j, m], codes.TANH)
        if code == codes.SOFTMAX:
            for m in range(lanes):
                largest = acts[out, m]
                for j in range(out, out + fan_out):
                    largest = max(largest, acts[j, m])
                total = zero
                for j in range(out, out + fan_out):
                    acts[j, m] = exp(acts[j, m] - largest)
                    total += acts[j, m]
                for j in range(out, out + fan_out):
                    acts[j, m] = acts[j, m] / total


@njit(**HELPER_OPTIONS)
def drop_out_lanes(acts, raw, masks, start, stop, rate, scale, rng_state):
    """``kernels.layers.drop_out`` in every lane: units ``start`` to ``stop - 1`` of lane
    ``m`` kept or dropped by draws from the lane's own generator ``rng_state[m]``, one per
    unit in order, so that each lane draws the sequence its network draws alone."""
    zero = acts.dtype.type(0.0)
    for m in range(acts.shape[1]):
        generator = rng_state[m : m + 1]
        for p in range(start, stop):
            raw[p, m] = acts[p, m]
            keep = np.float64(splitmix64(generator) >> np.uint64(11)) * UNIT_INTERVAL >= rate
            masks[p, m] = scale if keep else zero
            acts[p, m] = acts[p, m] * masks[p, m]


@njit(**HELPER_OPTIONS)
def check_lanes(history, epoch, params, diverged, check_params):
    """Mark in ``diverged`` each lane not yet marked whose loss in row ``epoch`` of the
    block's ``history`` (epochs, lanes, columns) is not finite or, when ``check_params``,
    one of whose parameters is not (``v - v`` is 0 only for a finite ``v``)."""
    lanes = params.shape[1]
    for m in range(lanes):
        finite = np.isfinite(history[epoch, m, codes.LOSS])
        if finite and check_params:
            for p in range(params.shape[0]):
                value = params[p, m]
                finite = finite and (value - value) == 0.0
        if not finite and diverged[m] < 0:
            diverged[m] = epoch


@njit(**HELPER_OPTIONS)
def l2_penalty(params, layout, options, l2):
    """Stands in for ``kernels.updates.l2_penalty`` in an ensemble's kernel, where the
    skeleton's line adding the penalty to the loss (``l2_in_loss``, guarded by its option)
    must type with a block's parameters: an ensemble's fit refuses ``l2_in_loss`` (``RUNS``),
    so this is never called."""
    return 0.0


class UnrolledLanes(Lanes):
    """The layer routines of one tiny layout's lanes written out, as ``kernels.unrolled``
    writes one network's: every index and code known at compile time, and each pass one
    loop over the lanes whose body holds every unit's arithmetic (``kernels.unrolled``'s
    expressions, in its order), so that LLVM runs the lanes of that body side by side."""

    def __init__(self, layout, loss_code):
        self.single = unrolled.Unrolled(layout, loss_code)
        self.rows = self.single.rows
        self.key = ("unrolled lanes", *self.single.key[1:])
        self.loss_code = self.single.loss_code
        self.out_code = self.single.out_code
        self.description = f"member lanes ({LANES}) unrolled for layout {self.rows}"
        last = self.rows[-1]
        self.width = last[codes.OUTPUT_OFFSET] + last[codes.FAN_OUT]
        self.n_params = max(self.single.parameters) + 1
        self.forward_apart = any(row[codes.ACTIVATION] in _CALL_EXP for row in self.rows)
        self.extra_source = block_runners("train")
        if self.forward_apart:
            self.extra_source += _FORWARD_BLOCK.format(
                loop=skeleton._block(4, self._forward_loop())
            )

    def compiled(self, fit):
        return super().compiled(fit)

    def setup_lines(self, fit):
        last = self.rows[-1]
        return [
            *_SETUP.splitlines(),
            f"out_start = np.uint64({last[codes.OUTPUT_OFFSET]})",
            f"n_outputs = np.uint64({last[codes.FAN_OUT]})",
            # Flat views, indexed ``unit * LANES + m`` with the product a literal: LLVM then
            # sees that the lanes of one loop touch distinct elements, and runs them in SIMD
            # lanes (with the row stride read at run time it could not, and did not).
            f"lane_params = params.reshape({self.n_params * LANES})",
            f"lane_state = optimizer_state.reshape({2 * self.n_params * LANES})",
            f"lane_gradient = gradient.reshape({self.n_params * LANES})",
            f"lane_acts = acts.reshape({self.width * LANES})",
        ]

    def _flat(self, lines):
        """``lines`` with their lane-indexed arrays read through the flat views."""

        def flat(match):
            name, unit = match.group(1), int(match.group(2))
            return f"lane_{_FLAT[name]}[{unit * LANES} + m]"

        def second(match):
            return f"lane_state[{(self.n_params + int(match.group(1))) * LANES} + m]"

        lines = [re.sub(r"optimizer_state\[n_params \+ (\d+), m\]", second, line) for line in lines]
        return [
            re.sub(r"\b(params|acts|optimizer_state|gradient)\[(\d+), m\]", flat, line)
            for line in lines
        ]

    def forward_lines(self, fit):
        if self.forward_apart:
            return [*self._gather_lines(), _FORWARD_BLOCK_CALL]
        return [*self._gather_lines(), *self._forward_loop()]

    def _forward_loop(self):
        """Every lane's forward pass, one loop over the lanes."""
        rows = self.rows
        n_inputs = rows[0][codes.FAN_IN]
        lines = [f"a0_{k} = acts[{k}, m]" for k in range(n_inputs)]
        lines += [_lane_weights(line) for line in unrolled._forward_lines(rows)[n_inputs:]]
        for l, row in enumerate(rows[:-1], start=1):
            out = row[codes.OUTPUT_OFFSET]
            lines += [f"acts[{out + j}, m] = a{l}_{j}" for j in range(row[codes.FAN_OUT])]
        n_outputs = rows[-1][codes.FAN_OUT]
        lines += [f"outputs[m * {n_outputs} + {j}] = a{len(rows)}_{j}" for j in range(n_outputs)]
        # The written-out forward pass stores its outputs into acts[unit]: here the lanes'.
        lines = [line for line in lines if not line.startswith("acts[") or ", m]" in line]
        return ["for m in range(lanes):", *(f"    {line}" for line in self._flat(lines))]

    def _gather_lines(self):
        """``_GATHER`` with its loops over the units written out: 256 streetlight nets
        (N1) spent 16.4 and 15.7 ms in the kernel against 18.5 and 18.6 with the loops,
        alternated."""
        n_inputs = self.rows[0][codes.FAN_IN]
        n_outputs = self.rows[-1][codes.FAN_OUT]
        units = [(f"acts[{k}, m]", f"X[example, {k}]") for k in range(n_inputs)]
        units += [(f"lane_targets[m, {j}]", f"Y[example, {j}]") for j in range(n_outputs)]
        gathered = ["example = orders[m, i]", *(f"{lane} = {value}" for lane, value in units)]
        read = ["example = orders[0, i]"]
        read += [f"value_{i} = {value}" for i, (_, value) in enumerate(units)]
        shared = [f"{lane} = value_{i}" for i, (lane, _) in enumerate(units)]
        return [
            "if shuffle and not given_order:",
            "    for m in range(lanes):",
            *(f"        {line}" for line in self._flat(gathered)),
            "else:",
            *(f"    {line}" for line in read),
            "    for m in range(lanes):",
            *(f"        {line}" for line in self._flat(shared)),
            *_GATHER_WEIGHTS.splitlines(),
        ]

    def backward_lines(self, fit, step):
        decayed = self.single._decayed(fit)
        rows = self.rows

        def update(index, value):
            if step is None:
                return [f"gradient[{index}, m] += {value}"]
            state, second = (
                f"optimizer_state[{index}, m]",
                f"optimizer_state[n_params + {index}, m]",
            )
            return step.lines(f"params[{index}, m]", value, index in decayed, state, second)

        lines = _bind(step, _BIND)
        for l, row in enumerate(rows[:-1], start=1):
            out = row[codes.OUTPUT_OFFSET]
            lines += [f"a{l}_{j} = acts[{out + j}, m]" for j in range(row[codes.FAN_OUT])]
        lines += [f"a0_{k} = acts[{k}, m]" for k in range(rows[0][codes.FAN_IN])]
        n_outputs = rows[-1][codes.FAN_OUT]
        written = unrolled._backward_lines(rows, update, fit.clip_value)
        lines += [
            f"d{len(rows)}_{j} = output_deltas[m * {n_outputs} + {j}]" for j in range(n_outputs)
        ]
        lines += [_lane_weights(line) for line in written[n_outputs:]]
        return ["for m in range(lanes):", *(f"    {line}" for line in self._flat(lines))]

    def zero_gradient_lines(self, fit):
        lines = [f"gradient[{i}, m] = zero" for i in self.single.parameters]
        return ["for m in range(lanes):", *(f"    {line}" for line in self._flat(lines))]

    def apply_lines(self, fit, step):
        decayed = self.single._decayed(fit)
        lines = _bind(step, _BIND)
        for i in self.single.parameters:
            state, second = f"optimizer_state[{i}, m]", f"optimizer_state[n_params + {i}, m]"
            lines += step.lines(f"params[{i}, m]", f"gradient[{i}, m]", i in decayed, state, second)
        loop = ["for m in range(lanes):", *(f"    {line}" for line in self._flat(lines))]
        return [*self.prologue_lines(step), *loop]


_FLAT = {"params": "params", "acts": "acts", "optimizer_state": "state", "gradient": "gradient"}


# The activations whose written-out forward pass calls ``exp`` (``tanh`` is built on it).
_CALL_EXP = (codes.SIGMOID, codes.TANH)

# Their lanes' forward pass compiled apart, its arrays its arguments. Inside the epoch's
# kernel LLVM ran that loop's lanes in SIMD registers but read ``exp``'s table one lane at a
# time; over arrays it is given, it reads the table with gather instructions. XOR's 3-4-1
# sigmoid nets (100 members, full batch): 20,000 epochs in 187-211 ms against 471-528,
# alternated. A relu net's loop, with no table to read, ran 7% slower for the call, and
# stays in the kernel.
_FORWARD_BLOCK = """

@njit(**JIT_OPTIONS)
def forward_block(lane_params, lane_acts, outputs, lanes, zero, one):
{loop}
"""
_FORWARD_BLOCK_CALL = "forward_block(lane_params, lane_acts, outputs, lanes, zero, one)"


def _lane_weights(line):
    """A line of ``kernels.unrolled``'s with its weight locals ``w{i}`` read from the
    lane's parameters."""
    return re.sub(r"\bw(\d+)\b", r"params[\1, m]", line)


def unrolled_kernels_for_fit(layout, settings, options, features):
    """``kernels_for_fit`` with the layers written out for ``layout`` (``UnrolledLanes``)."""
    routines = UnrolledLanes(layout, int(options[codes.LOSS_CODE]))
    return kernels_for_fit(settings, options, features, routines)
