# tapzone — every target works on a fresh clone: the venv is created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test test-fast bench bench-daily soak scale demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Front-end files are npm dependencies (package.json, pinned by package-lock.json), copied into the static
# folder on install: never vendored into the repository.
VENDOR := src/tapzone/web/static/vendor
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js $(VENDOR)/
	touch $(VENDOR)/.installed

# The browser tests drive Debian's chromium (never `playwright install`, which downloads from elsewhere).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	APT=$$( [ "$$(id -u)" -eq 0 ] && echo apt-get || echo "sudo apt-get" ); \
	$$APT install -y -qq chromium || ($$APT update -qq && $$APT install -y -qq chromium)

install: $(STAMP) $(VENDOR)/.installed

## lint: ruff (lint + format check) on everything, mypy strict on src/
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## test: lint, then every suite; PostgreSQL runs when reachable (mandatory under CI=true)
test: lint $(CHROMIUM)
	$(BIN)/pytest

## test-fast: domain tests and SQLite only, for a quick loop while editing
test-fast: install
	$(BIN)/pytest -m "not postgres and not slow" tests/domain tests/usecases

## bench: benchmarks that print figures, each against a baseline measured in the same run
bench: install
	$(BIN)/python bench/driver_booking.py
	$(BIN)/python bench/http_booking.py
	$(BIN)/python bench/gate_taps.py
	$(BIN)/python bench/daily_job.py
	$(BIN)/python bench/summary.py

## bench-daily: the daily job alone: 100,000 card accounts, 10 % due, SQLite and PostgreSQL (about a minute)
bench-daily: install
	$(BIN)/python bench/daily_job.py

## soak: blind retries (10,000 writes on SQLite and PostgreSQL), 20 SIGKILLs of a busy server, a killed daily job
soak: install
	$(BIN)/python bench/soak.py

## scale: a chain with 1,000,000 media and 20,000,000 postings; sale/gate/report/daily figures against small-database ones
scale: install
	$(BIN)/python bench/scale.py

## demo: a fresh demo venue in ./var/demo.db, served with its docs on http://127.0.0.1:8000
DEMO_DB := var/demo.db
demo: install
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	TAPZONE_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/tapzone db upgrade
	TAPZONE_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/tapzone demo --env-file var/demo.env
	@# The restaurant till's integrated card terminal is a ZVT simulator on 127.0.0.1:20007, stopped with the server.
	@# TAPZONE_PORTAL_SIMULATOR=1 serves the simulated online-payment page behind the portal's top-up.
	$(BIN)/tapzone zvt-sim --port 20007 > var/zvt-sim.log 2>&1 & ZVT_PID=$$!; trap 'kill $$ZVT_PID' EXIT INT TERM; \
	TAPZONE_PORTAL_SIMULATOR=1 TAPZONE_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/tapzone serve --host 127.0.0.1 --port 8000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
