"""Optimizers: how a batch's gradient becomes a step. Pass one as ``Trainer(optimizer=...)``.

Each holds only its hyperparameters; the state (velocities, moment estimates, step sizes)
lives in flat vectors of the parameter layout that the ``Trainer`` keeps, apart from the
network, and carries over from one ``fit`` to the next. ``g`` below is the batch's gradient
(summed or averaged, plus the L2 term, after clipping) and ``lr`` the epoch's learning rate.
"""

import dataclasses

from fastbp import _checks, _names
from fastbp.kernels import codes


@dataclasses.dataclass(frozen=True)
class SGD:
    """Gradient descent, with optional momentum in scikit-learn's form.

    Without momentum ``w -= lr * g``. With momentum ``v = momentum * v - lr * g`` then
    ``w += v``; with Nesterov's correction ``w += momentum * v - lr * g`` instead. ``v``
    starts at zero.

    Parameters
    ----------
    momentum : float, default 0.0
        In [0, 1).
    nesterov : bool, default False
        Nesterov's accelerated gradient (needs ``momentum > 0``).
    """

    momentum: float = 0.0
    nesterov: bool = False

    def __post_init__(self):
        object.__setattr__(self, "momentum", _checks.check_real(self.momentum, "momentum", 0, 1))
        object.__setattr__(self, "nesterov", _checks.check_flag(self.nesterov, "nesterov"))
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs a momentum greater than 0")

    @property
    def code(self):
        if self.momentum == 0:
            return codes.SGD
        return codes.NESTEROV if self.nesterov else codes.MOMENTUM_SGD

    def fill(self, settings):
        settings[codes.MOMENTUM] = self.momentum


@dataclasses.dataclass(frozen=True)
class Adam:
    """Adam (Kingma and Ba, 2015), in the form scikit-learn and the paper's section 2 use.

    With ``t`` counting updates from 1: ``m = beta_1 * m + (1 - beta_1) * g``,
    ``v = beta_2 * v + (1 - beta_2) * g * g``, and
    ``w -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)``.

    Parameters
    ----------
    beta_1, beta_2 : float, default 0.9 and 0.999
        Decay rates of the moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        Added to ``sqrt(v)``; greater than 0.
    """

    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8

    def __post_init__(self):
        for name in ("beta_1", "beta_2"):
            object.__setattr__(self, name, _checks.check_real(getattr(self, name), name, 0, 1))
        epsilon = _checks.check_real(self.epsilon, "epsilon", 0, include_low=False)
        object.__setattr__(self, "epsilon", epsilon)

    code = codes.ADAM

    def fill(self, settings):
        settings[codes.BETA_1] = self.beta_1
        settings[codes.BETA_2] = self.beta_2
        settings[codes.EPSILON] = self.epsilon


@dataclasses.dataclass(frozen=True)
class RPROP:
    """iRPROP- (Igel and Hüsken, 2000), FANN's default training algorithm; full batch only.

    Each parameter has its own step size, which starts at ``step_initial``. When the gradient
    keeps its sign from one update to the next, the step grows by ``increase`` (up to
    ``step_max``); when the sign flips it shrinks by ``decrease`` (down to ``step_min``), and
    that update skips the parameter and forgets its gradient. The parameter then moves by its
    step against the gradient's sign. The learning rate and its schedule are not used.
    The defaults are FANN's.

    Parameters
    ----------
    increase : float, default 1.2
        Greater than 1.
    decrease : float, default 0.5
        In (0, 1).
    step_min, step_max : float, default 0.0 and 50.0
        Bounds of the step sizes.
    step_initial : float, default 0.1
        Every step size before the first update.
    """

    increase: float = 1.2
    decrease: float = 0.5
    step_min: float = 0.0
    step_max: float = 50.0
    step_initial: float = 0.1

    def __post_init__(self):
        increase = _checks.check_real(self.increase, "increase", 1, include_low=False)
        decrease = _checks.check_real(self.decrease, "decrease", 0, 1, include_low=False)
        step_min = _checks.check_real(self.step_min, "step_min", 0)
        step_max = _checks.check_real(self.step_max, "step_max", step_min, include_low=False)
        step_initial = _checks.check_real(
            self.step_initial, "step_initial", step_min, step_max, include_high=True
        )
        for name, value in zip(
            ("increase", "decrease", "step_min", "step_max", "step_initial"),
            (increase, decrease, step_min, step_max, step_initial),
            strict=True,
        ):
            object.__setattr__(self, name, value)

    code = codes.RPROP

    def fill(self, settings):
        settings[codes.RPROP_INCREASE] = self.increase
        settings[codes.RPROP_DECREASE] = self.decrease
        settings[codes.RPROP_STEP_MIN] = self.step_min
        settings[codes.RPROP_STEP_MAX] = self.step_max


NAMES = {"sgd": SGD, "adam": Adam, "rprop": RPROP}


def resolve(optimizer):
    """An optimizer object from an object or one of the names in ``NAMES`` (defaults)."""
    return _names.resolve(optimizer, NAMES, (SGD, Adam, RPROP), "optimizer")
