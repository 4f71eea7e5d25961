"""``pip install`` compiles fastbp's common kernels into the wheel it builds.

setuptools' ``build_py`` (pyproject.toml's ``cmdclass`` names this class), then
``fastbp.precompile.prebuild`` run in the package it has just laid out, so that the first
fit after installing loads its kernels rather than compiling them (``fastbp.kernels.cache``).
It adds about a minute of compiling on two cores to building the wheel, once per install
(pip keeps a wheel it built from a release's source and installs it again without this).
``FASTBP_PREBUILD=0`` builds without it. Editable installs are left out: their source moves.

setuptools loads this file alone, before fastbp can be imported: it imports nothing of fastbp.
"""

import os
import subprocess
import sys
import tempfile

from setuptools.command.build_py import build_py

SWITCH = "FASTBP_PREBUILD"


class BuildPy(build_py):
    """``build_py``, then the prebuilt kernels compiled into the built package."""

    def run(self):
        super().run()
        if self.editable_mode or os.environ.get(SWITCH) == "0":
            return
        with tempfile.TemporaryDirectory(prefix="fastbp-prebuild-") as cache:
            environment = {**os.environ, "NUMBA_CACHE_DIR": cache, "FASTBP_PREBUILT_KERNELS": "0"}
            # Run from the built package's root, which Python puts first on the path.
            result = subprocess.run(
                [sys.executable, "-c", "from fastbp.precompile import prebuild; prebuild()"],
                cwd=self.build_lib,
                env=environment,
            )
        if result.returncode != 0:
            # The wheel works without them (every fit compiles its kernels when first run).
            print(f"fastbp: the prebuilt kernels were left out (exit {result.returncode})")
