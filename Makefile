# The two commands a newcomer needs: `make run` (the local stack) and `make test`.
# Each installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 3000
export AWS_DEFAULT_REGION ?= eu-north-1
export SAM_CLI_TELEMETRY = 0

.PHONY: run test lint typecheck bench build clean

$(VENV)/.installed-local: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[local]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed-local

run: $(VENV)/.installed-local  ## start the local stack on http://127.0.0.1:$(PORT)
	$(VENV)/bin/vegskriv local --port $(PORT)

test: $(VENV)/.installed-dev  ## ruff, mypy, sam validate --lint, pytest
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION)
	$(VENV)/bin/pytest

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev  ## print throughput and latency figures
	$(VENV)/bin/python scripts/bench.py

.PHONY: fuzz
fuzz: $(VENV)/.installed-dev  ## schemathesis against a fresh local stack; counts requests and 5xx (not in make test)
	$(VENV)/bin/python -m vegskriv.local.fuzz

build: $(VENV)/.installed-dev  ## sam build (needs python3.12 on PATH)
	$(VENV)/bin/sam build

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache
