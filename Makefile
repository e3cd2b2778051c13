# The verbs a newcomer looks for. Every target is safe to run again.
PY := .venv/bin/python
GRADER := .venv/bin/grader

.PHONY: setup engine image images demo test test-fast lint bench stack clean

setup:
	bash scripts/setup.sh

engine: setup
	bash scripts/ensure-docker.sh

image: engine
	$(GRADER) images build python

## Every runner image (six languages) and the database images, built once up front.
images: engine
	$(GRADER) images build all

## Grade a sample submission (a candidate's buggy rate limiter) in the Docker sandbox.
demo: image
	$(GRADER) run challenges/rate-limiter examples/rate-limiter-candidate

## Everything: unit, Docker integration, security, service (starts Docker, Redis, PostgreSQL).
test: images
	$(PY) -m pytest

## Unit tests only (no Docker, no services).
test-fast: setup
	$(PY) -m pytest -m "not docker and not service and not security and not browser and not slow"

lint: setup
	.venv/bin/ruff check grader runners api tests bench
	.venv/bin/ruff format --check grader runners api tests bench
	.venv/bin/mypy

## Benchmarks: each prints its figures and the ratio against its in-run baseline.
bench: image
	$(PY) bench/engine_bench.py
	$(PY) bench/rpc_bench.py
	$(PY) bench/analysis_bench.py
	$(PY) bench/service_bench.py
	$(PY) bench/similarity_bench.py
	$(PY) bench/report_bench.py
	$(PY) bench/perf_stability_bench.py

## The composed service (needs .env: cp deploy/.env.example .env and set the secrets).
stack: image
	bash deploy/build.sh
	docker-compose up -d --scale worker=2

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache *.egg-info
