# Two commands do everything on a fresh clone:
#   make train   train the default 80:20 network at the quick scale
#   make test    run the test suite (what CI runs), the documentation's build included
# and
#   make reproduce  every study at the quick scale, the figures and data/quick/REPORT.md
#   make test-fast  the tests not marked slow (the development loop; CONTRIBUTING.md)
#   make docs       the documentation site into docs/_build/html
# Each creates the virtual environment (.venv, pinned versions) and installs the data on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: train test test-fast reproduce data venv clean-cache

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; run 'make PYTHON=python3 ...' with a Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# what the documentation's build needs (tests/test_docs.py builds it too)
$(DOCS_STAMP): $(STAMP) docs/requirements.txt
	$(PY) -m pip install -q -r docs/requirements.txt
	touch $(DOCS_STAMP)

data: $(STAMP)
	@$(VENV)/bin/ei-brian data ensure fashion-mnist

train: data
	$(VENV)/bin/ei-brian train

test: data $(DOCS_STAMP)
	$(PY) -m pytest -q --durations=15 tests

test-fast: data $(DOCS_STAMP)
	$(PY) -m pytest -q -m "not slow" --durations=10 tests

reproduce: data
	$(VENV)/bin/ei-brian reproduce --quick

clean-cache:
	rm -rf .cache

# docs: warnings are errors (-W); offline, the links into other projects' documentation are left
# out (docs/conf.py). docs-check: the tests of the documentation (tests/test_docs.py).
.PHONY: docs docs-check
docs: $(DOCS_STAMP)
	$(PY) -m sphinx -q -W --keep-going -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

docs-check: $(DOCS_STAMP)
	$(PY) -m pytest -q tests/test_docs.py
