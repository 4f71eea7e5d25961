"""Numba kernels of fastbp: arrays in, arrays out, no validation.

Installed as ``fastbp.kernels`` (pyproject maps the top-level ``kernels/`` folder to that
name). Importing this folder under any other name would compile a second, separate copy of
every kernel, and ``kernels`` is also the name of an unrelated package on PyPI, so it is refused.
"""

if __name__ != "fastbp.kernels":
    raise ImportError(
        f"fastbp's kernels must be imported as 'fastbp.kernels', not as {__name__!r}; "
        "install fastbp (pip install .) and import fastbp instead"
    )

# Before any kernel module is imported: Numba looks for a function's cache as it decorates it.
from fastbp.kernels import cache

cache.register()
