# The README's two commands are `make demo` and `make test`; each sets up everything it needs from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
PY := $(VENV)/bin/python
SAM := $(TOOLS)/bin/sam
RUNTIME := $(shell sed -n 's/^ *Runtime: python\([0-9.]*\).*/\1/p' template.yaml | head -1)
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/dialhub

.PHONY: setup test lint validate pytest chaos bench mutation demo serve build openapi clean

setup: $(VENV)/.installed $(TOOLS)/.installed

$(VENV)/.installed: requirements-dev.txt layers/dialhub/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed as $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	@touch $@

test: setup lint validate pytest chaos

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

validate: $(TOOLS)/.installed
	$(SAM) validate --lint

pytest: $(VENV)/.installed
	$(VENV)/bin/pytest -q

# Faults, bad input and attack against the running local stack; prints the figures the README quotes.
chaos: $(VENV)/.installed
	$(PY) -m local.chaos

# Not part of `make test`: prints the cost table and writes BENCHMARKS.md.
bench: $(VENV)/.installed
	$(PY) -m bench

# Not part of `make test` either (about an hour on 2 cores): writes MUTATION.md; results are kept in .mutation/.
mutation: $(VENV)/.installed
	$(PY) scripts/mutation.py

demo: $(VENV)/.installed
	$(PY) -m local.demo

serve: $(VENV)/.installed
	$(PY) -m local.serve

openapi: $(VENV)/.installed
	$(PY) scripts/generate_openapi.py

build: $(TOOLS)/.installed
	@interpreter=$$(scripts/find-python.sh $(RUNTIME)) || { \
	  echo "make build needs Python $(RUNTIME), the Lambda runtime named in template.yaml: put python$(RUNTIME) on PATH (e.g. 'pyenv install $(RUNTIME)')"; exit 1; }; \
	echo "building with $$interpreter"; \
	PATH="$$(dirname $$interpreter):$$PATH" $(SAM) build

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .ruff_cache .mutation
