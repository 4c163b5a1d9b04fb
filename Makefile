# Project Catalyst: `make run` serves the app, `make test` runs the suite.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
# Browser tests use this Chromium; they are skipped when it is absent.
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || command -v google-chrome || true)

.PHONY: run serve superuser test test-setup test-sqlite test-mongo lint format setup migrate mongo-migrations bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# axe-core for the accessibility journeys (package.json), a test tool only: nothing the
# app serves is built with Node. Without npm those journeys are skipped.
NPM ?= $(shell command -v npm || true)

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

test-setup: setup $(if $(NPM),node_modules/.package-lock.json)

migrate: setup
	$(PY) manage.py migrate --noinput

# DEBUG is on for `make run` unless the environment says otherwise.
run: export DEBUG ?= 1
run: setup
	$(PY) -m catalyst.local_env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py ensure_demo_user
	@echo "Serving Project Catalyst on http://$(HOST):$(PORT)/"
	$(VENV)/bin/uvicorn catalyst.asgi:application --host $(HOST) --port $(PORT) --lifespan on --no-proxy-headers --timeout-graceful-shutdown 5

# The production configuration: DEBUG off (SECRET_KEY, ALLOWED_HOSTS and EMAIL_BACKEND must be
# set), WEB_CONCURRENCY workers, and a graceful stop: open streams get GRACEFUL_TIMEOUT seconds,
# then replies still being written save their text, ready to continue. The workers add up
# their metrics in PROMETHEUS_MULTIPROC_DIR, emptied of the last run's figures first.
WEB_CONCURRENCY ?= 2
GRACEFUL_TIMEOUT ?= 20
serve: export DEBUG = 0
serve: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/.metrics
serve: setup
	mkdir -p "$$PROMETHEUS_MULTIPROC_DIR" && find "$$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/uvicorn catalyst.asgi:application --host $(HOST) --port $(PORT) --workers $(WEB_CONCURRENCY) --lifespan on --no-proxy-headers --no-server-header --no-access-log --timeout-graceful-shutdown $(GRACEFUL_TIMEOUT)

# An admin account for /admin/ (after `make run` has written .env).
superuser: setup
	$(PY) -m catalyst.local_env
	$(PY) manage.py createsuperuser

# The whole suite on each store: SQLite, then a throwaway SecantusDB server.
test: test-sqlite test-mongo

test-sqlite: test-setup
	CHROMIUM="$(CHROMIUM)" DATABASE_URL= $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

# SecantusDB runs as its own process on a free port and is stopped however the run ends.
test-mongo: test-setup
	CHROMIUM="$(CHROMIUM)" $(PY) -m tests.mongo_server -- $(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the MongoDB migration set after changing a model (no server needed).
mongo-migrations: setup
	DEBUG=1 $(PY) manage.py makemigrations
	$(PY) -m mongo_migrations

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache

# Latency and throughput of the hot pages, as ratios to /api/health; with
# PEERBENCH (the peerbench harness's folder) also the stream benchmarks
# against the harness's floor (bench/README.md).
bench: setup
	$(PY) -m bench.run
ifdef PEERBENCH
	PEERBENCH="$(PEERBENCH)" $(PY) -m bench.streams
else
	@echo "Stream figures: PEERBENCH=<folder of the peerbench harness> make bench (see bench/README.md)."
endif
