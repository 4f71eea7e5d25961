"""A fit of an ``Ensemble``: every member trained in one compiled call per chunk of epochs.

The fit is checked as a single network's (``fastbp._plan.check_fit``), with the ensemble's
own rules on top: one value per member for ``learning_rate``, ``l2`` and ``seed``, sample
weights per member (``(n_members, n_samples)``, as bootstrap counts make bagging), and an
error naming each feature the ensemble's kernel (``kernels.lanes``) does not run yet.

A member diverges alone. The kernel marks the first epoch at which a member's loss, or its
parameters where checked, are not finite, and trains on; after the call the member's block
is replayed from the chunk's start, checking every epoch, to find the exact epoch, and the
member is rewound to the end of the epoch before it, as a single fit rewinds. From then on
its parameters stay there and its history holds NaN. The fit ends when its epochs are done,
with a ``MemberDivergenceWarning`` and ``History.diverged`` naming (member, epoch); when
every member has diverged it ends there, with a ``DivergenceError``.
"""

import collections
import os
import threading
import warnings

import numba
import numpy as np

from fastbp import _chunks, _kernels, _plan, _settings
from fastbp._memory import aligned_zeros, large_empty
from fastbp._names import METRICS
from fastbp.ensemble import in_blocks, member_rows, put_member_rows
from fastbp.errors import DivergenceError, MemberDivergenceWarning
from fastbp.history import History
from fastbp.kernels import codes, lanes, loops, members
from fastbp.kernels.lanes import LANES
from fastbp.kernels.state import Data, LaneState, Validation
from fastbp.kernels.unrolled import RUNS as unrolled_runs
from fastbp.kernels.unrolled import supports as unrolled_supports
from fastbp.network import activation_width
from fastbp.progress import ProgressBar

# Numba's workqueue threading layer does not take two parallel kernels at once.
_PARALLEL = threading.Lock()

# The fit-level arguments an ensemble's fit does not take yet, by the feature they name.
_REFUSED_ARGUMENTS = {
    "validation_data": "validation",
    "validation_fraction": "validation",
    "patience": "patience (early stopping)",
}

# What ``_chunks.run`` reads of the state: the flag that ends a fit early.
_Flags = collections.namedtuple("_Flags", ["counters"])


def ensemble_fit(trainer, X, y, epochs, metrics, progress, fit_options):
    """``trainer.fit(...)`` for a trainer of an ``Ensemble``; see ``Trainer.fit``."""
    ensemble = trainer.network
    for name, feature in _REFUSED_ARGUMENTS.items():
        if fit_options[name] is not None:
            raise ValueError(f"{name}: an Ensemble's fit does not run {feature} yet")
    member_weights = fit_options["sample_weight"]
    per_member = member_weights is not None and np.ndim(member_weights) == 2
    options = dict(fit_options, sample_weight=None) if per_member else fit_options
    plan = _plan.check_fit(trainer, X, y, epochs, metrics, progress, options)
    weights = _member_weights(
        member_weights if per_member else None, plan["weights"], plan["X"].shape[0], ensemble
    )
    features = plan["features"] + (["sample_weight"] if per_member else [])
    missing = [feature for feature in dict.fromkeys(features) if feature not in lanes.RUNS]
    if missing:
        raise ValueError(
            f"an Ensemble's fit does not run {', '.join(missing)} yet (it runs plain SGD and "
            f"{', '.join(sorted(lanes.RUNS))})"
        )
    if trainer.kernel == "matrix":
        raise ValueError(
            "kernel: an Ensemble's fit runs 'unrolled' or 'generic' lanes, not 'matrix'"
        )
    plan["features"] = features
    run = _EnsembleRun(trainer, plan, weights)
    outcome = run.run()
    return run.finish(outcome)


# Per-example fits without Adam of networks with this many parameters or more train their
# members in turn (kernels.members), each on the generic kernel of one network, rather than
# side by side in lanes (kernels.lanes). 32 members of sigmoid nets, per-example SGD, one core,
# lanes' time over in turn's: 0.53 (8-8-4, 108 parameters), 0.73 (16-16-4), 0.83 (16-32-4),
# 0.80 (100-10-1, 1,021), 0.95 (10-100-1, 1,201), 1.12 (24-24-24, 1,200), 1.04 (16-64-4),
# 1.18 (32-32-10, 1,386), 1.44 (64-32-10, 2,410); with momentum 1.30 and Nesterov 1.37 on
# 64-32-10. Adam per example ran faster in lanes (0.86 there), whose every step is a square
# root and a division in SIMD lanes, where one network's rows of 10 leave a scalar
# remainder; so did batches of 32 (0.93), and batches of 16 ran even (1.02 on 24-24-24).
IN_TURN_MIN_PARAMS = 1200


def _in_turn(trainer, plan):
    """Whether the members train one after another (``kernels.members``) rather than in
    generic lanes: per-example fits without Adam of networks of ``IN_TURN_MIN_PARAMS`` or
    more. (The lanes written out for a tiny layout, where chosen, come first.)"""
    per_example = trainer.batch_size == 1 and "adam" not in plan["features"]
    return per_example and trainer.network._blocks.shape[1] >= IN_TURN_MIN_PARAMS


def _unrolled(trainer, plan):
    """Whether the fit runs the lanes written out for its layout: forced by
    ``kernel="unrolled"``, or chosen for a tiny network on a fit long enough (all members'
    example visits) to pay for compiling them, as a single network's fit chooses. The
    written-out layers have no exp output nor dropout (``kernels.unrolled.RUNS``): such fits
    run the generic lanes, and ``kernel="unrolled"`` is refused for them, as for a single
    network."""
    ensemble = trainer.network
    missing = [feature for feature in plan["features"] if feature not in unrolled_runs]
    if trainer.kernel == "unrolled" and missing:
        raise ValueError(
            f"kernel 'unrolled' does not run this fit's features ({', '.join(missing)}); use "
            "kernel='auto' or 'generic'"
        )
    if trainer.kernel == "generic" or missing or not unrolled_supports(ensemble.layout):
        return False
    visits = plan["X"].shape[0] * plan["epochs"] * len(ensemble)
    return trainer.kernel == "unrolled" or visits >= _kernels.UNROLL_MIN_EXAMPLES


def _member_weights(member_weights, weights, n_samples, ensemble):
    """The examples' weights of each member, ``(n_members, n_samples)``, or None when all
    weigh 1: ``member_weights`` checked, times the class weights ``weights`` (1-D)."""
    if member_weights is None:
        return None if weights is None else np.broadcast_to(weights, (len(ensemble), n_samples))
    array = np.asarray(member_weights)
    if array.shape != (len(ensemble), n_samples):
        raise ValueError(
            "sample_weight must have shape (n_samples,) or (n_members, n_samples) = "
            f"({len(ensemble)}, {n_samples}); got {array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers; got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=ensemble.dtype)
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    empty = np.flatnonzero(~array.any(axis=1))
    if empty.size:
        raise ValueError(
            f"sample_weight is 0 for every sample of member {int(empty[0])}: it would train "
            "nothing; give each member at least one sample of positive weight"
        )
    return array if weights is None else array * weights


class _EnsembleRun:
    """One fit of an ensemble: its working state in blocks of lanes, the chunks' kernel
    calls, and the rewinding of diverged members."""

    def __init__(self, trainer, plan, weights):
        self.trainer = trainer
        self.plan = plan
        ensemble = trainer.network
        self.ensemble = ensemble
        self.n_members = len(ensemble)
        n_params = ensemble._blocks.shape[1]
        dtype = ensemble.dtype
        self.layout = ensemble.layout
        kernels = (plan["settings"], plan["options"], plan["features"])
        # Blocks of LANES members side by side, or of one member each (kernels.members).
        unrolled = _unrolled(trainer, plan)
        self.in_turn = trainer.kernel != "unrolled" and not unrolled and _in_turn(trainer, plan)
        self.lanes = 1 if self.in_turn else LANES
        self.n_blocks = n_blocks = -(-self.n_members // self.lanes)
        if self.in_turn:
            kernels = members.kernels_for_fit(*kernels)
        elif unrolled:
            kernels = lanes.unrolled_kernels_for_fit(self.layout, *kernels)
        else:
            kernels = lanes.kernels_for_fit(*kernels)
        self.serial, self.parallel, self.block_kernel = kernels
        if weights is None:
            # Empty per block, so that the kernels see no weights: a block's lanes, or the
            # member's one row (kernels.members reads its row 0).
            lane_weights = np.zeros((n_blocks, 1 if self.in_turn else 0, 0), dtype)
        else:
            lane_weights = self._lanes_of(np.ascontiguousarray(weights, dtype))
        self.data = Data(plan["X"], plan["Y"], lane_weights)
        self.chunk_data = self.data  # with a given order, the chunk's rows of it
        self.validation = Validation(
            np.empty((0, ensemble.n_inputs), dtype), np.empty((0, ensemble.n_outputs), dtype)
        )
        self.settings = self._block_settings(plan["settings"])
        self.recorded = self._recorded_columns()
        width = activation_width(self.layout)
        if self.in_turn:
            shape = (n_blocks, loops.aligned_width(loops.scratch_size(width, n_params, 1)))
        else:
            shape = (n_blocks, lanes.scratch_rows(width, n_params), LANES)
        self.scratch = aligned_zeros(int(np.prod(shape)), dtype).reshape(shape)
        self.state = self._working_state()
        self.dead = {}  # member: (epoch, its lane's state from the end of the epoch before)
        self.done = 0
        self.flags = _Flags(np.zeros(codes.COUNTERS_SIZE))

    def _block_settings(self, shared):
        """Each block's settings: the shared ``codes`` settings, then each lane's learning
        rate and L2 strength (``kernels.lanes``); a member's own in its ``codes`` slots when
        each is its own block."""
        dtype = self.ensemble.dtype
        names = ("learning_rate", "l2")
        values = [np.array(_settings.member_values(self.trainer, name), dtype) for name in names]
        if self.in_turn:
            settings = np.tile(np.asarray(shared, dtype), (self.n_members, 1))
            settings[:, codes.LEARNING_RATE], settings[:, codes.L2] = values
            return settings
        settings = np.zeros((self.n_blocks, lanes.BLOCK_SETTINGS_SIZE), dtype)
        settings[:, : codes.SETTINGS_SIZE] = shared
        for first, value in zip((lanes.LANE_RATES, lanes.LANE_L2), values, strict=True):
            settings[:, first : first + LANES] = self._lanes_of(value)
        return settings

    def _recorded_columns(self):
        """The metrics a block's history row holds, in order: in lanes the loss and those
        the fit asks for, their columns written into the options (``codes.RECORDED``); each
        member in turn records all of them, as one network's kernel does."""
        if self.in_turn:
            return list(range(codes.METRIC_COLUMNS))
        asked = [METRICS[name] for name in self.plan["names"]]
        recorded = [codes.LOSS, *(code for code in dict.fromkeys(asked) if code != codes.LOSS)]
        columns = self.plan["options"][codes.RECORDED : codes.RECORDED + codes.METRIC_COLUMNS]
        columns[:] = -1
        columns[recorded] = range(len(recorded))
        return recorded

    def _lanes_of(self, values):
        return in_blocks(values, self.n_blocks, self.lanes)

    def _blocks_of(self, members):
        """``members`` (one row per member) as this fit's blocks, ``(n_blocks, n, lanes)``:
        for members in turn each row padded to a whole number of cache lines, so that every
        member's arrays start on one, as a single network's do (``kernels.members``)."""
        rows = members.shape[1]
        if self.in_turn:
            rows = loops.aligned_width(rows)
        blocks = aligned_zeros(self.n_blocks * rows * self.lanes, members.dtype)
        blocks = blocks.reshape(self.n_blocks, rows, self.lanes)
        if self.in_turn:
            blocks[:, : members.shape[1], 0] = members  # one member a block: no padding
        else:
            put_member_rows(blocks, members)
        return blocks

    def _working_state(self):
        trainer, ensemble = self.trainer, self.ensemble
        n_blocks = self.n_blocks
        params = self._blocks_of(ensemble.params)
        counters = np.tile(trainer._counters, (n_blocks, 1))
        counters[:, [codes.BEST_LOSS, codes.BEST_EPOCH, codes.WAIT, codes.STOPPED]] = (
            np.inf,
            -1,
            0,
            0,
        )
        empty = np.zeros(0, ensemble.dtype)
        return LaneState(
            params=params,
            rng_state=self._lanes_of(trainer._rng_state),
            optimizer_state=self._optimizer_state(),
            counters=counters,
            statistics=empty,
            best_params=empty,
            best_statistics=empty,
            diverged=np.full((n_blocks, self.lanes), -1, np.int64),
        )

    def run(self):
        plan = self.plan
        ensemble = self.ensemble
        if not ensemble._fit_lock.acquire(blocking=False):
            raise RuntimeError(
                "this ensemble is already being fitted in another thread; fit a copy to train "
                "two at once"
            )
        bar = ProgressBar(plan["epochs"], plan["progress"])
        columns = len(self.recorded)
        try:

            def on_chunk(done, history):
                losses = self._metric(history, codes.LOSS)
                bar.update(done, float(np.nanmean(losses[done - 1])))
                if not plan["callbacks"] or (
                    done % plan["callback_every"] and done < plan["epochs"]
                ):
                    return False
                so_far = self._history(history, done)
                return any([bool(callback(done, so_far)) for callback in plan["callbacks"]])

            outcome = _chunks.run(
                self._train_chunk,
                self.flags,
                plan["epochs"],
                self.n_blocks * self.lanes * columns,
                plan["X"].shape[0] * self.n_members,
                on_chunk,
                plan["callback_every"] if plan["callbacks"] else max(plan["epochs"], 1),
            )
            self._commit()
        finally:
            ensemble._fit_lock.release()
            bar.close()
        return outcome

    def _train_chunk(self, rows, check_every):
        options = self.plan["options"]
        options[codes.CHECK_EVERY] = check_every
        history = rows.reshape(rows.shape[0], self.n_blocks, self.lanes, len(self.recorded))
        before = [array.copy() for array in self.state]
        self.state.diverged[:] = -1
        start = self.done
        order = self.plan["order"]
        if order is not None:  # the chunk's rows of it, its epochs from ``start``
            self.chunk_data = self.data._replace(order=order[start : start + rows.shape[0]])
        self._call(history)
        self.done = start + rows.shape[0]
        for member, (_, lane_state) in self.dead.items():
            self._put_lane(member, lane_state)
            block, lane = divmod(member, self.lanes)
            history[:, block, lane] = np.nan
        noticed = np.flatnonzero(self.state.diverged.reshape(-1)[: self.n_members] >= 0)
        found = [int(member) for member in noticed if member not in self.dead]
        for member in found:
            epoch, lane_state = self._rewind(member, LaneState(*before))
            self.dead[member] = (start + epoch, lane_state)
            self._put_lane(member, lane_state)
            block, lane = divmod(member, self.lanes)
            history[epoch:, block, lane] = np.nan
        if len(self.dead) == self.n_members:
            self.flags.counters[codes.STOPPED] = 1.0
        return rows.shape[0]

    def _call(self, history):
        arguments = (
            self.state,
            self.layout,
            self.chunk_data,
            self.validation,
            self.settings,
            self.plan["options"],
            self.scratch,
            history,
        )
        threads = self.trainer.threads
        if threads == 1:
            return self.serial(*arguments)
        _prefer_workqueue()
        with _PARALLEL:
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            return self.parallel(*arguments)

    def _rewind(self, member, before):
        """The first epoch of the chunk at which ``member`` diverged, and its lane's state
        at the end of the epoch before: its block replayed from ``before``, checking every
        epoch."""
        block, lane = divmod(member, self.lanes)
        noticed = int(self.state.diverged[block, lane])
        replay = self._replay(block, before, noticed + 1)
        first = int(replay.diverged[lane])
        if not 0 <= first <= noticed:
            raise RuntimeError("replaying an ensemble's chunk did not diverge where it did")
        finite = self._replay(block, before, first)
        return first, tuple(array[:, lane].copy() for array in self._block_lanes(finite))

    def _replay(self, block, before, epochs):
        state = LaneState(
            before.params[block].copy(),
            before.rng_state[block].copy(),
            before.optimizer_state[block].copy(),
            before.counters[block].copy(),
            before.statistics,
            before.best_params,
            before.best_statistics,
            np.full(self.lanes, -1, np.int64),
        )
        options = self.plan["options"]
        options[codes.CHECK_EVERY] = 1
        # A block's history as the block runners pass it (a strided view: one of two
        # blocks, as NumPy calls a view of one of one contiguous), so that this call runs
        # the kernel they compiled rather than compile another.
        rows = np.zeros((epochs, 2, self.lanes, len(self.recorded)))[:, 0]
        data = self.chunk_data._replace(sample_weight=self.data.sample_weight[block])
        self.block_kernel(
            state,
            self.layout,
            data,
            self.validation,
            self.settings[block],
            options,
            self.scratch[block],
            rows,
        )
        return state

    def _block_lanes(self, block_state):
        params, rng_state, optimizer_state = (
            block_state.params,
            block_state.rng_state,
            block_state.optimizer_state,
        )
        return params, rng_state[np.newaxis], optimizer_state

    def _put_lane(self, member, lane_state):
        block, lane = divmod(member, self.lanes)
        params, rng_state, optimizer_state = lane_state
        self.state.params[block, :, lane] = params
        self.state.rng_state[block, lane] = rng_state[0]
        self.state.optimizer_state[block, :, lane] = optimizer_state

    def _commit(self):
        trainer, ensemble, state = self.trainer, self.ensemble, self.state
        self._put_in_ensemble_layout(state.params, ensemble._blocks)
        trainer._rng_state[:] = state.rng_state.reshape(-1)[: self.n_members]
        self._put_in_ensemble_layout(state.optimizer_state, trainer._optimizer_state)
        trainer._counters[:] = state.counters[0]

    def _optimizer_state(self):
        """The trainer's optimizer state (kept in the ensemble's layout) in this fit's
        blocks, a copy."""
        state = _optimizer_state(self.trainer, self.ensemble)
        if not self.in_turn:
            return state.copy()
        return self._blocks_of(member_rows(state, self.n_members))

    def _put_in_ensemble_layout(self, blocks, ensemble_blocks):
        """Write an array of this fit's blocks, ``(n_blocks, n, lanes)``, into
        ``ensemble_blocks``, its counterpart in the ensemble's layout (blocks of LANES)."""
        if not self.in_turn:
            ensemble_blocks[:] = blocks
        else:
            put_member_rows(ensemble_blocks, blocks[:, : ensemble_blocks.shape[1], 0])

    def _metric(self, table, column):
        shaped = table.reshape(table.shape[0], self.n_blocks * self.lanes, len(self.recorded))
        return shaped[:, : self.n_members, self.recorded.index(column)]

    def _history(self, table, epochs, outcome=None):
        """The ``History`` of the first ``epochs`` rows of ``table``: the fit's own, after
        its last chunk (``outcome``), holds views of the table, which nothing writes after
        it (a 256-member, 2,000-epoch loss history copied in 0.8 ms); a callback's, taken
        between chunks, copies."""
        metrics = {}
        for name in self.plan["names"]:
            metrics[name] = self._metric(table[:epochs], METRICS[name])
            if outcome is None:
                copy = large_empty((epochs, self.n_members))
                copy[:] = metrics[name]
                metrics[name] = copy
        diverged = sorted((member, epoch) for member, (epoch, _) in self.dead.items())
        if outcome is None:
            return History._adopting(metrics, diverged=diverged)
        return History._adopting(
            metrics, interrupted=outcome.interrupted, stopped=outcome.stopped, diverged=diverged
        )

    def finish(self, outcome):
        trainer, ensemble = self.trainer, self.ensemble
        diverged = sorted((member, epoch) for member, (epoch, _) in self.dead.items())
        epochs = outcome.epochs
        if len(self.dead) == self.n_members:
            epochs = max(epoch for _, epoch in diverged)
        record = _settings.record(trainer)
        record["epochs"] = epochs
        record["members_diverged"] = [list(pair) for pair in diverged]
        ensemble.metadata["fits"].append(record)
        for member, own in enumerate(_member_records(record, self.n_members)):
            ensemble._member_metadata[member]["fits"].append(own)
        trainer.history = self._history(outcome.history, epochs, outcome)
        if len(self.dead) == self.n_members:
            member, epoch = max(diverged, key=lambda pair: pair[1])
            error = DivergenceError(epoch, "loss", float("nan"), history=trainer.history)
            error.args = (
                f"training diverged: every member did, the last (member {member}) in epoch "
                f"{epoch}; each keeps the parameters of its last finite epoch, the history "
                "lists them in .diverged (try smaller learning rates)",
            )
            raise error
        if diverged:
            listed = ", ".join(f"member {m} in epoch {e}" for m, e in diverged)
            warnings.warn(
                f"{len(diverged)} of {self.n_members} members diverged ({listed}); each keeps "
                "the parameters of its last finite epoch and its history holds NaN from "
                "there, the others trained on",
                MemberDivergenceWarning,
                stacklevel=4,
            )
        return trainer.history


def _member_records(record, n_members):
    """What each member's own metadata keeps of an ensemble's fit: its own values."""
    shared = dict(record, ensemble=True)
    del shared["members_diverged"]
    own_values = {name: shared[name] for name in _PER_MEMBER if isinstance(shared.get(name), list)}
    records = [dict(shared) for _ in range(n_members)]
    for name, values in own_values.items():
        for own, value in zip(records, values, strict=True):
            own[name] = value
    return records


_PER_MEMBER = tuple(setting.name for setting in _settings.SETTINGS if setting.per_member)


def _optimizer_state(trainer, ensemble):
    """The trainer's optimizer state in the ensemble's blocks, made afresh when the
    optimizer changed."""
    n_blocks, n_params, _ = ensemble._blocks.shape
    state = trainer._optimizer_state
    if state is None or trainer._optimizer_state_of != trainer.optimizer:
        state = aligned_zeros(n_blocks * 2 * n_params * LANES, ensemble.dtype)
        trainer._optimizer_state = state.reshape(n_blocks, 2 * n_params, LANES)
        trainer._optimizer_state_of = trainer.optimizer
        trainer._counters[codes.STEP_COUNT] = 0
    return trainer._optimizer_state


def _prefer_workqueue():
    """Use Numba's workqueue threading layer for the threaded ensemble kernel, unless the
    user chose a layer (``NUMBA_THREADING_LAYER``) or Numba already started one.

    The GNU OpenMP layer cannot be used again in a child forked after it ran (Numba stops
    the child), and an ensemble's kernel opens one parallel region per chunk of epochs, so
    the workqueue layer's slower start (130-160 us a region on this machine) costs little.
    It does not take two parallel kernels at once, which ``_PARALLEL`` serializes.
    """
    from numba.np.ufunc import parallel

    if "NUMBA_THREADING_LAYER" not in os.environ and not parallel._is_initialized:
        numba.config.THREADING_LAYER = "workqueue"
