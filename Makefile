# The two contract commands: `make preflight` and `make test`. Each installs what it needs into .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
ASL_STAMP := $(VENV)/.asl-validator-installed
# The probe runs on the training host's Python, as old as 3.9 (Amazon Linux 2023): tests run it there too.
PY39 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.9.*/bin/python3.9) $(shell command -v python3.9 2>/dev/null))
PY39_STAMP := .venv39/.probe-requirements-installed
ASL := infra_scripts/stepfunctions/weekly_training.asl.json
BASH_SCRIPTS := infra_scripts/spot_train.sh infra_scripts/preflight_all.sh infra_scripts/deploy.sh infra_scripts/remote/*.sh
BASH_LIBS := infra_scripts/lib/*.sh
# `$(call INSTALL,PYTHON,ARGS)`: install into PYTHON's venv with uv when it can be had (PATH, or installed
# once into the local image, where the local transport finds it too), else with pip; python3 is all it needs.
UV_ENV := UV_SYSTEM_CERTS=1 UV_NATIVE_TLS=1 UV_PYTHON_DOWNLOADS=never
INSTALL = echo "installing $(2) for $(1)"; uv="$$($(PYTHON) -m preflight.installer --image .preflight/image | sed -n 's/^uv //p')"; \
  if [ -n "$$uv" ]; then $(UV_ENV) "$$uv" pip install --quiet --python $(1) $(2); \
  else $(1) -m pip install --disable-pip-version-check --quiet $(2); fi

.PHONY: install preflight demo-seed test lint pytest bats bench bench-full bench-smoke mutation clean

$(RUNTIME_STAMP): pyproject.toml preflight/uv-requirements.txt
	$(PYTHON) -m venv $(VENV)
	@$(call INSTALL,$(PY),--upgrade pip)
	@$(call INSTALL,$(PY),-e .)
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) pyproject.toml
	@$(call INSTALL,$(PY),-e '.[dev]')
	touch $@

$(ASL_STAMP): $(DEV_STAMP)
	$(VENV)/bin/npm install --prefix $(VENV)/asl --no-audit --no-fund --loglevel=error asl-validator@4.0.0
	touch $@

# The controller host (or any machine that launches): the tool's own venv, nothing else — no demo data.
install: $(RUNTIME_STAMP)
	@echo "spot-preflight installed in $(VENV); run infra_scripts/spot_train.sh --plan --transport ssm --config CONFIG to check AWS"

# The example project's config; the root workflow.env is the neutral reference and names no project.
DEMO_CONFIG := examples/predictor/workflow.env

demo-seed: $(RUNTIME_STAMP)
	$(PY) -m preflight demo-seed --config $(DEMO_CONFIG)

preflight: demo-seed
	infra_scripts/spot_train.sh --preflight-only --transport local --config $(DEMO_CONFIG)

lint: $(DEV_STAMP) $(ASL_STAMP)
	$(VENV)/bin/shellcheck -x $(BASH_SCRIPTS) tests/bats/*.bash tests/bats/*.bats tests/*.sh .ci/run
	$(VENV)/bin/shellcheck -x -e SC2034 $(BASH_LIBS)
	$(VENV)/bin/ruff check preflight tests examples bench
	$(VENV)/bin/cfn-lint infra_scripts/cfn/*.yaml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/asl/node_modules/.bin/asl-validator --json-path $(ASL)

# A 3.9 host's tool venv: the probe's own requirements, arcticdb included. The probe test runs every check
# there, its children on a bare 3.9 project venv (tests/conftest.py bare_venv).
$(PY39_STAMP): preflight/probe-requirements.txt
	@if [ -z "$(PY39)" ]; then echo "make: no Python 3.9 found (looked for ~/.pyenv/versions/3.9.*/bin/python3.9" \
	  "and python3.9 on PATH); the probe must be tested on 3.9: install one (pyenv install 3.9)" >&2; exit 1; fi
	$(PY39) -m venv .venv39
	@$(call INSTALL,.venv39/bin/python,-r preflight/probe-requirements.txt)
	touch $@

# Workers, each with its own moto server: the ssm, plan and Step Functions tests mostly wait on moto,
# the SSM agent emulator and their subprocesses, so more workers than cores still pay.
PYTEST_WORKERS ?= 4
pytest: $(DEV_STAMP) $(PY39_STAMP)
	PREFLIGHT_REQUIRE_PY39=1 $(PY) -m pytest -n $(PYTEST_WORKERS) tests

# Every bats file at once, each in its own bats process (files share only the warm image, whose venvs
# and caches are built under locks); each file's output is printed whole when it ends.
bats: $(DEV_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" tests/parallel.sh 0 $(foreach f,$(wildcard tests/bats/*.bats),"bats --print-output-on-failure $(f)")

# The four parts at once once everything is installed and the shared test image is warm, each one's
# output whole when it ends; any failing part fails `make test` (tests/parallel.sh names it).
test: $(DEV_STAMP) $(ASL_STAMP) $(PY39_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" tests/warm_image.sh $(CURDIR)/$(PY)
	tests/parallel.sh 0 "$(MAKE) --no-print-directory lint" "$(MAKE) --no-print-directory pytest" \
	  "$(MAKE) --no-print-directory bats" "$(MAKE) --no-print-directory bench-smoke"

# The quick rows (≤10 min on an idle 2-core machine); bench-full adds the cold-install rows (pip and uv on
# empty caches, make preflight on fresh clones: ~15 min more, most of it downloading and installing).
bench: $(DEV_STAMP)
	$(PY) bench/run.py

bench-full: bench
	$(PY) bench/run.py --cold-installs

bench-smoke: $(DEV_STAMP)
	$(PY) bench/run.py --smoke

# A measure, not a gate (never part of make test): mutmut over the modules listed in bench/mutation.py (or
# MUTATION_MODULES), the fast tests of [tool.mutmut] in pyproject.toml, two mutants at a time, each module
# within 20 minutes.
MUTATION_STAMP := $(VENV)/.mutmut-installed
$(MUTATION_STAMP): $(DEV_STAMP)
	@$(call INSTALL,$(PY),mutmut==3.8.1)
	touch $@

mutation: $(MUTATION_STAMP)
	rm -rf mutants
	nice -n 10 $(PY) bench/mutation.py --max-children 2 --budget-s 1200 $(MUTATION_MODULES)

clean:
	rm -rf .preflight artifacts $(VENV) .venv39 mutants
