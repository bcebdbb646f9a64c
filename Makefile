# Two commands do all the set-up on a fresh Debian/Ubuntu machine with python3, git and make:
#   make demo   — virtualenv, install, then the main job on the embedded default (example config repo)
#   make test   — virtualenv with test dependencies, system components (as root), then the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: venv demo test lint typecheck system tools clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

venv: $(VENV)/.installed

system:
	bash scripts/setup-system.sh

tools: system
	@if [ -f scripts/install-helm.sh ]; then bash scripts/install-helm.sh; fi

demo: venv
	bash scripts/setup-system.sh demo
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/.tools/bin:$$PATH" $(PY) scripts/demo.py

lint: venv
	$(VENV)/bin/ruff check gitops tests bench scripts
	$(VENV)/bin/ruff format --check gitops tests bench scripts
	$(VENV)/bin/zizmor --offline --min-severity low .github/workflows
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/actionlint

typecheck: venv
	$(VENV)/bin/mypy

test: venv tools lint typecheck
	PATH="$(CURDIR)/$(VENV)/bin:$(CURDIR)/.tools/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .tools .demo .pytest_cache .mypy_cache .ruff_cache
