# Industrie. Neu. Denken. – developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY := .venv/bin/python

.PHONY: help
help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

.venv: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	@touch .venv

.PHONY: install
install: .venv ## install Python dependencies into .venv (from uv.lock)

.PHONY: run
run: .venv ## start everything locally with demo data (PostgreSQL, Redis, SeaweedFS, mail catcher, API, worker)
	$(PY) infra/local.py up

.PHONY: stop
stop: ## stop the API, worker, SeaweedFS and mail catcher started by `make run`
	$(PY) infra/local.py stop

.PHONY: status
status: ## show which local services run
	$(PY) infra/local.py status

.PHONY: lint
lint: .venv ## ruff and mypy (strict)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

.PHONY: chromium
chromium: ## Debian's Chromium for the browser tests (installed when missing; needs root or sudo)
	@if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null 2>&1; then \
		if [ "$$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver; \
	fi

.PHONY: test
test: lint node_modules chromium ## the whole test suite (lint, type check, API, browser and accessibility tests on the real services)
	$(PY) infra/local.py machine
	.venv/bin/pytest -m "not slow"; status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

.PHONY: chaos
chaos: .venv ## fault injection: PostgreSQL restart under load, object store outage, worker killed mid-run
	$(PY) infra/local.py machine
	.venv/bin/pytest -m slow -s tests/chaos; status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

.PHONY: bench
bench: .venv ## the performance scenarios, with their baselines (see docs/benchmarks.md)
	$(PY) -m bench.run
