"""Layer routines over a whole batch at once: the matrix path's.

``kernels.skeleton`` writes the epoch around these lines. Each batch runs forward through
every layer for all its rows (``kernels.train_matrix.forward_batch``: one BLAS call per layer,
dropout, batch normalization), is scored row by row, and runs backward the same way
(``backward_batch``) into one gradient vector, which ``kernels.updates.apply_update`` turns
into the step: every optimizer, L2 and norm clipping. Validation data is scored by batch
(``score_validation_by_batch``).
"""

from fastbp.kernels import skeleton

_SETUP = """\
last = layout.shape[0] - 1
n_outputs = layout[last, codes.FAN_OUT]
out_code = layout[last, codes.ACTIVATION]
width = layout[last, codes.OUTPUT_OFFSET] + n_outputs
block = np.uint64(batch_size)  # offsets of blocks stay uint64, like the layout
size = block * width
acts = scratch[:size]
deltas = scratch[size : 2 * size]
raw = scratch[2 * size : 3 * size]
masks = scratch[3 * size : 4 * size]
norms = scratch[4 * size : 5 * size]
deviations = scratch[5 * size : 5 * size + width]
gradient = scratch[5 * size + width : 5 * size + width + n_params]
spare = scratch[5 * size + width + n_params :]  # the layer products' (kernels.blocked)
blocks = Blocks(acts, raw, masks, norms, deviations)
output_block = block * layout[last, codes.OUTPUT_OFFSET]
statistics = state.statistics
# Plain SGD takes the weights' step inside the gradient products (backward_batch).
folds = (
    options[codes.OPTIMIZER] == codes.SGD
    and settings[codes.L2] == 0.0
    and settings[codes.CLIP_NORM] == 0.0
)"""

_FORWARD = """\
inputs, inputs_at = forward_batch(
    params, layout, X, order, start, np.uint64(n_rows), block, blocks, statistics, settings,
    np.bool_(True), rng_state,
)"""

_BACKWARD = """\
folded = backward_batch(
    params, layout, inputs, inputs_at, np.uint64(n_rows), block, blocks, deltas, gradient,
    settings, spare, params.dtype.type(-(rate / divisor)) if folds else zero,
)"""

_APPLY = """\
if folded:
    step_folded(params, gradient, layout, counters, rate, divisor)
else:
    apply_update(
        params, gradient, optimizer_state, layout, settings, options, counters, rate, divisor
    )"""

_VALIDATION = """\
score_validation_by_batch(
    params,
    layout,
    validation.X,
    validation.Y,
    validation_order,
    block,
    blocks,
    deltas,
    statistics,
    settings,
    options,
    rng_state,
    history,
    epoch,
)
monitored = history[epoch, codes.VALIDATION + codes.LOSS]"""


class Batches:
    """The layer routines of the matrix path: a batch's rows through each layer at once."""

    out_code = "out_code"  # read from the layout at run time
    loss_code = "loss_code"  # read from the options at run time
    by_batch = True
    jit_options = "MATRIX_JIT_OPTIONS"
    key = ("batches",)
    description = "whole batches, one BLAS call per layer"
    imports = (
        "from fastbp.kernels.updates import step_folded\n"
        "from fastbp.kernels.train_matrix import (\n"
        "    Blocks,\n"
        "    backward_batch,\n"
        "    forward_batch,\n"
        "    score_validation_by_batch,\n"
        ")"
    )

    def compiled(self, fit):
        """One kernel for every fit but validation's: what a feature costs here is per
        batch or per row, and every update is ``apply_update``'s. Scoring validation data
        is as much to compile as training on a batch (5.5 of a 26 s cold first fit), so
        only a fit that validates compiles it."""
        return skeleton.Fit(
            per_example=False,
            optimizer=-1,
            l2=False,
            l2_biases=False,
            l2_divided=False,
            clip_norm=False,
            dropout=False,
            weighted_mean=False,
            clip_value=True,
            weighted=True,
            tallies=True,
            validation=fit.validation,
            ends_epochs=True,
            ordered=True,
        )

    def setup_lines(self, fit):
        scored_in_order = ["validation_order = np.arange(validation.X.shape[0])"]
        return [*_SETUP.splitlines(), *(scored_in_order if fit.validation else [])]

    def batch_forward_lines(self, fit):
        return _FORWARD.splitlines()

    def row_lines(self):
        """Where row ``i`` of the batch has its outputs and its deltas."""
        return ["example = order[start + i]", "out_start = output_block + np.uint64(i) * n_outputs"]

    def batch_backward_lines(self, fit):
        """The batch backward, after its divisor is known (a folded step needs it)."""
        return _BACKWARD.splitlines()

    def zero_gradient_lines(self, fit):
        return []  # backward_batch writes every entry of the gradient

    def apply_lines(self, fit, step):
        return _APPLY.splitlines()

    def apply_counts_steps(self, fit, step):
        return True

    def validation_lines(self):
        return _VALIDATION.splitlines()

    def check_lines(self, fit):
        return skeleton.CHECK_PARAMS.splitlines()

    def store_lines(self, fit):
        return []


BATCHES = Batches()


def kernel_for_fit(layout, settings, options, features):
    """The matrix kernel of the fit the encoded ``settings`` and ``options`` and its
    ``features`` describe (a batch of one is a batch here, too)."""
    return skeleton.kernel(BATCHES, skeleton.Fit.of(settings, options, features))
