"""Layer routines compiled for one tiny network's exact shape: every loop unrolled.

On a 3-4-1 network a loop kernel spends its time on loop control and on activations and
deltas kept in a scratch buffer, which LLVM must reload after every store into ``params`` (it
cannot prove the two apart). Here the layers are written out for one layout, into the epoch
of ``kernels.skeleton``: each activation, delta, weight and optimizer state is a local
variable, each index known at compile time. The arithmetic is the loop kernels', operation
for operation, so the two round identically.
"""

from fastbp.kernels import codes, loops, skeleton

# Networks with at most this many weights are unrolled: the source grows with the weights,
# and so does the compile time a first fit pays.
MAX_WEIGHTS = 64

# What this path runs beyond plain SGD: the loop kernels' features but those that need the
# whole parameter vector in the loop (norm clipping, L2 in the loss), unit masks (dropout)
# or an output its written-out activations lack (exp, and so poisson).
RUNS = loops.RUNS - {"clip_norm", "l2_in_loss", "dropout", "exp", "poisson"}


def supports(layout):
    """Whether ``layout`` is small enough to unroll (and has no softmax, which is not)."""
    weights = sum(int(row[codes.FAN_IN] * row[codes.FAN_OUT]) for row in layout)
    return weights <= MAX_WEIGHTS and codes.SOFTMAX not in layout[:, codes.ACTIVATION]


def scratch_size(width, n_params, batch_size):
    """The scratch a fit needs: activations and deltas of ``width`` units."""
    return 2 * width


def kernel_for_fit(layout, settings, options, features):
    """The kernel unrolled for ``layout`` and the fit the encoded ``settings`` and
    ``options`` and its ``features`` describe."""
    routines = Unrolled(layout, int(options[codes.LOSS_CODE]))
    return skeleton.kernel(routines, skeleton.Fit.of(settings, options, features))


class Unrolled:
    """The layer routines of one layout and loss code written out: every activation,
    delta, weight and optimizer state a local, every index and code known at compile time."""

    # An epoch of a few examples takes tens of nanoseconds here: calls per epoch would show.
    epoch_helpers = skeleton.INLINED_EPOCH_HELPERS

    def __init__(self, layout, loss_code):
        self.rows = [[int(v) for v in row] for row in layout]
        self.key = ("unrolled", layout.tobytes(), layout.shape, loss_code)
        self.loss_code = str(loss_code)
        self.description = f"unrolled for layout {self.rows}"
        self.out_code = str(self.rows[-1][codes.ACTIVATION])
        self.parameters = [i for row in self.rows for i in _parameter_indices(row)]

    def _decayed(self, fit):
        decayed = set()
        for row in self.rows if fit.l2 else ():
            first = row[codes.WEIGHT_OFFSET]
            decayed.update(range(first, first + row[codes.FAN_IN] * row[codes.FAN_OUT]))
            if fit.l2_biases and row[codes.HAS_BIAS]:
                first = row[codes.BIAS_OFFSET]
                decayed.update(range(first, first + row[codes.FAN_OUT]))
        return decayed

    def compiled(self, fit):
        return fit  # every feature left out where unused: these kernels are for long fits

    def setup_lines(self, fit):
        last = self.rows[-1]
        width = last[codes.OUTPUT_OFFSET] + last[codes.FAN_OUT]
        lines = [
            f"out_start = np.uint64({last[codes.OUTPUT_OFFSET]})",
            f"n_outputs = np.uint64({last[codes.FAN_OUT]})",
            f"acts = scratch[:{width}]",
            f"deltas = scratch[{width}:{2 * width}]",
        ]
        lines += [f"w{i} = params[{i}]" for i in self.parameters]
        for at, name in enumerate(_states(fit)):
            offset = f" + {at} * n_params" if at else ""
            lines += [f"{name}{i} = optimizer_state[{i}{offset}]" for i in self.parameters]
        return lines

    def store_lines(self, fit):
        lines = [f"params[{i}] = w{i}" for i in self.parameters]
        for at, name in enumerate(_states(fit)):
            offset = f" + {at} * n_params" if at else ""
            lines += [f"optimizer_state[{i}{offset}] = {name}{i}" for i in self.parameters]
        return lines

    def forward_lines(self, fit):
        return _forward_lines(self.rows)

    def backward_lines(self, fit, step):
        decayed = self._decayed(fit)

        def update(index, value):
            if step is None:
                return [f"g{index} += {value}"]
            return self._step(step, index, value, decayed)

        return _backward_lines(self.rows, update, fit.clip_value)

    def _step(self, step, index, gradient, decayed):
        state, second = (f"{name}{index}" for name in ("v", "s"))
        return step.lines(f"w{index}", gradient, index in decayed, state, second)

    def zero_gradient_lines(self, fit):
        return [f"g{i} = zero" for i in self.parameters]

    def apply_lines(self, fit, step):
        decayed = self._decayed(fit)
        lines = step.prologue()
        for i in self.parameters:
            lines += self._step(step, i, f"g{i}", decayed)
        return lines

    def apply_counts_steps(self, fit, step):
        return step.counts_steps

    def validation_lines(self):
        return skeleton.VALIDATION_BY_EXAMPLE.splitlines()

    def check_lines(self, fit):
        non_finite = _balanced_sum([f"(w{i} - w{i})" for i in self.parameters])
        return [
            "check_params = epoch == next_check or epoch == last_epoch",
            "if check_params:",
            "    next_check += check_every",
            f"if not np.isfinite(history[epoch, codes.LOSS]) or (check_params and {non_finite} "
            "!= zero):",
            *[f"    {line}" for line in self.store_lines(fit)],
            "    return epoch",
        ]


def _states(fit):
    """The names of the optimizer state a fit keeps in locals: Adam's two moments, the
    velocity of momentum, none for SGD."""
    return {codes.SGD: (), codes.ADAM: ("v", "s")}.get(fit.optimizer, ("v",))


def _balanced_sum(terms):
    """``terms`` added as a balanced tree: the divergence check of kernels.layers.check_epoch
    (``w - w`` is 0 for a finite ``w``, NaN otherwise) without a chain of dependent adds."""
    while len(terms) > 1:
        pairs = [f"({a} + {b})" for a, b in zip(terms[::2], terms[1::2], strict=False)]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _block(indent, lines):
    return "\n".join(" " * indent + line for line in lines)


def _parameter_indices(row):
    first = row[codes.WEIGHT_OFFSET]
    indices = list(range(first, first + row[codes.FAN_IN] * row[codes.FAN_OUT]))
    if row[codes.HAS_BIAS]:
        indices += range(row[codes.BIAS_OFFSET], row[codes.BIAS_OFFSET] + row[codes.FAN_OUT])
    return indices


# The expressions of kernels.layers.activation and .derivative, written out so that Numba has
# no call to inline per unit (which tripled the compile time). tests/test_kernels.py holds the
# two kernels to identical results.
_ACTIVATIONS = {
    codes.IDENTITY: "{z}",
    codes.SIGMOID: "one / (one + exp(-{z}))",
    codes.TANH: "tanh({z})",
    codes.RELU: "zero if {z} < zero else {z}",
}
_DERIVATIVES = {
    codes.IDENTITY: "one",
    codes.SIGMOID: "{a} * (one - {a})",
    codes.TANH: "one - {a} * {a}",
    codes.RELU: "one if {a} > zero else zero",
}


def _forward_lines(rows):
    """Inputs into locals ``a0_k``, each layer's outputs into ``a{l}_j``, the last also into
    the scratch (where ``score_example`` reads them). Sums run over the inputs in order and
    then add the bias, as in ``kernels.layers.forward``; that kernel starts each sum from
    zero, which changes nothing but the sign of an exact zero, and is left out here: it
    lengthened each example's chain of dependent additions."""
    lines = [f"a0_{k} = X[example, {k}]" for k in range(rows[0][codes.FAN_IN])]
    for l, row in enumerate(rows):
        fan_in, fan_out = row[codes.FAN_IN], row[codes.FAN_OUT]
        for j in range(fan_out):
            total = " + ".join(
                f"a{l}_{k} * w{row[codes.WEIGHT_OFFSET] + k * fan_out + j}" for k in range(fan_in)
            )
            if row[codes.HAS_BIAS]:
                total = f"({total}) + w{row[codes.BIAS_OFFSET] + j}"
            lines.append(f"z = {total}")
            z = _ACTIVATIONS[row[codes.ACTIVATION]].format(z="z")
            lines.append(f"a{l + 1}_{j} = {z}")
    last = rows[-1]
    for j in range(last[codes.FAN_OUT]):
        lines.append(f"acts[{last[codes.OUTPUT_OFFSET] + j}] = a{len(rows)}_{j}")
    return lines


def _backward_lines(rows, update, clip_value):
    """Deltas into locals ``d{l}_j``; each input's delta is propagated through its row of
    weights before the step changes that row, as in the loop kernels. ``update(index,
    gradient)`` gives the lines that step parameter ``index`` (per example) or add to its
    gradient (in batches); with ``clip_value`` the hidden deltas are clipped."""
    n_layers = len(rows)
    last = rows[-1]
    lines = [
        f"d{n_layers}_{j} = deltas[{last[codes.OUTPUT_OFFSET] + j}]"
        for j in range(last[codes.FAN_OUT])
    ]
    for l in range(n_layers - 1, -1, -1):
        row = rows[l]
        fan_in, fan_out = row[codes.FAN_IN], row[codes.FAN_OUT]
        for k in range(fan_in):
            first = row[codes.WEIGHT_OFFSET] + k * fan_out
            if l > 0:
                total = " + ".join(f"d{l + 1}_{j} * w{first + j}" for j in range(fan_out))
                slope = _DERIVATIVES[rows[l - 1][codes.ACTIVATION]].format(a=f"a{l}_{k}")
                lines.append(f"d{l}_{k} = ({total}) * ({slope})")
                if clip_value:
                    clipped = f"min(max(d{l}_{k}, -clip_value), clip_value)"
                    lines.append(f"d{l}_{k} = {clipped} if clipping else d{l}_{k}")
            for j in range(fan_out):
                lines += update(first + j, f"(a{l}_{k} * d{l + 1}_{j})")
        if row[codes.HAS_BIAS]:
            for j in range(fan_out):
                lines += update(row[codes.BIAS_OFFSET] + j, f"d{l + 1}_{j}")
    return lines
