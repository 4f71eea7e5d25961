"""Sphinx configuration of fastbp's documentation: ``sphinx-build -W docs docs/_build/html``."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # the gallery's plots, with no display

project = "fastbp"
author = "fastbp's developers"
copyright = "2026, fastbp's developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

# The user guide is Markdown (MyST); its headings get anchors to link to.
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
# The gallery reads examples/ itself; Sphinx reads what it writes, auto_examples/.
exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = "fastbp"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
