"""Learning-rate schedules. Pass one as ``Trainer(schedule=...)``.

A schedule sets each epoch's learning rate from ``Trainer.learning_rate`` (``lr`` below) and
the number of epochs the trainer has trained before it (``epoch``, from 0; it carries over from
one ``fit`` to the next, as the optimizer's state does). The rate is computed in float64 and
rounded to the network's dtype.
"""

import dataclasses

from fastbp import _checks, _names
from fastbp.kernels import codes


@dataclasses.dataclass(frozen=True)
class Constant:
    """``lr`` in every epoch."""

    code = codes.CONSTANT

    def fill(self, settings, options):
        pass


@dataclasses.dataclass(frozen=True)
class InverseScaling:
    """``lr / (epoch + 1) ** power``: scikit-learn's "invscaling", counted in epochs.

    Parameters
    ----------
    power : float, default 0.5
        Non-negative.
    """

    power: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "power", _checks.check_real(self.power, "power", 0))

    code = codes.INVSCALING

    def fill(self, settings, options):
        settings[codes.SCHEDULE_POWER] = self.power


@dataclasses.dataclass(frozen=True)
class Step:
    """``lr * factor ** (epoch // every)``: multiplied by ``factor`` every ``every`` epochs.

    Parameters
    ----------
    every : int
        Epochs between reductions, at least 1.
    factor : float, default 0.5
        In (0, 1].
    """

    every: int
    factor: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "every", _checks.check_count(self.every, "every", minimum=1))
        factor = _checks.check_real(self.factor, "factor", 0, 1, False, True)
        object.__setattr__(self, "factor", factor)

    code = codes.STEP

    def fill(self, settings, options):
        settings[codes.SCHEDULE_FACTOR] = self.factor
        options[codes.SCHEDULE_EVERY] = self.every


@dataclasses.dataclass(frozen=True)
class Plateau:
    """Reduce on plateau, as PyTorch's ``ReduceLROnPlateau`` in its default relative mode.

    After each epoch the monitored loss (the validation loss when the fit has validation
    data, else the training loss) counts as an improvement if it is below
    ``best * (1 - threshold)``; after more than ``patience`` epochs in a row without one the
    rate is multiplied by ``factor`` and the count starts again. The rate starts at ``lr``.

    Parameters
    ----------
    factor : float, default 0.1
        In (0, 1).
    patience : int, default 10
        Epochs without improvement tolerated, at least 0.
    threshold : float, default 1e-4
        Relative improvement needed, in [0, 1).
    """

    factor: float = 0.1
    patience: int = 10
    threshold: float = 1e-4

    def __post_init__(self):
        factor = _checks.check_real(self.factor, "factor", 0, 1, include_low=False)
        patience = _checks.check_count(self.patience, "patience", minimum=0)
        threshold = _checks.check_real(self.threshold, "threshold", 0, 1)
        for name, value in (("factor", factor), ("patience", patience), ("threshold", threshold)):
            object.__setattr__(self, name, value)

    code = codes.PLATEAU

    def fill(self, settings, options):
        settings[codes.SCHEDULE_FACTOR] = self.factor
        settings[codes.SCHEDULE_THRESHOLD] = self.threshold
        options[codes.SCHEDULE_EVERY] = self.patience


NAMES = {"constant": Constant, "invscaling": InverseScaling, "plateau": Plateau}


def resolve(schedule):
    """A schedule object from an object or one of the names in ``NAMES`` (defaults)."""
    return _names.resolve(schedule, NAMES, (Constant, InverseScaling, Step, Plateau), "schedule")
