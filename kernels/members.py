"""An ensemble's members one after another, each on the generic kernel of one network.

``kernels.lanes`` runs a block of members side by side, the member innermost, so that each
statement's loop over the lanes is one SIMD loop. On a wide layer that loop reloads the
lanes' inputs for every output: two loads a multiply-add in the forward pass, where one
network's loop (``kernels.loops``) keeps each input in a register and runs its SIMD lanes
across the layer's outputs. There the members run faster in turn: 32 nets of 64-32-10
sigmoid, per-example SGD, took 1.04 us per member and example this way against 1.49 us in
lanes (one core; ``fastbp._ensemble_fit.IN_TURN_MIN_PARAMS`` has the crossover). Each member
is its own block of one lane (``LaneState`` with a lane axis of 1, its rows padded to whole
cache lines), trained by the skeleton's ``train`` for ``kernels.loops``, the loops one
network's fit runs, with the same arithmetic in the same order: it ends as that fit ends, bit
for bit. The blocks are spread over Numba's threads as the lanes' are.

The kernel of one network stops at the epoch where it finds its loss or parameters not
finite; here that epoch is the member's ``diverged`` entry, which the ensemble's fit rewinds
as it rewinds a lane.
"""

import sys

from numba import njit

from fastbp.kernels import codes, lanes, loops, skeleton
from fastbp.kernels.config import HELPER_OPTIONS

# One member's block, written into the generated module after ``train`` (and the blocks'
# runners of kernels.lanes after it). ``history`` is (epochs, 1, columns); the member's
# arrays have a lane axis of 1, which the views below drop.
_MEMBERS = """

@njit(**JIT_OPTIONS)
def train_member(state, layout, data, validation, settings, options, scratch, history):
    # The rows are padded to whole cache lines: the network's own parameters lead them.
    n_params = parameter_count(layout)
    alone = FitState(
        state.params.reshape(state.params.size)[:n_params],
        state.rng_state,
        state.optimizer_state.reshape(state.optimizer_state.size)[: 2 * n_params],
        state.counters,
        state.statistics,
        state.best_params,
        state.best_statistics,
    )
    given = Data(data.X, data.Y, data.sample_weight[0], data.order)
    trained = train(alone, layout, given, validation, settings, options, scratch, history[:, 0])
    if trained < history.shape[0]:
        state.diverged[0] = trained
    return history.shape[0]
"""


@njit(**HELPER_OPTIONS)
def parameter_count(layout):
    """The parameters of the network of ``layout``: each layer's weights then its bias, layer
    after layer (``fastbp.network``'s layout; an ensemble has no batch normalization)."""
    last = layout.shape[0] - 1
    if layout[last, codes.HAS_BIAS]:
        return layout[last, codes.BIAS_OFFSET] + layout[last, codes.FAN_OUT]
    return (
        layout[last, codes.WEIGHT_OFFSET] + layout[last, codes.FAN_IN] * layout[last, codes.FAN_OUT]
    )


class Members(loops.Loops):
    """``kernels.loops``'s routines, with the runners of an ensemble's members in turn."""

    description = "members in turn, loops over any layout"
    key = "members"
    # The per-example helpers inlined, as the lanes inline them, not called as the generic
    # kernel of one network calls its twins: 32 members of 64-32-10 ran 0.85 us per member
    # and example against 0.89 (one core, a dozen fits each in three processes).
    example_helpers = skeleton.EXAMPLE_HELPERS
    imports = (
        loops.Loops.imports + "\n"
        "from numba import prange\n"
        "from fastbp.kernels.config import HELPER_OPTIONS\n"
        "from fastbp.kernels.members import parameter_count\n"
        "from fastbp.kernels.state import Data, FitState, LaneState\n"
    )
    extra_source = _MEMBERS + lanes.block_runners("train_member")


MEMBER_ROUTINES = Members()


def kernels_for_fit(settings, options, features):
    """The generated module's ``train_blocks`` and ``train_blocks_parallel`` for the fit
    the encoded shared ``settings``, ``options`` and its ``features`` describe, and its
    ``train_member`` of one member's block (what a replay runs)."""
    train = skeleton.kernel(MEMBER_ROUTINES, lanes.ensemble_fit(settings, options, features))
    module = sys.modules[train.__module__]
    return module.train_blocks, module.train_blocks_parallel, module.train_member
