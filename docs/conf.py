"""Sphinx configuration of ei_brian's documentation (``make docs`` builds it into docs/_build)."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

import ei_brian  # noqa: E402

project = "ei_brian"
author = "The ei_brian authors"
copyright = "2026, The ei_brian authors"
release = version = ei_brian.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "generated",  # docs/_ext/generated.py: the defaults and the command line, from the code
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "requirements.txt"]
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_mock_imports = ["torch"]
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
suppress_warnings = ["myst.header", "myst.xref_missing"]
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "brian2": ("https://brian2.readthedocs.io/en/stable/", None),
    "elephant": ("https://elephant.readthedocs.io/en/latest/", None),
    "neo": ("https://neo.readthedocs.io/en/latest/", None),
    "dask": ("https://docs.dask.org/en/stable/", None),
}
intersphinx_timeout = 5
html_theme = "alabaster"
html_title = f"ei_brian {release}"
