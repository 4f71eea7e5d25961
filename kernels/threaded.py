"""The threaded twins of ``kernels.blocked``'s layer products and of the matrix kernel.

Each is a copy of its original compiled with ``parallel=True``, so each product's ``prange``
runs its chunks on Numba's threads; the kernel ``train_matrix`` here is ``kernels.train_matrix``'s
with these products in place of the serial ones. Nothing here compiles until a fit asks for
more than one thread: the one-thread kernel's first fit does not pay for ``parallel=True``.
"""

from fastbp.kernels import blocked
from fastbp.kernels import train_matrix as serial

forward_product = blocked.threaded_twin(
    blocked.forward_product, "forward_product_threaded", parallel=True
)
gradient_product = blocked.threaded_twin(
    blocked.gradient_product, "gradient_product_threaded", parallel=True
)
deltas_product = blocked.threaded_twin(
    blocked.deltas_product, "deltas_product_threaded", parallel=True
)


def _kernel():
    """``kernels.train_matrix.train_matrix`` and the helpers that call the products, copied
    with ``blocked`` standing for this module (whose products have the same names)."""
    import sys

    namespace = dict(vars(serial))
    namespace["blocked"] = sys.modules[__name__]
    for name in ("forward_batch", "backward_batch", "score_validation_by_batch", "train_matrix"):
        original = getattr(serial, name)
        options = {"inline": "always"} if name in ("forward_batch", "backward_batch") else {}
        namespace[name] = blocked.threaded_twin(original, name + "_threaded", namespace, **options)
    return namespace["train_matrix"]


train_matrix = _kernel()
