# Thin targets over scripts/setup.sh and the catalog-view CLI.
.PHONY: setup demo test lint unit e2e verify bench bench-full up down status

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/catalog-view demo

test: setup lint
	.venv/bin/pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

unit: setup
	.venv/bin/pytest -m unit

e2e: setup
	.venv/bin/pytest -m e2e

verify: setup
	.venv/bin/catalog-view verify --transactions 2000 --parallelism 4 --json

# Scenarios B1-B5 with the baselines; the report goes to bench/results/.
bench: setup
	.venv/bin/catalog-view bench

bench-full: setup
	.venv/bin/catalog-view bench --scale full

up: setup
	.venv/bin/catalog-view stack up

down:
	.venv/bin/catalog-view stack down

status:
	.venv/bin/catalog-view stack status
