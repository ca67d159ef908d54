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
    "myst_nb",  # MyST markdown (it loads myst_parser) and the example notebook with its outputs
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "generated",  # docs/_ext/generated.py: defaults, command line, run folder, from the code
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# The example notebook (examples/, copied to generated/examples/ by _ext/generated.py) is stored
# with its outputs and shown as stored: never executed here, so that a build stays fast, offline
# and free of training runs. Refresh its outputs by executing it (see docs/_ext/generated.py).
nb_execution_mode = "off"
exclude_patterns = ["_build", "requirements.txt", "_intersphinx",
                    "generated/run_folder_*.md"]  # pieces that run_folder.md includes
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False}
autodoc_mock_imports = ["torch"]
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
# No warning is suppressed: `make docs` builds with -W, so every warning is an error.

# Links into other projects' documentation. Each project's inventory is tried at its web address
# first and then at docs/_intersphinx/empty.inv, an inventory with no entries. Online, the first
# location answers and the links are made. Offline (or when a site is down), Sphinx records the
# failure of the first location only as a message, not as a warning ("encountered some issues with
# some of the inventories, but they had working alternatives"), because the second location can
# be read; the references into that project are then left as plain text. A warning about an
# unreachable inventory (Sphinx 8.1's "failed to reach any of the inventories") has no type, so
# suppress_warnings cannot silence it, and `make docs` builds with -W: without the fallback every
# offline build would fail. EI_BRIAN_DOCS_STRICT_INTERSPHINX=1 leaves the fallback out, so that a
# build that must make every link (online, in CI) fails when an inventory cannot be fetched;
# EI_BRIAN_DOCS_OFFLINE=1 leaves intersphinx's mapping empty and asks nothing of the network (the
# test tests/test_docs.py builds so, the same on every machine and without waiting on a timeout).
_INTERSPHINX = {
    "python": "https://docs.python.org/3",
    "numpy": "https://numpy.org/doc/stable/",
    "brian2": "https://brian2.readthedocs.io/en/stable/",
    "elephant": "https://elephant.readthedocs.io/en/latest/",
    "neo": "https://neo.readthedocs.io/en/latest/",
    "dask": "https://docs.dask.org/en/stable/",
}
_FALLBACK = () if os.environ.get("EI_BRIAN_DOCS_STRICT_INTERSPHINX") == "1" \
    else ("_intersphinx/empty.inv",)
intersphinx_mapping = {} if os.environ.get("EI_BRIAN_DOCS_OFFLINE") == "1" else \
    {name: (url, (None, *_FALLBACK)) for name, url in _INTERSPHINX.items()}
intersphinx_timeout = 5
html_theme = "alabaster"
html_title = f"ei_brian {release}"
