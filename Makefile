# Plateforme des achats — developer entry points. `make run` and `make test` are the two that matter.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every installable distribution of the repository; a new service is picked up by its folder.
DISTS := libs/chassis[testing] libs/chassis-testing gateway $(sort $(wildcard services/*)) web assistant
PYPROJECTS := $(wildcard libs/*/pyproject.toml gateway/pyproject.toml services/*/pyproject.toml web/pyproject.toml assistant/pyproject.toml)
PYTEST_ARGS ?=

.PHONY: help install run agent admin test lint unit services bench constraints clean assistant-zipapp

help:
	@echo "make run     start the whole platform in one process (http://localhost:8080)"
	@echo "make agent   a support agent of the make run platform: LOGIN=... EMAIL=... FIRST_NAME=... LAST_NAME=..."
	@echo "make admin   a platform administrator of it, the same variables (the password is asked)"
	@echo "make test    lint + every test against real PostgreSQL and RabbitMQ (started if needed)"
	@echo "make bench   benchmarks, one JSON line each"
	@echo "make lint    ruff"
	@echo "make assistant-zipapp   dist/achats-assistant.pyz: « Mon Assistant Marchés Publics » in one file (this OS)"

$(VENV)/.installed: constraints.txt requirements-dev.txt $(PYPROJECTS) web/package-lock.json
	scripts/ensure-python.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt \
		$(foreach d,$(DISTS),-e '$(d)') -r requirements-dev.txt
	scripts/ensure-deploy-tools.sh
	scripts/ensure-web-assets.sh
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python deploy/local/launcher.py

# A support agent (make agent) or platform administrator (make admin) of the `make run` platform: identity's
# create-agent/create-admin on its state (var/, or ACHATS_VAR), with the launcher's embedded defaults.
# The password is asked at the terminal (PASSWORD=... also works, but stays in the shell's history).
agent admin: install
	$(BIN)/python deploy/local/launcher.py command identity create-$@ $${LOGIN:+--login "$$LOGIN"} \
		$${EMAIL:+--email "$$EMAIL"} $${FIRST_NAME:+--first-name "$$FIRST_NAME"} \
		$${LAST_NAME:+--last-name "$$LAST_NAME"} $${PASSWORD:+--password "$$PASSWORD"}

services:
	scripts/ensure-services.sh

lint: install
	$(BIN)/ruff check .

test: install services lint
	scripts/ensure-browser.sh
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install services
	scripts/ensure-bench-tools.sh
	@set -e; for script in bench/*.py; do $(BIN)/python $$script; done

# « Mon Assistant Marchés Publics » as one file with its dependencies (shiv). python-pkcs11 and cryptography are
# compiled: the file runs on the OS and Python version (3.11+) it was built on; build it on each.
assistant-zipapp: install
	mkdir -p dist
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/shiv --console-script achats-assistant --compressed \
		--python '/usr/bin/env python3' --output-file dist/achats-assistant.pyz ./assistant
	@ls -l dist/achats-assistant.pyz

# Re-pin every third-party dependency to what the venv has now.
constraints: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^achats-' > constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
