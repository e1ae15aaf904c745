# The two commands a newcomer needs: `make run` (the local stack) and `make test`.
# Each installs what it needs into .venv first.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 3000
export AWS_DEFAULT_REGION ?= eu-north-1
export SAM_CLI_TELEMETRY = 0

.PHONY: run test chromium screenshots lint typecheck bench build rehearse clean token

$(VENV)/.installed-local: pyproject.toml
	@echo "Installing vegskriv and the local stack's dependencies into $(VENV) (first time: 1-2 minutes, quiet)..." >&2
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[local]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	@echo "Installing vegskriv and the dev tools (pytest, mypy, ruff, sam) into $(VENV) (first time: 2-3 minutes, quiet)..." >&2
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed-local

run: $(VENV)/.installed-local  ## start the local stack on http://127.0.0.1:$(PORT)
	$(VENV)/bin/vegskriv local --port $(PORT)

# export VEGSKRIV_TOKEN=$$(make -s token)   or   make -s token TOKEN_USER=admin TOKEN_ROLES="9_system_admin"
TOKEN_USER ?= olanor
TOKEN_ROLES ?= 0_bruker_fagdata
token: $(VENV)/.installed-local  ## print a dev token the local stack accepts
	@$(VENV)/bin/vegskriv token --user $(TOKEN_USER) $(foreach role,$(TOKEN_ROLES),--role $(role))

test: $(VENV)/.installed-dev chromium  ## ruff, mypy, sam validate --lint, deploy rehearsal, pytest (with the browser tests)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/sam validate --lint --region $(AWS_DEFAULT_REGION)
	$(VENV)/bin/python scripts/rehearse_deploy.py
	$(VENV)/bin/pytest -rs  # -rs: say why a test skipped (e.g. the browser tests without chromium)

rehearse: $(VENV)/.installed-dev  ## every handler under Python 3.12 with only the built layer + boto3
	$(VENV)/bin/python scripts/rehearse_deploy.py

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

bench: $(VENV)/.installed-dev  ## print throughput, latency and billed-request figures (ARGS="--only e2e")
	$(VENV)/bin/python -m bench $(ARGS)

# sam build needs a python3.12 on PATH; find one (PATH, pyenv, $$PYTHON312) and put its directory first.
build: $(VENV)/.installed-dev  ## sam build
	@py="$$($(VENV)/bin/python scripts/rehearse_deploy.py --find-python)" && echo "sam build with $$py" && \
	  PATH="$$(dirname "$$py"):$$PATH" $(VENV)/bin/sam build

.PHONY: fuzz
fuzz: $(VENV)/.installed-dev  ## schemathesis against a fresh local stack; counts requests and 5xx (not in make test)
	$(VENV)/bin/python -m vegskriv.local.fuzz


clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache

# The browser tests (tests/browser) drive Debian's chromium; Playwright never downloads one here.
chromium:  ## install chromium with apt-get when missing and root; else say how (the browser tests then skip)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "Installing chromium for the browser tests (apt-get, ~1 min)"; \
	      apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || \
	      echo "chromium could not be installed: the browser tests will skip"; \
	    else echo "chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests skip without it)"; fi; }

screenshots: $(VENV)/.installed-dev chromium  ## regenerate docs/img/*.png from the browser tests
	VEGSKRIV_SCREENSHOTS=$(CURDIR)/docs/img $(VENV)/bin/pytest tests/browser -q
