"""Where fastbp's kernels are cached (``fastbp.kernels.cache``): one folder per version of the
kernels, seeded with the kernels prebuilt into an installed fastbp's wheel."""

import os
import shutil

import pytest
from test_compile import COUNTED_FIT, fresh_environment, run_python

from fastbp.benchmarking import first_fit
from fastbp.kernels import cache

# An editable install runs the kernels from the source tree: no wheel was built for it.
EDITABLE = os.path.exists(os.path.join(os.path.dirname(cache._HERE), "pyproject.toml"))


def test_a_fits_kernels_are_cached_in_the_folder_of_this_version_of_the_kernels(tmp_path):
    run_python(COUNTED_FIT, tmp_path)
    folder = tmp_path / f"fastbp-kernels-{cache.VERSION}"
    assert [path.name for path in tmp_path.iterdir()] == [folder.name]
    names = [path.name for path in folder.iterdir()]
    # The generated kernel's source and its compiled code, and its helpers' from kernels/.
    assert any(name.startswith("fastbp_kernel_") and name.endswith(".py") for name in names)
    assert any(name.startswith("fastbp_kernel_") and name.endswith(".nbi") for name in names)
    assert any(name.startswith("layers.") and name.endswith(".nbi") for name in names)


def test_a_change_to_any_kernel_module_is_a_new_version(tmp_path):
    """So that a helper another module inlined cannot leave a stale kernel in the cache."""
    copy = tmp_path / "kernels"
    shutil.copytree(cache._HERE, copy, ignore=shutil.ignore_patterns("__pycache__", "prebuilt"))
    assert cache.version(copy) == cache.VERSION
    layers = copy / "layers.py"
    layers.write_text(layers.read_text() + "\n")
    assert cache.version(copy) != cache.VERSION


@pytest.fixture
def prebuilt(tmp_path, monkeypatch):
    """A prebuilt folder holding one function's index and compiled code."""
    folder = tmp_path / "prebuilt"
    folder.mkdir()
    (folder / "layers.f-1.py311.nbi").write_bytes(b"prebuilt index")
    (folder / "layers.f-1.py311.1.nbc").write_bytes(b"prebuilt code")
    monkeypatch.setattr(cache, "PREBUILT", str(folder))
    monkeypatch.delenv(cache.PREBUILT_SWITCH, raising=False)
    return folder


def test_a_cache_folder_is_seeded_once_and_keeps_what_fits_saved_there(prebuilt, tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "layers.f-1.py311.nbi").write_bytes(b"saved by a fit")
    cache._seed(str(folder))
    assert (folder / "layers.f-1.py311.nbi").read_bytes() == b"saved by a fit"
    assert (folder / "layers.f-1.py311.1.nbc").read_bytes() == b"prebuilt code"
    assert not [path for path in folder.iterdir() if path.name.endswith(".partial")]
    (folder / "layers.f-1.py311.1.nbc").unlink()
    cache._seed(str(folder))  # once: what was removed since stays removed
    assert not (folder / "layers.f-1.py311.1.nbc").exists()


def test_the_switch_leaves_the_prebuilt_kernels_out(prebuilt, tmp_path, monkeypatch):
    monkeypatch.setenv(cache.PREBUILT_SWITCH, "0")
    folder = tmp_path / "cache"
    folder.mkdir()
    cache._seed(str(folder))
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(EDITABLE, reason="an editable install: no wheel was built, none prebuilt")
@pytest.mark.skipif(
    os.environ.get("FASTBP_PREBUILD") == "0", reason="installed with FASTBP_PREBUILD=0"
)
@pytest.mark.parametrize("case", list(first_fit.CASES))
def test_an_installed_fastbp_compiles_nothing_for_the_first_fits(case, tmp_path):
    """pip install built the wheel with the common kernels prebuilt: each of ``fastbp bench``'s
    first fits, in a fresh process with an empty cache, loads every kernel it runs."""
    assert first_fit.has_prebuilt_kernels(), f"no prebuilt kernels in {cache.PREBUILT}"
    environment = fresh_environment(tmp_path, prebuilt=True)
    assert first_fit._run_child(case, str(tmp_path), environment)["compiled"] == {}
