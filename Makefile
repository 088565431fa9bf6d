# The README's two commands: `make run` and `make test`. Each creates or refreshes the
# virtual environment in .venv first (about 40 s the first time on our machines).
PYTHON ?= python3
VENV ?= .venv
# On our machines `torch==2.13.0` is a local CPU build that installs in seconds; the
# project itself declares an honest range (pyproject.toml). Elsewhere pass your own,
# e.g. `make TORCH="torch --index-url https://download.pytorch.org/whl/cpu"`.
TORCH ?= torch==2.13.0
PIP = $(VENV)/bin/python -m pip --quiet --disable-pip-version-check

.PHONY: run test lint bench clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/python -m gui

test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python -m pytest

bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/bench_engine.py
	$(VENV)/bin/python benchmarks/bench_gui.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis .import_linter_cache
