# PlanetML: two set-up commands.
#   make run   install the pinned environment (once) and start JupyterLab on the notebooks
#   make test  install the environment with the test extra and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
BIN    := $(VENV)/bin

.PHONY: run test lint-notebooks lock clean

# The environment is rebuilt only when the lock files or pyproject.toml change.
$(VENV)/.installed: requirements/lock.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "PlanetML needs Python 3.11; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/lock-test.txt
	$(BIN)/python -m pip install --quiet -r requirements/lock-test.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/planetml lab --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/ruff check planetml_lib tests benchmarks
	PLANETML_FAST=1 $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider

lock:
	PYTHON=$(PYTHON) bash tools/lock.sh

clean:
	rm -rf $(VENV)
