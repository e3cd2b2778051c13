# The verbs a newcomer looks for. Every target is safe to run again.
PY := .venv/bin/python
GRADER := .venv/bin/grader

.PHONY: setup engine image demo test test-fast lint bench clean

setup:
	bash scripts/setup.sh

engine: setup
	bash scripts/ensure-docker.sh

image: engine
	$(GRADER) images build

## Grade a sample submission (a candidate's buggy rate limiter) in the Docker sandbox.
demo: image
	$(GRADER) run challenges/rate-limiter examples/rate-limiter-candidate

## Everything: unit, Docker integration, security, service (starts Docker, Redis, PostgreSQL).
test: image
	$(PY) -m pytest

## Unit tests only (no Docker, no services).
test-fast: setup
	$(PY) -m pytest -m "not docker and not service and not security and not browser and not slow"

lint: setup
	.venv/bin/ruff check grader runners api tests
	.venv/bin/mypy

bench: image
	$(PY) bench/run_bench.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache *.egg-info
