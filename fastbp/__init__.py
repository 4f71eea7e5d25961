"""fastbp: dense neural networks trained by backpropagation at compiled speed.

>>> from fastbp import Network, Trainer
"""

from fastbp import _compile_notice  # noqa: F401  (says when kernels compile for long)
from fastbp.ensemble import Ensemble
from fastbp.errors import (
    DivergenceError,
    FitInterruptedWarning,
    FitWarning,
    MemberDivergenceWarning,
    ModelFileError,
)
from fastbp.history import History
from fastbp.network import Network
from fastbp.persistence import load
from fastbp.scaling import Standardization
from fastbp.trainer import Trainer

__all__ = [
    "DivergenceError",
    "Ensemble",
    "FitInterruptedWarning",
    "FitWarning",
    "History",
    "MemberDivergenceWarning",
    "ModelFileError",
    "Network",
    "Standardization",
    "Trainer",
    "__version__",
    "load",
]
__version__ = "0.1.0"
