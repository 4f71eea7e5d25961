"""fastbp: dense neural networks trained by backpropagation at compiled speed.

>>> from fastbp import Network, Trainer
"""

from fastbp.history import History
from fastbp.network import Network
from fastbp.trainer import Trainer

__all__ = ["History", "Network", "Trainer", "__version__"]
__version__ = "0.1.0"
