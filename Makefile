# Everything a fresh machine needs is installed from here: Python 3.11, Java 17 and Maven
# must be on the PATH; the rest (virtual environment, packages, Kafka jars) comes from the
# package registries on first use.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup test test-fast lint format demo up bench bench-all clean kafka-jars deploy-tools \
	test-containers
.PHONY: monitoring monitoring-tools
.PHONY: bench-tools
.PHONY: test-reliability

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,deploy,monitoring]'
	touch $(STAMP)

kafka-jars: setup
	$(BIN)/bria-fleet kafka fetch

## The deployment checks' tools: podman, runc, mmdebstrap (apt) and helm (Go) into .cache/tools.
deploy-tools:
	bash tools/install-container-tools.sh

## The whole suite: unit tests, integration tests on a real Kafka broker, the monitoring
## rules and dashboards on a real Prometheus, and the chart, compose file and images checked
## and run under podman.
test: setup kafka-jars deploy-tools monitoring-tools
	$(BIN)/python -m pytest

## Only the fast tests that need no broker and no containers.
test-fast: setup deploy-tools
	$(BIN)/python -m pytest -m "not integration and not containers"

## The fleet reliability suite at full size (kills, scale-up and leave during 20 s calls,
## broker restart, API storm, stop reasons, pipelines, secrets; about 10 minutes), and the
## hostile-input corpus on a real broker. A smaller slice of the suite runs in `make test`.
## Figures: .cache/reliability/figures-full.json.
test-reliability: setup kafka-jars
	RELIABILITY_SCALE=full $(BIN)/python -m pytest tests/reliability tests/hostile -m "not containers"

## Only the tests that build and run the images, the chart and the compose file in podman.
test-containers: setup kafka-jars deploy-tools
	$(BIN)/python -m pytest -m containers

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
	$(BIN)/python benchmarks/observability_overhead.py

## py-spy, for profiling the benchmarks' workers (BENCH_PY_SPY_DIR=..., watch_scale.py --profile).
bench-tools: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'

## Every benchmark: throughput, replicas (scale-out, rebalance), watching thousands of
## operations, webhook detection delay (the whole set takes about an hour).
bench-all: bench
	$(BIN)/python benchmarks/replicas.py
	$(BIN)/python benchmarks/watch_scale.py
	$(BIN)/python benchmarks/webhook_detection.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --cache-dir .cache/import-linter

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## promtool and the Prometheus server for the monitoring tests (Debian's prometheus package;
## its service is not left running).
monitoring-tools:
	bash monitoring/install-prometheus.sh

## Regenerate the dashboards and rules in helm/bria-fleet/files/ from monitoring/.
monitoring: setup
	PYTHONPATH=monitoring $(BIN)/python -m bria_fleet_monitoring.generate

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
