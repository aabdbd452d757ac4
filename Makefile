# Everything a fresh machine needs is installed from here: Python 3.11, Java 17 and Maven
# must be on the PATH; the rest (virtual environment, packages, Kafka jars) comes from the
# package registries on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup test test-fast lint format demo up bench clean kafka-jars

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

kafka-jars: setup
	$(BIN)/bria-fleet kafka fetch

## The whole suite: unit tests and integration tests on a real Kafka broker.
test: setup kafka-jars
	$(BIN)/python -m pytest

## Only the fast tests that need no broker.
test-fast: setup
	$(BIN)/python -m pytest -m "not integration"

## Everything from nothing: a local Kafka broker, the API simulator, the workers, one job
## of every generation op, then everything stopped again.
demo: setup kafka-jars
	$(BIN)/bria-fleet demo

## The fleet in the foreground until Ctrl-C.
up: setup kafka-jars
	$(BIN)/bria-fleet up

## Generation throughput against the ideal and a bare loop (a few minutes).
bench: setup kafka-jars
	$(BIN)/python benchmarks/generation_throughput.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --cache-dir .cache/import-linter

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
