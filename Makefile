# tapzone — every target works on a fresh clone: the venv is created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test test-fast bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## lint: ruff (lint + format check) on everything, mypy strict on src/
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## test: lint, then every suite; PostgreSQL runs when reachable (mandatory under CI=true)
test: lint
	$(BIN)/pytest

## test-fast: domain tests and SQLite only, for a quick loop while editing
test-fast: install
	$(BIN)/pytest -m "not postgres and not slow" tests/domain tests/usecases

## bench: benchmarks that print figures, each against a baseline measured in the same run
bench: install
	$(BIN)/python bench/driver_booking.py

demo:
	@echo "make demo needs the HTTP API and the demo venue, which arrive with issue 3 (API and demo)." >&2
	@echo "Until then: '$(BIN)/tapzone db upgrade' and the 'tapzone venue' commands set up a venue." >&2
	@exit 1

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
