# The README's two commands are `make demo` and `make test`; each sets up everything it needs from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
CHECKOV_ENV := .checkov
PY := $(VENV)/bin/python
SAM := $(TOOLS)/bin/sam
RUNTIME := $(shell sed -n 's/^ *Runtime: python\([0-9.]*\).*/\1/p' template.yaml | head -1)
# The tests run on the Python that Lambda runs (template.yaml's Runtime), from PATH or pyenv; else on $(PYTHON).
RUNTIME_PYTHON := $(shell scripts/find-python.sh $(RUNTIME) 2>/dev/null)
VENV_PYTHON := $(or $(RUNTIME_PYTHON),$(PYTHON))
VENV_STAMP := $(VENV)/.installed-$(shell $(VENV_PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
export SAM_CLI_TELEMETRY := 0
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/dialhub

.PHONY: setup test lint typecheck validate security pytest chromium chaos bench mutation demo serve build openapi clean

setup: $(VENV_STAMP) $(TOOLS)/.installed

$(VENV_STAMP): requirements-dev.txt layers/dialhub/requirements.txt
	@$(VENV_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed as $(VENV_PYTHON)"; exit 1; }
	@[ -n "$(RUNTIME_PYTHON)" ] || echo "WARNING: python$(RUNTIME) (template.yaml's Lambda runtime) is not on PATH or in pyenv; the tests run on $$($(VENV_PYTHON) --version), not on what ships"
	$(VENV_PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .  # .venv/bin/dialhub, the command line
	@touch $@

$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	@touch $@

$(CHECKOV_ENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_ENV)
	$(CHECKOV_ENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_ENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

test: setup lint typecheck validate security pytest chaos

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Strict on the layer's library and the command line; local/ (the offline stack) checked too; each function on its
# own (all are app.py).
typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy --strict layers/dialhub/dialhub
	$(VENV)/bin/mypy --strict cli/dialhub_cli
	$(VENV)/bin/mypy local
	@for function in functions/*/; do $(VENV)/bin/mypy --strict $$function || exit 1; done

validate: $(TOOLS)/.installed
	$(SAM) validate --lint

# checkov over the template: every failed check is either fixed or skipped in template.yaml with its reason
# (docs/operations.md, "Security review"). Fails on any other finding.
security: $(CHECKOV_ENV)/.installed
	$(CHECKOV_ENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation --file template.yaml

# Prints the layer's line and branch coverage (the README quotes it).
pytest: $(VENV_STAMP) chromium
	$(VENV)/bin/pytest -q --cov=dialhub --cov-branch --cov-report=term:skip-covered

# The campaign report's browser test opens it in Debian's Chromium: installed here when it is missing and apt-get
# can (as root, or with sudo that asks no password); otherwise that test skips, saying why.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then as_root=""; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; \
	else echo "chromium: $(CHROMIUM) is missing and apt-get needs root: the report's browser test will skip"; exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "chromium: no apt-get here: the report's browser test will skip"; exit 0; fi; \
	echo "chromium: installing Debian's chromium package for the report's browser test"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$as_root apt-get install -y -q chromium >/dev/null 2>&1 || \
	{ $$as_root apt-get update -q >/dev/null 2>&1 && $$as_root apt-get install -y -q chromium >/dev/null 2>&1; } || \
	echo "chromium: apt-get could not install it: the report's browser test will skip"

# Faults, bad input and attack against the running local stack; prints the figures the README quotes.
chaos: $(VENV_STAMP)
	$(PY) -m local.chaos
	$(PY) -m local.chaos --unexpected-vendors --contacts-per-vendor 300

# Not part of `make test`: prints the cost table and writes BENCHMARKS.md.
bench: $(VENV_STAMP)
	$(PY) -m bench

# Not part of `make test` either (a fresh run takes more than an hour on 2 cores; a later one tests only what
# changed): writes MUTATION.md; results are kept in .mutation/.
mutation: $(VENV_STAMP)
	$(PY) scripts/mutation.py

demo: $(VENV_STAMP)
	$(PY) -m local.demo

serve: $(VENV_STAMP)
	$(PY) -m local.serve

openapi: $(VENV_STAMP)
	$(PY) scripts/generate_openapi.py

build: $(TOOLS)/.installed
	@interpreter=$$(scripts/find-python.sh $(RUNTIME)) || { \
	  echo "make build needs Python $(RUNTIME), the Lambda runtime named in template.yaml: put python$(RUNTIME) on PATH (e.g. 'pyenv install $(RUNTIME)')"; exit 1; }; \
	echo "building with $$interpreter"; \
	PATH="$$(dirname $$interpreter):$$PATH" $(SAM) build

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKOV_ENV) .aws-sam .pytest_cache .ruff_cache .mutation
