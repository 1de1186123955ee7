# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck check-migrations bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/atelier db upgrade
	$(BIN)/atelier serve

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The models and the migrations must agree (on a throwaway SQLite database).
check-migrations: $(STAMP)
	rm -rf .ci-migrations && ATELIER_DATA_DIR=.ci-migrations $(BIN)/atelier db upgrade
	ATELIER_DATA_DIR=.ci-migrations $(BIN)/alembic check
	rm -rf .ci-migrations

bench: $(STAMP)
	$(BIN)/python bench/crud.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
