# Every target bootstraps its own environment: a fresh machine needs only python3 (>= 3.11).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
VENV := .venv
RUN := $(UV) run --frozen --no-sync
export UV_PYTHON_DOWNLOADS := never
export UV_SYSTEM_CERTS := 1

.PHONY: help lock install test test-all lint typecheck unit fmt demo bench schemas clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced ## create .venv from uv.lock

lock: | $(UV) ## re-resolve uv.lock after changing pyproject.toml
	$(UV) lock --python $(PYTHON)

lint: install ## ruff check + ruff format --check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install ## mypy --strict over contracts, services, infra, cli and bench
	$(RUN) mypy contracts services infra cli bench

unit: install ## pytest (fast tests)
	$(RUN) pytest

test: lint typecheck unit ## everything CI runs

test-all: install ## pytest including slow tests
	$(RUN) pytest -m ""

fmt: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

demo: install ## run the whole system on the local cloud (no AWS account needed)
	$(RUN) python -m cli demo

bench: install ## run the benchmarks (BENCH_ARGS="--quick" for a smoke run); see docs/BENCHMARKS.md
	$(RUN) python -m bench $(BENCH_ARGS)

schemas: install ## regenerate contracts/schemas/*.json from the models
	$(RUN) python -m contracts.schema_export

clean: ## remove the environment and caches
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache .bench
