# Two commands set up a fresh machine: `make run` and `make test` (see README).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: `make run` needs the runtime (requirements.txt) only; tests and
# tools add requirements-dev.txt.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Django 6.1 needs Python 3.12+: take the first suitable interpreter on PATH or in pyenv.
PYTHON_CANDIDATES := python3.13 python3.12 python3.14 python3 \
	$(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) \
	$(wildcard /root/.pyenv/versions/3.1[2-9]*/bin/python3)
FIND_PYTHON := for p in $(PYTHON_CANDIDATES); do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; break; fi; \
	done
PORT ?= 8000
# The suite runs on every core with pytest-xdist (each worker gets its own test
# database); PYTEST_WORKERS=0 runs it in one process, e.g. to use --pdb.
PYTEST_WORKERS ?= auto
PIP_VERSION := 26.3

.PHONY: run test venv lint format bench clean

$(STAMP): requirements.txt
	@base=$$($(FIND_PYTHON)); \
	if [ -z "$$base" ]; then echo "error: no Python 3.12 or newer found (tried: python3.13 python3.12 python3 and pyenv); install one and retry" >&2; exit 1; fi; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  rm -rf $(VENV); echo "Creating $(VENV) with $$base"; $$base -m venv $(VENV) || exit 1; fi
	@# The venv's own pip is audited too (tests/security/test_dependencies.py): a known one.
	$(PY) -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(DEV_STAMP)

venv: $(DEV_STAMP)

run: $(STAMP)
	@PORT=$(PORT) bin/run

test: $(DEV_STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
