# Two commands do everything on a fresh clone:
#   make book   -> builds the Jupyter Book into _build/html (creates .venv/ first if absent)
#   make test   -> runs the test suite (creates .venv/ first if absent)
# Any Python >= 3.10 works; set PYTHON=python3.11 to choose one.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test venv benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: $(STAMP)
	@bash scripts/ensure_chromium.sh || echo "Chromium unavailable: the browser test will be skipped."
	$(PY) -m pytest tests

benchmarks: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf _build book/executed .cache
