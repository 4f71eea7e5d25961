"""The threaded twins of ``kernels.blocked``'s layer products and of the matrix path's layer
routines that call them.

Each product is a copy of its original compiled with ``parallel=True``, so its ``prange``
runs its chunks on Numba's threads; ``kernels.batches`` writes the routines here, which call
these products in place of the serial ones, into the threaded matrix kernel. Nothing here
compiles until a fit asks for more than one thread: the one-thread kernel's first fit does
not pay for ``parallel=True``.
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


def _helpers():
    """The matrix path's layer routines that call the products, copied with ``blocked``
    standing for this module (whose products have the same names)."""
    import sys

    namespace = dict(vars(serial))
    namespace["blocked"] = sys.modules[__name__]
    for name in ("forward_batch", "backward_batch", "score_validation_by_batch"):
        original = getattr(serial, name)
        options = {"inline": "always"} if name in ("forward_batch", "backward_batch") else {}
        namespace[name] = blocked.threaded_twin(original, name + "_threaded", namespace, **options)
    return (
        namespace["forward_batch"],
        namespace["backward_batch"],
        namespace["score_validation_by_batch"],
    )


# kernels.batches writes these into the threaded matrix kernel.
forward_batch, backward_batch, score_validation_by_batch = _helpers()
