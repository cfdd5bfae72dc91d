# Deskpilot: `make run` serves the product with demo data; `make test` runs every check.
# Everything the two need is installed here; nothing has to be installed by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DESKPILOT_TESTDATA ?= $(abspath ../shared/testdata)

# Demo data loaded on the first `make run` (when the database has no users).
DEMO_TICKETS ?= 3000
DEMO_DAYS ?= 90

.PHONY: help setup run test lint typecheck pytest pytest-sqlite pytest-postgres bench browser-deps mail-deps test-deps clean

help:
	@echo "make run    - install everything, migrate, load demo data on first run, serve on http://127.0.0.1:$${PORT:-8000}"
	@echo "make test   - lint, type checks and the whole test suite (SQLite, then PostgreSQL when DESKPILOT_TEST_DATABASE_URL is set)"
	@echo "make bench  - performance benchmarks on a large demo database; figures go to docs/performance.md"
	@echo "Set FAST=1 to skip slow tests (browser, servers) locally: make test FAST=1"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# requirements-insights.txt: the sentence-embedding model for feedback themes (CPU torch 2.13.0).
$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt requirements-insights.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements-dev.txt -r requirements-insights.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Browser tests drive Debian's chromium; Playwright's own browser download is not used.
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

# The IMAP tests run Debian's dovecot on loopback with a throw-away configuration; the system
# service is never started or used.
mail-deps:
	@if [ ! -x /usr/sbin/dovecot ]; then \
		echo "Installing Debian's dovecot for the IMAP tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dovecot-imapd >/dev/null; \
	fi

test-deps: browser-deps mail-deps

setup: $(VENV)/.installed node_modules/.installed

run: setup
	$(BIN)/deskpilot migrate
	$(BIN)/deskpilot demo-data --if-empty --tickets $(DEMO_TICKETS) --days $(DEMO_DAYS)
	$(BIN)/deskpilot serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

PYTEST_ARGS ?=
ifdef FAST
PYTEST_ARGS += -m "not slow"
endif

pytest-sqlite: setup test-deps
	@echo "=== pytest on SQLite ==="
	env -u DATABASE_URL -u DESKPILOT_REDIS_URL $(BIN)/pytest -n 2 $(PYTEST_ARGS)

pytest-postgres: setup test-deps
	@if [ -n "$$DESKPILOT_TEST_DATABASE_URL" ]; then \
		echo "=== pytest on PostgreSQL ($$DESKPILOT_TEST_DATABASE_URL) ==="; \
		env -u DESKPILOT_REDIS_URL DATABASE_URL="$$DESKPILOT_TEST_DATABASE_URL" $(BIN)/pytest -n 2 $(PYTEST_ARGS); \
	else echo "DESKPILOT_TEST_DATABASE_URL is not set: skipping the PostgreSQL run"; fi

pytest: pytest-sqlite pytest-postgres

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules
