"""Where Numba caches fastbp's kernels: one folder per version of their source, seeded at install.

Numba keys each cached function by its own file's content, so a change to a helper that
another file inlined goes unseen, and the stale kernel would be loaded. fastbp's kernels
(this package's functions and the kernels ``kernels.skeleton`` writes out) are cached
instead in one folder per *version* of the kernels: a hash of every module of this package
and of Numba's version. Any change to either starts a fresh folder, so no cached kernel
ever outlives the source it was compiled from.

Building fastbp's wheel (``pip install``) compiles the common kinds of fit into
``prebuilt/<version>`` beside this file (``fastbp._build``). The first process that uses a
cache folder of that version copies them in, so the first fit after installing loads its
kernels instead of compiling them. Numba checks each cached kernel against this machine's
CPU as it loads it and compiles afresh on a mismatch (a wheel built on another machine), so a
prebuilt kernel can only shorten a first fit, never change its result.
"""

import functools
import hashlib
import os
import shutil
import tempfile

import numba
from numba.core import caching, config

_HERE = os.path.dirname(os.path.abspath(__file__))
# Set to "0" to leave the prebuilt kernels out (measuring a compile from nothing).
PREBUILT_SWITCH = "FASTBP_PREBUILT_KERNELS"
# The marker of a cache folder into which the prebuilt kernels have been copied.
_SEEDED = ".prebuilt-copied"


def version(folder=_HERE):
    """The version of the kernels in ``folder``: a hash of its modules and Numba's version."""
    digest = hashlib.sha256(numba.__version__.encode())
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            digest.update(name.encode())
            with open(os.path.join(folder, name), "rb") as file:
                digest.update(file.read())
    return digest.hexdigest()[:16]


VERSION = version()
PREBUILT = os.path.join(_HERE, "prebuilt", VERSION)


def is_kernel(module_name):
    """Whether functions of the module called ``module_name`` are fastbp's kernels."""
    return module_name.startswith(("fastbp.kernels.", "fastbp_kernel_"))


@functools.cache
def directory():
    """The cache folder of this version of the kernels, made and seeded with the prebuilt
    kernels once per process: ``fastbp-kernels-<version>`` in ``NUMBA_CACHE_DIR``, else in
    the user's cache folder; in a private temporary folder if neither can be written."""
    base = config.CACHE_DIR or os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    path = os.path.join(base, f"fastbp-kernels-{VERSION}")
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        path = tempfile.mkdtemp(prefix=f"fastbp-kernels-{VERSION}-")
    _seed(path)
    return path


def _seed(path):
    """Copy the prebuilt kernels into the cache folder ``path``, once: a file already there
    (saved by a fit, or by another process seeding at the same time) is kept."""
    marker = os.path.join(path, _SEEDED)
    if os.environ.get(PREBUILT_SWITCH) == "0" or os.path.exists(marker):
        return
    if not os.path.isdir(PREBUILT):
        return
    for name in os.listdir(PREBUILT):
        target = os.path.join(path, name)
        if not os.path.exists(target):
            # Copied whole and renamed into place: a process loading it never reads half.
            descriptor, partial = tempfile.mkstemp(dir=path, suffix=".partial")
            os.close(descriptor)
            shutil.copyfile(os.path.join(PREBUILT, name), partial)
            os.replace(partial, target)
    open(marker, "w").close()


class KernelCacheLocator(caching._CacheLocator):
    """Numba's cache locator for fastbp's kernels: every one in ``directory()``, stamped
    with ``VERSION`` rather than its own file's content."""

    def __init__(self, py_func):
        self._lineno = py_func.__code__.co_firstlineno

    def get_cache_path(self):
        return directory()

    def get_source_stamp(self):
        return VERSION

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        return cls(py_func) if is_kernel(py_func.__module__ or "") else None


def register():
    """Put ``KernelCacheLocator`` first among the locators Numba asks (the others decline
    fastbp's kernels and serve every other function as before)."""
    implementation = getattr(caching, "CacheImpl", None) or caching._CacheImpl
    if KernelCacheLocator not in implementation._locator_classes:
        implementation._locator_classes.insert(0, KernelCacheLocator)
