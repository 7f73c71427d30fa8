# PlanetML: two set-up commands.
#   make run   install the pinned environment (once) and start JupyterLab on the notebooks
#   make test  install the environment with the test extra and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8888
BIN    := $(VENV)/bin

.PHONY: run test docs lock clean chromium vo-packages vo-server lint-dockerfile test-image

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

# Chromium for the browser tests of the dashboards (Debian/Ubuntu; installing needs root).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-liberation; \
	  else echo "make: /usr/bin/chromium is missing: sudo apt-get install chromium"; exit 1; fi; }

# GAVO DaCHS (PostgreSQL, pgsphere) and STILTS for the EPN-TAP tests: packages only, each test run
# starts a throwaway DaCHS of its own (Debian; installing needs root). See docs/virtual_observatory.md.
vo-packages:
	bash tools/vo_server.sh install

# Install and start the system DaCHS on http://127.0.0.1:8080, for `planetml publish`.
vo-server:
	bash tools/vo_server.sh start

# The tutorial notebooks run inside tests/test_book.py, which builds the book (make docs).
test: $(VENV)/.installed-test chromium vo-packages
	$(BIN)/ruff check planetml_lib tests benchmarks tools docs
	PLANETML_FAST=1 $(BIN)/python -m pytest -p no:cacheprovider

# The book: every tutorial notebook executed in fast mode, the docs pages and the API reference, into
# docs/_build/html (open docs/_build/html/index.html); warnings are errors. See docs/book/launch.md.
docs: $(VENV)/.installed-test
	PLANETML_FAST=1 $(BIN)/python -m sphinx -b html -c docs -W --keep-going . docs/_build/html

# hadolint on the Dockerfile (tests/test_dockerfile.py runs it too, with the image conventions).
lint-dockerfile: $(VENV)/.installed-test
	$(BIN)/hadolint Dockerfile

# Build the Dockerfile with buildah and check the image end to end (no Docker engine needed):
# root, 30 GB free disk, about 5 minutes. See docs/platforms.md.
test-image:
	bash tools/test_image.sh

lock:
	PYTHON=$(PYTHON) bash tools/lock.sh

clean:
	rm -rf $(VENV)
