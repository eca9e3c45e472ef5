# The two contract commands: `make preflight` and `make test`. Each installs what it needs into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
ASL_STAMP := $(VENV)/.asl-validator-installed
ASL := infra_scripts/stepfunctions/weekly_training.asl.json
BASH_SCRIPTS := infra_scripts/spot_train.sh infra_scripts/remote/*.sh
BASH_LIBS := infra_scripts/lib/*.sh

.PHONY: preflight demo-seed test lint pytest bats bench bench-smoke clean

$(RUNTIME_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --quiet --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --quiet -e .
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) pyproject.toml
	$(PY) -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	touch $@

$(ASL_STAMP): $(DEV_STAMP)
	$(VENV)/bin/npm install --prefix $(VENV)/asl --no-audit --no-fund --loglevel=error asl-validator@4.0.0
	touch $@

demo-seed: $(RUNTIME_STAMP)
	$(PY) -m preflight demo-seed --config workflow.env

preflight: demo-seed
	infra_scripts/spot_train.sh --preflight-only --transport local

lint: $(DEV_STAMP) $(ASL_STAMP)
	$(VENV)/bin/shellcheck -x $(BASH_SCRIPTS) tests/bats/*.bash tests/bats/*.bats .ci/run
	$(VENV)/bin/shellcheck -x -e SC2034 $(BASH_LIBS)
	$(VENV)/bin/ruff check preflight tests examples bench
	$(VENV)/bin/cfn-lint infra_scripts/cfn/*.yaml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/asl/node_modules/.bin/asl-validator --json-path $(ASL)

pytest: $(DEV_STAMP)
	$(PY) -m pytest tests

bats: $(DEV_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/bats tests/bats

test: lint pytest bats bench-smoke

bench: $(DEV_STAMP)
	$(PY) bench/run.py

bench-smoke: $(DEV_STAMP)
	$(PY) bench/run.py --smoke

clean:
	rm -rf .preflight artifacts $(VENV)
