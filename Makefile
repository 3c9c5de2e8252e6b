# didportal: `make run` serves the portal with demo data, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# pytest-xdist workers for `make test`: one per core on PostgreSQL (DATABASE_URL set); serial on
# the embedded SQLite, where a live-server browser test under xdist was seen to hang.
PYTEST_WORKERS ?= $(if $(DATABASE_URL),auto,0)
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint format bench faults worker beat migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

migrate: $(STAMP_RUN)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@bin/run-embedded $(PORT)

test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

format: $(STAMP_TEST)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP_TEST)
	$(BIN)/python -m bench

# Fault runs against real processes (gunicorn, Celery worker and beat, Redis, PostgreSQL):
# bench/faults.json; fails if a figure the money path promises is not 0.
faults: $(STAMP_TEST)
	$(BIN)/python -m faults

worker: $(STAMP_RUN)
	$(BIN)/celery -A didportal worker --loglevel=INFO

beat: $(STAMP_RUN)
	$(BIN)/celery -A didportal beat --loglevel=INFO --schedule var/celerybeat-schedule

clean:
	rm -rf $(VENV) var
