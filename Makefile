# Two commands: `make run` (serve the app with demo data) and `make test` (everything, browser
# tests included). Both set up what they need on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt
HOST ?= 127.0.0.1
PORT ?= 5000
# Tests run in parallel, one worker per core (each with its own database and live server).
# The 25 slowest are listed at the end: where the suite's time budget goes (docs/testing.md).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=25
# The suite's processes write and reuse bytecode (in __pycache__, ignored by git) even where
# the environment sets PYTHONDONTWRITEBYTECODE: otherwise each worker, which collects every
# test, compiles our modules and rewrites the tests' asserts anew (collecting took 12 s of CPU
# a worker instead of 6), and so does each process a test starts.
test test-unit test-browser test-postgres: export PYTHONDONTWRITEBYTECODE :=

.PHONY: run serve test lint mypy-baseline format test-unit test-browser test-postgres install install-dev browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

$(VENV)/.installed-run: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the suite runs for real: Chromium for the browser tests (its headless shell,
# which they use, and the full browser for --headed), Redis for the rate limits shared between
# machines.
browser-deps: node_modules/.installed
	scripts/install-debian-packages.sh chromium chromium-headless-shell fonts-liberation redis-server

# Card payments: with no STRIPE_SECRET_KEY in the environment, `make run` starts localstripe
# (a fake Stripe; GPL, a development dependency only, never shipped) on this loopback port,
# points the app's SDK and Stripe.js at it and has it send its webhooks to the app
# (docs/payments.md). With the key set, the app talks to Stripe itself.
LOCALSTRIPE_PORT ?= 8420
LOCALSTRIPE_WEBHOOK_SECRET := whsec_localstripe

# localstripe alone, not the whole dev extra: `make run` needs nothing else of it.
$(VENV)/.installed-localstripe: requirements/constraints.txt | $(BIN)/python
	$(PIP_INSTALL) localstripe
	touch $@

## Set up, migrate, seed the demo county (idempotent) and serve on http://$(HOST):$(PORT)
# The demo county takes top-ups by card, so its budget holder can pay a shortfall; a council
# chooses (CARD_TOP_UPS_ALLOWED=0 make run shows the other choice).
run: export CARD_TOP_UPS_ALLOWED ?= 1
run: $(VENV)/.installed-run $(if $(STRIPE_SECRET_KEY),,$(VENV)/.installed-localstripe)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) search sync
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl-C to stop)"
ifeq ($(STRIPE_SECRET_KEY),)
	@echo "Card payments at localstripe, http://127.0.0.1:$(LOCALSTRIPE_PORT) (STRIPE_SECRET_KEY is not set)"
	$(BIN)/python scripts/localstripe_server.py --port $(LOCALSTRIPE_PORT) \
		--state-file "$${INSTANCE_PATH:-instance}/localstripe.pickle" \
		--webhook-url http://$(HOST):$(PORT)/webhooks/stripe \
		--webhook-secret $(LOCALSTRIPE_WEBHOOK_SECRET) & \
	trap 'kill $$! 2>/dev/null' EXIT; \
	STRIPE_API_BASE=http://127.0.0.1:$(LOCALSTRIPE_PORT) \
	STRIPE_WEBHOOK_SECRET=$(LOCALSTRIPE_WEBHOOK_SECRET) \
	$(FLASK) run --host $(HOST) --port $(PORT)
else
	$(FLASK) run --host $(HOST) --port $(PORT)
endif

## Lint, then the whole suite (browser tests included) on SQLite
test: lint browser-deps
	$(PYTEST)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/mypy_baseline.py

## Rewrite mypy-baseline.txt (after fixing type errors; see scripts/mypy_baseline.py)
mypy-baseline: $(VENV)/.installed-dev
	$(BIN)/python scripts/mypy_baseline.py --update

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-unit: $(VENV)/.installed-dev
	$(PYTEST) -m "not browser"

test-browser: $(VENV)/.installed-dev browser-deps
	$(PYTEST) -m browser

## The whole suite against a throw-away PostgreSQL server (installed from Debian if missing)
test-postgres: $(VENV)/.installed-dev browser-deps
	scripts/install-debian-packages.sh postgresql
	scripts/with-postgres.sh $(PYTEST)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache .mypy_cache
