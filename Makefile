# Two commands do everything on a fresh clone:
#   make train   train the default 80:20 network at the quick scale
#   make test    run the test suite
#   make reproduce  every study at the quick scale, the figures and data/quick/REPORT.md
# Each creates the virtual environment (.venv, pinned versions) and installs the data on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: train test reproduce data venv clean-cache

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; run 'make PYTHON=python3 ...' with a Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

data: $(STAMP)
	@$(VENV)/bin/ei-brian data ensure fashion-mnist

train: data
	$(VENV)/bin/ei-brian train

test: data
	$(PY) -m pytest -q --durations=15 tests

reproduce: data
	$(VENV)/bin/ei-brian reproduce --quick

clean-cache:
	rm -rf .cache

.PHONY: docs
docs: $(STAMP)
	$(PY) -m pip install -q -r docs/requirements.txt
	$(PY) -m sphinx -q -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"
