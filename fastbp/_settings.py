"""The Trainer's settings, in one table.

Each ``Setting`` says how its value is checked, where it goes in the kernels' ``settings``
(dtype) and ``options`` (int64) vectors, which training feature it turns on (what a kernel
path must declare it runs), how a fit records it in ``network.metadata["fits"]``, and the
option of ``fastbp train`` that sets it. ``Trainer.__init__``, its checks, the encoding, the
feature list, the record, ``repr`` and the command read this table; a new setting is its entry
here, its kernel code, its reference code and its tests (plus its place in ``Trainer``'s
signature and docstring, which users read).
"""

import argparse
import dataclasses
from collections.abc import Callable

import numpy as np

from fastbp import _checks, _kernels, optimizers, schedules
from fastbp._names import LOSSES, REDUCTIONS, choose
from fastbp.kernels import codes
from fastbp.kernels.unrolled import MAX_WEIGHTS as MAX_UNROLLED_WEIGHTS
from fastbp.kernels.unrolled import supports as unrolled_supports

_CROSS_ENTROPY_OUTPUTS = ("sigmoid", "softmax")


@dataclasses.dataclass(frozen=True)
class Encoding:
    """The vectors a fit's settings are written into, and what the encoding depends on."""

    settings: np.ndarray  # the network's dtype, ``codes.SETTINGS_SIZE``
    options: np.ndarray  # int64, ``codes.OPTIONS_SIZE``
    n_samples: int
    batch_size: int  # the fit's: ``None`` (full batch) resolved, at most ``n_samples``


def _unchanged(value):
    return value


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting of ``Trainer``.

    ``check(value, network)`` returns the value, normalized, or raises an error that names
    the setting. ``encode(value, encoding)`` writes it into the kernels' vectors.
    ``feature(value)`` is the name of the training feature the value turns on (None for
    plain SGD's value). ``record(value)`` is what ``metadata["fits"]`` keeps (None: nothing).
    ``cli`` holds the keyword arguments of the ``fastbp train`` option (``--name``), if any.
    ``per_member`` says that a trainer of an ``Ensemble`` takes one value per member (a
    sequence) as well as one for all.
    """

    name: str
    default: object
    check: Callable
    encode: Callable | None = None
    feature: Callable | None = None
    record: Callable | None = _unchanged
    cli: dict | None = None
    per_member: bool = False

    @property
    def flag(self):
        return "--" + self.name.replace("_", "-")


def _check_network(network):
    # Imported here: fastbp.network does not need the Trainer's table, nor the table it.
    from fastbp.ensemble import Ensemble
    from fastbp.network import Network

    if not isinstance(network, (Network, Ensemble)):
        raise TypeError(
            f"network must be a fastbp.Network or fastbp.Ensemble; got {type(network).__name__}"
        )


def _check_loss(value, network):
    value = choose(value, LOSSES, "loss")
    if value == "cross_entropy" and network.activations[-1] not in _CROSS_ENTROPY_OUTPUTS:
        raise ValueError(
            "loss 'cross_entropy' needs a 'softmax' or 'sigmoid' output layer; the network's "
            f"output activation is {network.activations[-1]!r}"
        )
    if value == "poisson" and network.activations[-1] != "exp":
        raise ValueError(
            "loss 'poisson' needs an 'exp' output layer (its canonical link); the network's "
            f"output activation is {network.activations[-1]!r}"
        )
    return value


def _check_kernel(value, network):
    value = choose(value, _kernels.CHOICES, "kernel")
    if value == "unrolled" and not unrolled_supports(network.layout):
        raise ValueError(
            "kernel 'unrolled' is for networks of at most "
            f"{MAX_UNROLLED_WEIGHTS} weights without softmax; use 'auto' or 'generic'"
        )
    return value


def _optional_positive(name):
    def check(value, network):
        return None if value is None else _checks.check_positive_finite(value, name)

    return check


def _encode_batch_size(value, encoding):
    encoding.options[codes.BATCH_SIZE] = encoding.batch_size  # ``None`` resolved by the fit


def _encode_reduction(value, encoding):
    settings, batch_size = encoding.settings, encoding.batch_size
    # "weighted_mean" divides by each batch's summed weight, which the kernel adds up; its
    # divisors here are the unweighted batches' sizes.
    encoding.options[codes.WEIGHTED_MEAN] = value == "weighted_mean"
    if value in ("mean", "weighted_mean"):
        settings[codes.BATCH_DIVISOR] = batch_size
        settings[codes.LAST_BATCH_DIVISOR] = encoding.n_samples % batch_size or batch_size
    else:
        settings[codes.BATCH_DIVISOR] = settings[codes.LAST_BATCH_DIVISOR] = 1


def _encode_optimizer(optimizer, encoding):
    optimizer.fill(encoding.settings)
    encoding.options[codes.OPTIMIZER] = optimizer.code


def _encode_schedule(schedule, encoding):
    schedule.fill(encoding.settings, encoding.options)
    encoding.options[codes.SCHEDULE] = schedule.code


def _encode_dropout(rate, encoding):
    encoding.settings[codes.DROPOUT] = rate
    encoding.settings[codes.DROPOUT_SCALE] = 1 / (1 - rate)


def _into(vector, code, convert=_unchanged):
    """An ``encode`` that writes ``convert(value)`` at ``code`` of ``vector`` ("settings" or
    "options")."""

    def encode(value, encoding):
        getattr(encoding, vector)[code] = convert(value)

    return encode


def _optimizer_feature(optimizer):
    if isinstance(optimizer, optimizers.SGD):
        return {codes.SGD: None, codes.MOMENTUM_SGD: "momentum", codes.NESTEROV: "nesterov"}[
            optimizer.code
        ]
    return type(optimizer).__name__.lower()  # "adam", "rprop"


def _when_set(feature):
    """A ``feature`` that is on whenever the value is not zero, False or None."""
    return lambda value: feature if value else None


SETTINGS = (
    Setting(
        "learning_rate",
        0.01,
        lambda value, network: _checks.check_positive_finite(value, "learning_rate"),
        _into("settings", codes.LEARNING_RATE),
        cli={"type": float},
        per_member=True,
    ),
    Setting(
        "batch_size",
        32,
        lambda value, network: (
            None if value is None else _checks.check_count(value, "batch_size", minimum=1)
        ),
        _encode_batch_size,
    ),
    Setting(
        "reduction",
        "mean",
        lambda value, network: choose(value, REDUCTIONS, "reduction"),
        _encode_reduction,
        lambda value: "weighted_mean" if value == "weighted_mean" else None,
        cli={"choices": list(REDUCTIONS)},
    ),
    Setting(
        "loss",
        "squared_error",
        _check_loss,
        _into("options", codes.LOSS_CODE, LOSSES.__getitem__),
        lambda value: "poisson" if value == "poisson" else None,
        cli=None,  # the command's --loss also says how it reads class labels: see fastbp.cli
    ),
    Setting(
        "shuffle",
        True,
        lambda value, network: _checks.check_flag(value, "shuffle"),
        _into("options", codes.SHUFFLE),
        cli={"action": argparse.BooleanOptionalAction},
    ),
    Setting(
        "seed",
        None,
        lambda value, network: _checks.check_seed(value, "seed", upper=2**64),
        cli={"type": int, "help": "seed of the weights and the shuffling"},
        per_member=True,
    ),
    Setting(
        "optimizer",
        "sgd",
        lambda value, network: optimizers.resolve(value),
        _encode_optimizer,
        _optimizer_feature,
        repr,
    ),
    Setting(
        "schedule",
        "constant",
        lambda value, network: schedules.resolve(value),
        _encode_schedule,
        lambda schedule: None if schedule == schedules.Constant() else "schedule",
        repr,
        cli={"choices": list(schedules.NAMES)},
    ),
    Setting(
        "l2",
        0.0,
        lambda value, network: _checks.check_real(value, "l2", 0),
        _into("settings", codes.L2),
        _when_set("l2"),
        cli={"type": float, "help": "L2 weight decay"},
        per_member=True,
    ),
    Setting(
        "l2_biases",
        False,
        lambda value, network: _checks.check_flag(value, "l2_biases"),
        _into("options", codes.L2_BIASES),
        cli={"action": "store_true", "help": "the L2 penalty covers the biases too"},
    ),
    Setting(
        "l2_divided",
        False,
        lambda value, network: _checks.check_flag(value, "l2_divided"),
        _into("options", codes.L2_DIVIDED),
        _when_set("l2_divided"),
    ),
    Setting(
        "l2_in_loss",
        False,
        lambda value, network: _checks.check_flag(value, "l2_in_loss"),
        _into("options", codes.L2_IN_LOSS),
        _when_set("l2_in_loss"),
    ),
    Setting(
        "loss_output_mean",
        False,
        lambda value, network: _checks.check_flag(value, "loss_output_mean"),
        _into("options", codes.LOSS_OUTPUT_MEAN),
        _when_set("loss_output_mean"),
    ),
    Setting(
        "dropout",
        0.0,
        lambda value, network: _checks.check_real(value, "dropout", 0, 1),
        _encode_dropout,
        _when_set("dropout"),
        cli={"type": float, "help": "on hidden layers"},
    ),
    Setting(
        "clip_value",
        None,
        _optional_positive("clip_value"),
        _into("settings", codes.CLIP_VALUE, lambda value: value or 0),
        _when_set("clip_value"),
        cli={"type": float, "help": "clip every delta to +-this"},
    ),
    Setting(
        "clip_norm",
        None,
        _optional_positive("clip_norm"),
        _into("settings", codes.CLIP_NORM, lambda value: value or 0),
        _when_set("clip_norm"),
        cli={"type": float, "help": "clip each gradient to this norm"},
    ),
    Setting(
        "norm_momentum",
        0.1,
        lambda value, network: _checks.check_real(value, "norm_momentum", 0, 1, include_high=True),
        _into("settings", codes.NORM_MOMENTUM),
        cli={"type": float, "help": "batch normalization's running-statistics momentum"},
    ),
    Setting("kernel", "auto", _check_kernel, record=None, cli={"choices": list(_kernels.CHOICES)}),
    Setting(
        "threads",
        1,
        lambda value, network: _checks.check_count(value, "threads", minimum=1),
        _into("options", codes.THREADS),
        cli={"type": int, "help": "threads of the matrix kernel's layer products (default 1)"},
    ),
)
NAMES = tuple(setting.name for setting in SETTINGS)


def check(trainer):
    """Check (and normalize) every setting of ``trainer`` in place; raise before any kernel
    runs. For an ``Ensemble``, a per-member setting may be a sequence with one value per
    member, kept as a tuple."""
    _check_network(trainer.network)
    n_members = getattr(trainer.network, "n_members", None)
    for setting in SETTINGS:
        value = getattr(trainer, setting.name)
        if n_members is not None and setting.per_member and _is_sequence(value):
            value = _check_per_member(setting, value, trainer.network, n_members)
        else:
            value = setting.check(value, trainer.network)
        setattr(trainer, setting.name, value)


def _is_sequence(value):
    return isinstance(value, (list, tuple, np.ndarray))


class _MemberValues(tuple):
    """A per-member setting's values as ``check`` leaves them, marked with the setting they
    were checked as: a fit checks its trainer again, and an ensemble of 256 members spent
    half a millisecond checking the same learning rates twice."""

    checked_as = None


def _check_per_member(setting, values, network, n_members):
    if isinstance(values, _MemberValues) and values.checked_as == setting.name:
        if len(values) == n_members:
            return values
    values = list(np.asarray(values).tolist() if isinstance(values, np.ndarray) else values)
    if len(values) != n_members:
        raise ValueError(
            f"{setting.name} must be one value for every member or one per member "
            f"({n_members}); got {len(values)}"
        )
    checked = _MemberValues(setting.check(value, network) for value in values)
    checked.checked_as = setting.name
    return checked


def member_values(trainer, name):
    """The value of the setting ``name`` for each member of ``trainer``'s ensemble (a list)."""
    value = getattr(trainer, name)
    if isinstance(value, tuple):
        return list(value)
    return [value] * trainer.network.n_members


def _shared(value):
    """What the shared settings vector holds of a per-member setting: the first member's
    value (an ensemble's kernel reads each lane's own)."""
    return value[0] if isinstance(value, tuple) else value


def encode(trainer, n_samples, batch_size):
    """The kernels' ``settings`` (the network's dtype) and ``options`` (int64) vectors for a
    fit of ``trainer`` on ``n_samples`` in batches of ``batch_size``."""
    network = trainer.network
    encoding = Encoding(
        np.zeros(codes.SETTINGS_SIZE, dtype=network.dtype),
        np.zeros(codes.OPTIONS_SIZE, dtype=np.int64),
        n_samples,
        batch_size,
    )
    encoding.settings[codes.LOG_CLIP] = np.finfo(network.dtype).eps
    encoding.settings[codes.NORM_EPSILON] = network.norm_epsilon
    for setting in SETTINGS:
        if setting.encode is not None:
            setting.encode(_shared(getattr(trainer, setting.name)), encoding)
    return encoding.settings, encoding.options


def features(trainer):
    """The training features ``trainer``'s settings turn on, by name."""
    names = []
    for setting in SETTINGS:
        value = getattr(trainer, setting.name)
        if setting.feature is not None:
            names += map(setting.feature, value if isinstance(value, tuple) else [value])
    return list(dict.fromkeys(name for name in names if name is not None))


def record(trainer):
    """What ``metadata["fits"]`` keeps of ``trainer``'s settings."""
    record = {}
    for setting in SETTINGS:
        value = getattr(trainer, setting.name)
        if setting.record is not None:
            per_member = isinstance(value, tuple)
            record[setting.name] = (
                [*map(setting.record, value)] if per_member else setting.record(value)
            )
    return record


def describe(trainer):
    """``name=value`` for every setting, as ``repr(trainer)`` lists them."""
    return ", ".join(f"{name}={getattr(trainer, name)!r}" for name in NAMES)
