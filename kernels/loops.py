"""Layer routines for any layout: loops over the units, read from the layout at run time.

``kernels.skeleton`` writes a kernel's epoch around these lines. The forward pass is
``kernels.layers.forward_layers`` (the pass ``predict`` runs), layer by layer when units are
dropped out in between. The backward pass propagates each delta through the weights from
before the step: on narrow layers in the same pass over a row as its update, on wide ones in
a pass of its own across the inputs, so the fan_in sums advance together rather than one after
another (same order, same rounding). Per example the step goes straight into the weights; in
batches the gradient is summed into a vector in the layout of ``params`` and stepped at the
batch's end.
"""

from fastbp.kernels import skeleton, steps, train_matrix

# Units each scratch buffer is rounded up to: 64 bytes or more in either dtype.
ALIGNED_UNITS = 16

_SETUP = f"""\
n_inputs = X.shape[1]
last = layout.shape[0] - 1
n_layers = layout.shape[0]
out_start = layout[last, codes.OUTPUT_OFFSET]
out_code = layout[last, codes.ACTIVATION]
n_outputs = layout[last, codes.FAN_OUT]  # uint64, like every index into the scratch
# Each buffer starts on a cache line (the scratch does): a misaligned deltas row cost W3's
# update 40%.
width = (out_start + n_outputs + np.uint64({ALIGNED_UNITS - 1})) // np.uint64({ALIGNED_UNITS})
width = width * np.uint64({ALIGNED_UNITS})
acts = scratch[:width]
deltas = scratch[width : 2 * width]
raw = scratch[2 * width : 3 * width]
masks = scratch[3 * width : 4 * width]
gradient = scratch[4 * width : 4 * width + n_params]
second_state = optimizer_state[n_params:]  # Adam's second moments, indexed as params are"""

_BACKWARD = """\
for layer in range(last, -1, -1):
    fan_in = layout[layer, codes.FAN_IN]
    fan_out = layout[layer, codes.FAN_OUT]
    weights = layout[layer, codes.WEIGHT_OFFSET]
    inputs = layout[layer, codes.INPUT_OFFSET]
    out = layout[layer, codes.OUTPUT_OFFSET]
    below_code = layout[layer - 1, codes.ACTIVATION] if layer > 0 else 0
    fused = layer > 0 and fan_in < WIDE
    if layer > 0 and not fused:
        for k in range(fan_in):
            deltas[inputs + k] = zero
        for j in range(fan_out):
            delta_j = deltas[out + j]
            for k in range(fan_in):
                deltas[inputs + k] += delta_j * params[weights + k * fan_out + j]
        for k in range(fan_in):
{wide_hidden}
    for k in range(fan_in):
        row = weights + k * fan_out
        a_k = acts[inputs + k]
        if fused:
            total = zero
            for j in range(fan_out):
                total += deltas[out + j] * params[row + j]
{fused_hidden}
        for j in range(fan_out):
{weight_step}
    if layout[layer, codes.HAS_BIAS]:
        bias = layout[layer, codes.BIAS_OFFSET]
        for j in range(fan_out):
{bias_step}"""


# What this path runs beyond plain SGD (feature names as ``fastbp._settings`` and
# ``fastbp._plan`` list them): the matrix path's features but three. Dropout in batches draws
# its masks layer by layer over all a batch's rows, which a pass example by example cannot;
# batch normalization needs the batch's statistics; iRPROP- is full-batch (kernels.updates).
RUNS = train_matrix.RUNS - {"dropout_in_batches", "batch_norm", "rprop", "sparse"}


def kernel_for_fit(layout, settings, options, features):
    """The loop kernel of the fit the encoded ``settings`` and ``options`` and its
    ``features`` describe."""
    return skeleton.kernel(LOOPS, skeleton.Fit.of(settings, options, features))


def scratch_size(width, n_params, batch_size):
    """The scratch a fit needs: activations and deltas of ``width`` units, dropout's
    outputs before dropping and masks, and a gradient vector of ``n_params``."""
    return 4 * aligned_width(width) + n_params


def aligned_width(width):
    """``width`` rounded up to a multiple of ``ALIGNED_UNITS``, so that buffers of that many
    units laid end to end each start on a 64-byte boundary in either dtype."""
    return -(-width // ALIGNED_UNITS) * ALIGNED_UNITS


class Loops:
    """The layer routines that read the layout at run time: one kernel per ``Fit``."""

    imports = "from fastbp.kernels.updates import squared_norm"
    example_helpers = skeleton.CALLED_EXAMPLE_HELPERS

    description = "loops over any layout"
    out_code = "out_code"  # read from the layout at run time
    loss_code = "loss_code"  # read from the options at run time
    key = "loops"

    def compiled(self, fit):
        """Guard every feature that costs nothing outside the update of each weight; in
        batches that update is ``apply_update``'s, whatever the optimizer. Validation is
        written out only for a fit that validates: scoring it is 2 of a 10 s cold first
        fit to compile."""
        fit = fit._replace(clip_value=True, weighted=True, ends_epochs=True, ordered=True)
        if fit.fused or _clips_per_example(fit):
            return fit
        return fit._replace(optimizer=-1, l2=False, l2_biases=False, l2_divided=False)

    def setup_lines(self, fit):
        return _SETUP.splitlines()

    def forward_lines(self, fit):
        lines = ["for k in range(n_inputs):", "    acts[k] = X[example, k]"]
        if not fit.dropout:
            call = "forward_layers(params, layout, acts, no_statistics, zero, 0, n_layers)"
            return [*lines, call]
        return [
            *lines,
            "for layer in range(n_layers):",
            "    forward_layers(params, layout, acts, no_statistics, zero, layer, layer + 1)",
            "    if layer < last:",
            "        out = layout[layer, codes.OUTPUT_OFFSET]",
            "        stop = out + layout[layer, codes.FAN_OUT]",
            "        drop_out(acts, raw, masks, out, stop, dropout_rate, dropout_scale, rng_state)",
        ]

    def backward_lines(self, fit, step):
        """The backward pass, each parameter stepped by ``step`` (a ``Step``), or with
        ``step`` None its gradient added into ``gradient``."""

        # Per example each entry of the gradient is written once, so it needs no zeroing.
        gather = "=" if _clips_per_example(fit) else "+="

        def update(at, value, decayed):
            if step is None:
                return [f"gradient[{at}] {gather} {value}"]
            state = f"optimizer_state[{at}]"
            second = f"second_state[{at}]"
            return step.lines(f"params[{at}]", value, decayed, state, second)

        return _BACKWARD.format(
            wide_hidden=_block(12, hidden_lines(fit, "deltas[inputs + k]")),
            fused_hidden=_block(12, hidden_lines(fit, "total")),
            weight_step=_block(12, update("row + j", "(a_k * deltas[out + j])", True)),
            bias_step=_block(12, update("bias + j", "deltas[out + j]", fit.l2_biases)),
        ).splitlines()

    def zero_gradient_lines(self, fit):
        if _clips_per_example(fit):
            return []
        return ["for p in range(n_params):", "    gradient[p] = zero"]

    def apply_lines(self, fit, step):
        if _clips_per_example(fit):
            return _clipped_step_lines(fit)
        return [
            "apply_update(",
            "    params, gradient, optimizer_state, layout, settings, options, counters, rate,",
            "    divisor",
            ")",
        ]

    def apply_counts_steps(self, fit, step):
        if _clips_per_example(fit):
            return step.counts_steps
        return True  # apply_update counts its steps

    def validation_lines(self):
        return skeleton.VALIDATION_BY_EXAMPLE.splitlines()

    def check_lines(self, fit):
        return skeleton.CHECK_PARAMS.splitlines()

    def store_lines(self, fit):
        return []  # the parameters live in params


def _clips_per_example(fit):
    """Whether a per-example fit clips the gradient's norm: its step waits for the whole
    gradient, then is written out in two sweeps (``_clipped_step_lines``)."""
    return fit.per_example and fit.clip_norm and fit.optimizer in steps.OPTIMIZERS


_LAYER_RANGES = """\
for layer in range(n_layers):
    first = layout[layer, codes.WEIGHT_OFFSET]
    for p in range(first, first + layout[layer, codes.FAN_IN] * layout[layer, codes.FAN_OUT]):
{weight}
    if layout[layer, codes.HAS_BIAS]:
        first = layout[layer, codes.BIAS_OFFSET]
        for p in range(first, first + layout[layer, codes.FAN_OUT]):
{bias}"""

_CLIP_SCALE = """\
norm = np.sqrt(squared_norm(gradient))
clip_norm = np.float64(settings[codes.CLIP_NORM])
scale = params.dtype.type(clip_norm / norm) if norm > clip_norm else one"""


def _clipped_step_lines(fit):
    """One example's step with its gradient's norm clipped, as ``apply_update`` takes it:
    the gradient divided (by the example's weight, with a weighted mean; else by 1, left
    out) and the L2 term added, its norm, then a sweep that scales and steps. A scale of 1
    when the norm is within bounds rounds as no scaling does."""
    step = steps.Step(fit.optimizer, fit.l2, fit.l2_divided, divides=fit.weighted_mean)
    lines = []
    if fit.l2 or fit.weighted_mean:
        gradient = [*step.gradient_lines("params[p]", "gradient[p]", True), "gradient[p] = g"]
        bias = [*step.gradient_lines("params[p]", "gradient[p]", fit.l2_biases), "gradient[p] = g"]
        lines += _LAYER_RANGES.format(
            weight=_block(8, gradient), bias=_block(12, bias)
        ).splitlines()
    lines += _CLIP_SCALE.splitlines() + step.prologue()
    lines += ["for p in range(n_params):", "    g = gradient[p] * scale"]
    update = step.optimizer_lines("params[p]", "optimizer_state[p]", "second_state[p]")
    return lines + [f"    {line}" for line in update]


def hidden_lines(fit, total, lane=""):
    """Lines turning the ``total`` propagated to a hidden unit into its delta: through the
    derivative of its activation (before dropout) and its mask, then clipped. ``lane``
    (``", m"`` in ``kernels.lanes``) follows the unit's index in every buffer."""
    unit = f"inputs + k{lane}"
    if fit.dropout:
        delta = f"{total} * derivative(raw[{unit}], below_code) * masks[{unit}]"
    else:
        delta = f"{total} * derivative(acts[{unit}], below_code)"
    if not fit.clip_value:
        return [f"deltas[{unit}] = {delta}"]
    return [
        f"delta = {delta}",
        f"deltas[{unit}] = min(max(delta, -clip_value), clip_value) if clipping else delta",
    ]


def _block(indent, lines):
    return "\n".join(" " * indent + line for line in lines)


LOOPS = Loops()
